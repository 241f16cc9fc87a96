import { and, desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { SessionId, UserId } from '../ids.js';
import { evaluations, messages, sessions } from '../schema.js';

export type TrainingSession = typeof sessions.$inferSelect;

/** The user already has an active session; it must be finished or abandoned first. */
export class ActiveSessionExistsError extends Error {
  constructor(readonly active: TrainingSession) {
    super(`user ${active.userId} already has active session ${active.id}`);
    this.name = 'ActiveSessionExistsError';
  }
}

/** Starts a training session; refuses while another one of the same user is active. */
export async function startSession(
  db: Database,
  userId: UserId,
  scenarioKey: string,
  difficulty: string,
): Promise<TrainingSession> {
  const [created] = await db
    .insert(sessions)
    .values({ userId, scenarioKey, difficulty })
    .onConflictDoNothing({ target: sessions.userId, where: sql`${sessions.status} = 'active'` })
    .returning();
  if (created) return created;
  const active = await getActiveSession(db, userId);
  if (!active) throw new Error(`session for user ${userId} conflicted but no active session was found`);
  throw new ActiveSessionExistsError(active);
}

export async function getActiveSession(db: Database, userId: UserId): Promise<TrainingSession | undefined> {
  const [active] = await db
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), eq(sessions.status, 'active')))
    .limit(1);
  return active;
}

export async function getSession(db: Database, sessionId: SessionId): Promise<TrainingSession | undefined> {
  const [session] = await db.select().from(sessions).where(eq(sessions.id, sessionId)).limit(1);
  return session;
}

/** Marks an active session abandoned; false when it was no longer active. */
export async function abandonSession(db: Database, sessionId: SessionId, userId: UserId): Promise<boolean> {
  const updated = await db
    .update(sessions)
    .set({ status: 'abandoned', finishedAt: new Date() })
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), eq(sessions.status, 'active')))
    .returning({ id: sessions.id });
  return updated.length > 0;
}

export interface SessionSummary {
  readonly id: SessionId;
  readonly scenarioKey: string;
  readonly difficulty: string;
  readonly status: TrainingSession['status'];
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly totalScore: number | null;
  readonly messageCount: number;
}

/** A user's sessions, newest first, with the score where the session was evaluated. */
export async function listUserSessions(db: Database, userId: UserId, limit = 10): Promise<SessionSummary[]> {
  return db
    .select({
      id: sessions.id,
      scenarioKey: sessions.scenarioKey,
      difficulty: sessions.difficulty,
      status: sessions.status,
      startedAt: sessions.startedAt,
      finishedAt: sessions.finishedAt,
      totalScore: evaluations.totalScore,
      messageCount: sql<number>`(select count(*)::int from ${messages} where ${messages.sessionId} = ${sessions.id})`,
    })
    .from(sessions)
    .leftJoin(evaluations, eq(evaluations.sessionId, sessions.id))
    .where(eq(sessions.userId, userId))
    .orderBy(desc(sessions.startedAt), desc(sessions.id))
    .limit(limit);
}
