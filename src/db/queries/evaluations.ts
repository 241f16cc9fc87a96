import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { SessionId } from '../ids.js';
import { evaluations, sessions, sheetExports } from '../schema.js';
import { storable } from '../text.js';
import type { TrainingSession } from './sessions.js';

export type StoredEvaluation = typeof evaluations.$inferSelect;
export type NewEvaluation = Omit<typeof evaluations.$inferInsert, 'id' | 'sessionId' | 'createdAt'>;

/** The session was finished or abandoned before this evaluation could be stored. */
export class SessionNotActiveError extends Error {
  constructor(readonly sessionId: SessionId) {
    super(`session ${sessionId} is not active`);
    this.name = 'SessionNotActiveError';
  }
}

/**
 * Stores the evaluation, finishes the session and enqueues the managers' sheet export,
 * all in one transaction: either the session is finished with its score, or nothing changed.
 */
export async function storeEvaluationAndFinish(
  db: Database,
  sessionId: SessionId,
  evaluation: NewEvaluation,
): Promise<StoredEvaluation> {
  return db.transaction(async (tx) => {
    const finished = await tx
      .update(sessions)
      .set({ status: 'finished', finishedAt: new Date() })
      .where(and(eq(sessions.id, sessionId), eq(sessions.status, 'active')))
      .returning({ id: sessions.id });
    if (finished.length === 0) throw new SessionNotActiveError(sessionId);
    const [stored] = await tx
      .insert(evaluations)
      .values({ ...withStorableText(evaluation), sessionId })
      .returning();
    await tx.insert(sheetExports).values({ sessionId }).onConflictDoNothing();
    return stored!;
  });
}

/** The judge's text as PostgreSQL can hold it (the model may echo a NUL the trainee sent). */
function withStorableText(evaluation: NewEvaluation): NewEvaluation {
  const list = (items: readonly string[]) => items.map(storable);
  return {
    ...evaluation,
    criteria: evaluation.criteria.map((c) => ({ ...c, title: storable(c.title), evidence: storable(c.evidence), comment: storable(c.comment) })),
    strengths: list(evaluation.strengths),
    mistakes: list(evaluation.mistakes),
    recommendations: list(evaluation.recommendations),
    summary: storable(evaluation.summary ?? ''),
  };
}

export async function getEvaluation(db: Database, sessionId: SessionId): Promise<StoredEvaluation | undefined> {
  const [row] = await db.select().from(evaluations).where(eq(evaluations.sessionId, sessionId)).limit(1);
  return row;
}

/** The trainee has seen the evaluation. */
export async function markEvaluationDelivered(db: Database, sessionId: SessionId): Promise<void> {
  await db.update(evaluations).set({ deliveredAt: new Date() }).where(eq(evaluations.sessionId, sessionId));
}

/** Evaluations stored but never shown (the bot stopped in between), with their sessions. */
export async function undeliveredEvaluations(
  db: Database,
): Promise<Array<{ evaluation: StoredEvaluation; session: TrainingSession }>> {
  return db
    .select({ evaluation: evaluations, session: sessions })
    .from(evaluations)
    .innerJoin(sessions, eq(sessions.id, evaluations.sessionId))
    .where(isNull(evaluations.deliveredAt));
}
