import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { SessionId } from '../ids.js';
import { messages } from '../schema.js';

/** What one retention batch deleted. */
export interface DeletedTranscripts {
  readonly sessions: number;
  readonly messages: number;
}

/**
 * Deletes the dialogue of up to `limit` sessions that were finished or abandoned more than
 * `retentionDays` ago, and marks them `transcript_deleted_at`; evaluations and the sessions
 * themselves stay. One statement (see storeEvaluationAndFinish): a session is marked exactly when
 * its messages are gone. Two processes running it at once delete each session once.
 */
export async function deleteExpiredTranscripts(db: Database, retentionDays: number, limit: number): Promise<DeletedTranscripts> {
  const [row] = await db.execute<{ sessions: number; messages: number }>(sql`
    with expired as (
      select id from sessions
      where status in ('finished', 'abandoned') and transcript_deleted_at is null
        and finished_at < now() - make_interval(days => ${retentionDays}::int)
      order by finished_at
      limit ${limit}::int
      for update skip locked
    ), marked as (
      update sessions set transcript_deleted_at = now() where id in (select id from expired) returning id
    ), deleted as (
      delete from messages where session_id in (select id from marked) returning 1
    )
    select (select count(*) from marked)::int as sessions, (select count(*) from deleted)::int as messages`);
  return { sessions: row?.sessions ?? 0, messages: row?.messages ?? 0 };
}

/** A session's dialogue as a manager reads it: who said what, when; spoken turns by their transcript. */
export interface TranscriptLine {
  readonly role: 'user' | 'assistant';
  readonly content: string;
  readonly spoken: boolean;
  readonly at: Date;
}

export async function sessionTranscript(db: Database, sessionId: SessionId): Promise<TranscriptLine[]> {
  return db
    .select({
      role: sql<'user' | 'assistant'>`${messages.role}`,
      content: messages.content,
      spoken: sql<boolean>`${messages.kind} <> 'text'`,
      at: messages.createdAt,
    })
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), inArray(messages.role, ['user', 'assistant'])))
    .orderBy(asc(messages.id));
}
