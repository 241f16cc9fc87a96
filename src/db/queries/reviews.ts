import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { SessionId, TelegramId, UserId } from '../ids.js';
import { evaluationDisputes, evaluationReviews, evaluations, sessions, users } from '../schema.js';

export type StoredReview = typeof evaluationReviews.$inferSelect;
export type StoredDispute = typeof evaluationDisputes.$inferSelect;

/**
 * Stores a manager's review of a session's evaluation (a second one replaces the first) and
 * resolves the trainee's dispute of it, in one statement.
 */
export async function storeReview(
  db: Database,
  review: { sessionId: SessionId; reviewerId: UserId; score: number; comment: string },
): Promise<StoredReview> {
  const [stored] = await db.execute<{ session_id: SessionId }>(sql`
    with stored as (
      insert into ${evaluationReviews} (session_id, reviewer_id, score, comment)
      values (${review.sessionId}, ${review.reviewerId}, ${review.score}, ${review.comment})
      on conflict (session_id) do update
        set reviewer_id = excluded.reviewer_id, score = excluded.score, comment = excluded.comment, updated_at = now()
      returning session_id
    ), resolved as (
      update ${evaluationDisputes} set resolved_at = now()
      where session_id in (select session_id from stored) and resolved_at is null
      returning 1
    )
    select session_id from stored`);
  if (!stored) throw new Error(`the review of session ${review.sessionId} was not stored`);
  const found = await getReview(db, review.sessionId);
  if (!found) throw new Error(`the review of session ${review.sessionId} is gone`);
  return found;
}

export async function getReview(db: Database, sessionId: SessionId): Promise<StoredReview | undefined> {
  const [review] = await db.select().from(evaluationReviews).where(eq(evaluationReviews.sessionId, sessionId)).limit(1);
  return review;
}

/** The reviews of these sessions (those that have one). */
export async function reviewsOf(db: Database, sessionIds: readonly SessionId[]): Promise<StoredReview[]> {
  if (sessionIds.length === 0) return [];
  return db
    .select()
    .from(evaluationReviews)
    .where(inArray(evaluationReviews.sessionId, [...sessionIds]));
}

export async function getDispute(db: Database, sessionId: SessionId): Promise<StoredDispute | undefined> {
  const [dispute] = await db.select().from(evaluationDisputes).where(eq(evaluationDisputes.sessionId, sessionId)).limit(1);
  return dispute;
}

/**
 * Stores a trainee's dispute of their own scored session; false when the session is not theirs,
 * not scored, or already disputed (one dispute per evaluation).
 */
export async function storeDispute(db: Database, userId: UserId, sessionId: SessionId, reason: string): Promise<boolean> {
  const stored = await db.execute(sql`
    insert into ${evaluationDisputes} (session_id, reason)
    select ${sessions.id}, ${reason} from ${sessions}
    join ${evaluations} on ${evaluations.sessionId} = ${sessions.id}
    where ${sessions.id} = ${sessionId} and ${sessions.userId} = ${userId}
    on conflict (session_id) do nothing
    returning session_id`);
  return stored.length > 0;
}

/** A dispute whose manager has not been told yet, with whom to tell. */
export interface PendingDisputeNotice {
  readonly sessionId: SessionId;
  readonly reason: string;
  readonly traineeId: UserId;
  readonly traineeName: { firstName: string | null; lastName: string | null; username: string | null; telegramId: TelegramId };
  readonly scenarioKey: string;
  readonly difficulty: string;
  readonly totalScore: number;
  /** The trainee's manager, or every admin when they have none. */
  readonly recipients: ReadonlyArray<{ readonly telegramId: TelegramId; readonly languageCode: string | null }>;
}

/**
 * Tells the managers of not yet told disputes, one at a time: `tell` runs with the dispute's row
 * locked, and the row is marked told in the same transaction once `tell` returns. Two processes (or
 * the start-up sweep beside a fresh dispute) never tell the same dispute twice; a crash before the
 * mark leaves it to tell at the next start.
 */
export async function tellPendingDisputes(
  db: Database,
  tell: (notice: PendingDisputeNotice) => Promise<void>,
  only?: SessionId,
): Promise<number> {
  let told = 0;
  for (;;) {
    const done = await db.transaction(async (tx) => {
      const [row] = await tx
        .select({
          sessionId: evaluationDisputes.sessionId,
          reason: evaluationDisputes.reason,
          traineeId: users.id,
          firstName: users.firstName,
          lastName: users.lastName,
          username: users.username,
          telegramId: users.telegramId,
          managerId: users.managerId,
          scenarioKey: sessions.scenarioKey,
          difficulty: sessions.difficulty,
          totalScore: evaluations.totalScore,
        })
        .from(evaluationDisputes)
        .innerJoin(sessions, eq(sessions.id, evaluationDisputes.sessionId))
        .innerJoin(users, eq(users.id, sessions.userId))
        .innerJoin(evaluations, eq(evaluations.sessionId, sessions.id))
        .where(
          and(
            isNull(evaluationDisputes.managerNotifiedAt),
            only === undefined ? undefined : eq(evaluationDisputes.sessionId, only),
          ),
        )
        .orderBy(evaluationDisputes.createdAt)
        .limit(1)
        .for('update', { of: evaluationDisputes, skipLocked: true });
      if (!row) return false;
      const recipients = await tx
        .select({ telegramId: users.telegramId, languageCode: users.languageCode })
        .from(users)
        .where(row.managerId === null ? eq(users.role, 'admin') : eq(users.id, row.managerId));
      await tell({
        sessionId: row.sessionId,
        reason: row.reason,
        traineeId: row.traineeId,
        traineeName: { firstName: row.firstName, lastName: row.lastName, username: row.username, telegramId: row.telegramId },
        scenarioKey: row.scenarioKey,
        difficulty: row.difficulty,
        totalScore: row.totalScore,
        recipients,
      });
      await tx
        .update(evaluationDisputes)
        .set({ managerNotifiedAt: new Date() })
        .where(eq(evaluationDisputes.sessionId, row.sessionId));
      return true;
    });
    if (!done) return told;
    told++;
  }
}
