import type { Database } from '../../db/client.js';
import type { UserId } from '../../db/ids.js';
import {
  appendMessage,
  lastMessageOfSessions,
  lastMessages,
  type ChatMessage,
  type StoredMessage,
} from '../../db/queries/messages.js';
import {
  abandonSession,
  getActiveSession,
  getSession,
  listUserSessions,
  startSession,
  type SessionSummary,
  type TrainingSession,
} from '../../db/queries/sessions.js';
import type { RunQuery } from '../../db/retry.js';
import type { Difficulty, ScenarioCatalog } from '../scenarios.js';
import type { ActiveTraining } from './types.js';

/** How many users' active sessions are remembered between their turns. */
const activeCacheSize = 10_000;

/** A session's last message when it passes `test`: how a write whose answer was lost is recognised. */
export async function lastMessageIf(
  db: Database,
  sessionId: TrainingSession['id'],
  test: (last: StoredMessage) => boolean,
): Promise<StoredMessage | undefined> {
  const [last] = await lastMessageOfSessions(db, [sessionId]);
  return last && test(last) ? last : undefined;
}

/** Starting, finding and leaving sessions, and what a trainee looks back on. */
export class TrainingSessions {
  /**
   * Each user's active session (or null: none), written through on start, abandon and finish.
   * Postgres stays the truth; this spares a query per turn. Sound because one process polls Telegram.
   */
  private readonly activeByUser = new Map<UserId, ActiveTraining | null>();

  constructor(
    private readonly query: RunQuery,
    private readonly scenarios: ScenarioCatalog,
  ) {}

  /** Starts a session; the client's opening line is stored as its first message. */
  async start(
    userId: UserId,
    scenarioKey: string,
    difficulty: Difficulty,
  ): Promise<ActiveTraining & { openingLine: string; openingLineId: number }> {
    const scenario = this.scenarios.get(scenarioKey);
    this.activeByUser.delete(userId);
    // Called only without an active session, so one of this scenario and level found on a retry is ours.
    const session = await this.query(
      'start a session',
      (db) => startSession(db, userId, scenario.key, difficulty),
      async (db) => {
        const active = await getActiveSession(db, userId);
        return active?.scenarioKey === scenario.key && active.difficulty === difficulty ? active : undefined;
      },
    );
    this.remember(userId, { session, scenario });
    const openingLine = scenario.persona.openingLine;
    const stored = await this.query(
      'store the opening line',
      async (db) => (await appendMessage(db, session.id, 'assistant', openingLine)).message,
      (db) => lastMessageIf(db, session.id, (last) => last.role === 'assistant'),
    );
    return { session, scenario, openingLine, openingLineId: stored.id };
  }

  async active(userId: UserId): Promise<ActiveTraining | undefined> {
    const cached = this.activeByUser.get(userId);
    if (cached !== undefined) return cached ?? undefined;
    const session = await this.query('find the active session', (db) => getActiveSession(db, userId));
    const training = session ? { session, scenario: this.scenarios.get(session.scenarioKey) } : undefined;
    this.remember(userId, training ?? null);
    return training;
  }

  /** Abandons the user's active session, if any; true when one was abandoned. */
  async abandon(userId: UserId): Promise<boolean> {
    this.activeByUser.delete(userId);
    const session = await this.query('find the active session', (db) => getActiveSession(db, userId));
    if (!session) return false;
    return this.query(
      'abandon the session',
      (db) => abandonSession(db, session.id, userId),
      async (db) => ((await getSession(db, session.id))?.status === 'abandoned' ? true : undefined),
    );
  }

  /** Forgets what is cached of a user (they were erased, here or by another process, or their session ended). */
  forget(userId: UserId): void {
    this.activeByUser.delete(userId);
  }

  /** Forgets every cached session (erasures may have been missed). */
  forgetAll(): void {
    this.activeByUser.clear();
  }

  /** Remembers that the user has no active session (it was just finished). */
  rememberNone(userId: UserId): void {
    this.remember(userId, null);
  }

  private remember(userId: UserId, training: ActiveTraining | null): void {
    this.activeByUser.delete(userId);
    this.activeByUser.set(userId, training);
    if (this.activeByUser.size > activeCacheSize) this.activeByUser.delete(this.activeByUser.keys().next().value!);
  }

  /** The latest `turns` lines of the dialogue, oldest first, without turns in which nothing was heard: what /hint reads. */
  dialogueSoFar(sessionId: TrainingSession['id'], turns = 20): Promise<ChatMessage[]> {
    return this.query('read the dialogue', (db) => lastMessages(db, sessionId, turns));
  }

  /** The user's last sessions with scores, newest first. */
  async history(userId: UserId, limit = 10): Promise<Array<SessionSummary & { scenarioTitle: string }>> {
    const sessions = await this.query('list the sessions', (db) => listUserSessions(db, userId, limit));
    return sessions.map((s) => ({ ...s, scenarioTitle: this.scenarios.find(s.scenarioKey)?.title ?? s.scenarioKey }));
  }
}
