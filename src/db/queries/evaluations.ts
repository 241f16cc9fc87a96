import { eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { SessionId } from '../ids.js';
import { evaluations, sessions } from '../schema.js';
import { storable } from '../text.js';
import type { TrainingSession } from './sessions.js';

export type StoredEvaluation = typeof evaluations.$inferSelect;
export type NewEvaluation = Omit<typeof evaluations.$inferInsert, 'id' | 'sessionId' | 'createdAt' | 'deliveredAt'>;

/** The session was finished or abandoned before this evaluation could be stored. */
export class SessionNotActiveError extends Error {
  constructor(readonly sessionId: SessionId) {
    super(`session ${sessionId} is not active`);
    this.name = 'SessionNotActiveError';
  }
}

/**
 * Stores the evaluation, finishes the session and enqueues the managers' sheet export in one
 * statement: either the session is finished with its score, or nothing changed.
 *
 * One statement rather than a transaction: postgres.js 3.4.9 crashes the process when a connection
 * drops inside `begin()` (its own ROLLBACK is written to the closed socket; porsager/postgres#1208),
 * and a PostgreSQL restart during /finish must not take the bot down. Safe to run again after a lost
 * reply: a session already finished with an evaluation gives that evaluation back.
 */
export async function storeEvaluationAndFinish(
  db: Database,
  sessionId: SessionId,
  evaluation: NewEvaluation,
): Promise<StoredEvaluation> {
  const e = withStorableText(evaluation);
  const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;
  await db.execute(sql`
    with finished as (
      update sessions set status = 'finished', finished_at = now()
      where id = ${sessionId} and status = 'active'
      returning id
    ), stored as (
      insert into evaluations (session_id, total_score, criteria, strengths, mistakes, recommendations, summary, model,
        omitted_messages, delivery, facts, rubric_version, prompt_version, judge_temperature)
      select id, ${e.totalScore}::int, ${json(e.criteria)}, ${json(e.strengths)}, ${json(e.mistakes)},
        ${json(e.recommendations)}, ${e.summary ?? ''}::text, ${e.model}::text, ${e.omittedMessages ?? 0}::int,
        ${e.delivery ? json(e.delivery) : sql`null::jsonb`}, ${json(e.facts ?? [])}, ${e.rubricVersion ?? null}::text,
        ${e.promptVersion ?? null}::text, ${e.judgeTemperature ?? null}::real
      from finished
      returning session_id
    )
    insert into sheet_exports (session_id) select session_id from stored on conflict do nothing`);
  const stored = await getEvaluation(db, sessionId);
  if (stored) return stored;
  throw new SessionNotActiveError(sessionId);
}

/** The judge's text as PostgreSQL can hold it (the model may echo a NUL the trainee sent). */
function withStorableText(evaluation: NewEvaluation): NewEvaluation {
  const list = (items: readonly string[]) => items.map(storable);
  return {
    ...evaluation,
    criteria: evaluation.criteria.map((c) => ({
      ...c,
      title: storable(c.title),
      evidence: storable(c.evidence),
      comment: storable(c.comment),
    })),
    strengths: list(evaluation.strengths),
    mistakes: list(evaluation.mistakes),
    recommendations: list(evaluation.recommendations),
    summary: storable(evaluation.summary ?? ''),
    facts: (evaluation.facts ?? []).map((f) => ({
      claim: storable(f.claim),
      correct: storable(f.correct),
      source: storable(f.source),
    })),
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
