import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { SessionId, UserId } from '../ids.js';
import { evaluations, messages, sessions, users } from '../schema.js';
import { storable } from '../text.js';

/** A session as training sees it; whether its transcript expired is the retention job's business. */
export type TrainingSession = Omit<typeof sessions.$inferSelect, 'transcriptDeletedAt'>;

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

/** The session when it is the user's; undefined for another user's session or none (a forged id). */
export async function getUserSession(db: Database, userId: UserId, sessionId: SessionId): Promise<TrainingSession | undefined> {
  const [session] = await db
    .select()
    .from(sessions)
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)))
    .limit(1);
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

/** The judge failed and the trainee was told: nothing is left to resume. */
export async function clearFinishRequested(db: Database, sessionId: SessionId): Promise<void> {
  await db.update(sessions).set({ finishRequestedAt: null }).where(eq(sessions.id, sessionId));
}

/** Remembers that /finish started, so a judge interrupted by a crash is run again at the next start. */
export async function markFinishRequested(db: Database, sessionId: SessionId): Promise<void> {
  await db.update(sessions).set({ finishRequestedAt: new Date() }).where(eq(sessions.id, sessionId));
}

/** Active sessions with the Telegram chat of their trainee; `finishRequested` narrows to interrupted /finish. */
export async function activeSessionsWithChat(
  db: Database,
  options: { finishRequested?: boolean } = {},
): Promise<Array<{ session: TrainingSession; telegramId: number; languageCode: string | null }>> {
  const active = eq(sessions.status, 'active');
  return db
    .select({ session: sessions, telegramId: users.telegramId, languageCode: users.languageCode })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(options.finishRequested ? and(active, isNotNull(sessions.finishRequestedAt)) : active);
}

/**
 * The client's goodbye and its hanging up, in one statement: the reply is never stored without the
 * session knowing the line is closed. Returns the reply's message id.
 */
export async function storeHangUpReply(
  db: Database,
  sessionId: SessionId,
  reply: { readonly content: string; readonly promptTokens?: number; readonly completionTokens?: number },
): Promise<number> {
  const rows = await db.execute<{ id: string | number }>(sql`
    with hung_up as (
      update ${sessions} set client_hung_up_at = coalesce(client_hung_up_at, now())
       where id = ${sessionId}
       returning id
    )
    insert into ${messages} (session_id, role, content, prompt_tokens, completion_tokens)
    select id, 'assistant', ${storable(reply.content)}, ${reply.promptTokens ?? null}::int, ${reply.completionTokens ?? null}::int
      from hung_up
    returning id`);
  const [row] = rows;
  if (!row) throw new Error(`session ${sessionId} not found to store the client hanging up`);
  // bigserial: postgres.js gives int8 as a string.
  return Number(row.id);
}
