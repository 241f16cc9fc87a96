import { asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { SessionId, TelegramId, UserId } from '../ids.js';
import { sessions, sheetErasures, users } from '../schema.js';
import type { User } from './users.js';

/** The channel on which an erasure is announced to every bot process (src/services/erase-person.ts listens). */
export const personErasedChannel = 'person_erased';

/** The key @grammyjs/conversations stores a private chat's flows under: the chat id, which is the person's id. */
export function conversationKeyOf(telegramId: TelegramId): string {
  return String(telegramId);
}

/** What the database held about a person, as deleted. */
export interface ErasedRows {
  /** The internal id the person had; undefined when there was no such person. */
  readonly userId: UserId | undefined;
  readonly users: number;
  readonly sessions: number;
  readonly messages: number;
  readonly evaluations: number;
  readonly inviteRedemptions: number;
  readonly conversationStates: number;
  /** Rows of the sheet's outbox (exported or still queued). */
  readonly sheetExports: number;
  /** Their entry on the PostgreSQL allowlist (granted or revoked): erased too, so a revoked person is forgotten as well. */
  readonly accessGrants: number;
  /** Their refused request (a person who never got in has only this). */
  readonly accessRequests: number;
  /** Invites the person had created: kept without a creator, so the people they admitted stay admitted. */
  readonly invitesDetached: number;
  /** Of those, the ones that still admitted newcomers and were closed. */
  readonly invitesClosed: number;
  /** The outbox row queued for the managers' sheet (`queueSheetErasure`). */
  readonly sheetErasureId: number | undefined;
}

/**
 * Deletes everything stored about a person in one statement: the user (sessions, messages,
 * evaluations, invite redemptions and sheet exports go with it by cascade), their conversation
 * state, their allowlist entry and refused request, and their name on invites they created. With `queueSheetErasure`, the sessions' rows in the
 * managers' sheet are queued for deletion (`sheet_erasures`) in the same statement, so an erasure
 * never happens without its sheet part. Announced on `person_erased` once committed.
 *
 * One statement rather than a transaction: see storeEvaluationAndFinish. Running it again finds nothing.
 */
export async function deletePersonRows(
  db: Database,
  telegramId: TelegramId,
  options: {
    readonly queueSheetErasure: boolean;
    /** The erasing process deletes the rows itself first: the export worker leaves the row alone that long. */
    readonly workerWaitsMs: number;
    /** How long a write to the sheet begun before now may take to land (the export's lease). */
    readonly settleMs: number;
  },
): Promise<ErasedRows> {
  const ms = (value: number) => sql`${Math.max(0, Math.round(value))}::float8 * interval '1 millisecond'`;
  const [row] = await db.execute<{
    user_id: number | null;
    users: number;
    sessions: number;
    messages: number;
    evaluations: number;
    invite_redemptions: number;
    conversation_states: number;
    sheet_exports: number;
    invites_detached: number;
    invites_closed: number;
    access_grants: number;
    access_requests: number;
    sheet_erasure_id: number | null;
    notified: number;
  }>(sql`
    with target as (
      select id, telegram_id from users where telegram_id = ${telegramId}::bigint for update
    ), person_sessions as (
      select id from sessions where user_id in (select id from target)
    ), counts as (
      select
        (select count(*) from person_sessions)::int as sessions,
        (select count(*) from messages where session_id in (select id from person_sessions))::int as messages,
        (select count(*) from evaluations where session_id in (select id from person_sessions))::int as evaluations,
        (select count(*) from sheet_exports where session_id in (select id from person_sessions))::int as sheet_exports,
        (select count(*) from invite_redemptions where user_id in (select id from target))::int as invite_redemptions,
        (select count(*) from invites where created_by in (select id from target) and expires_at > now() and uses < max_uses)::int
          as invites_closed,
        -- An export claimed and not yet confirmed: its append may still reach the sheet until its lease ends.
        (select max(next_attempt_at) from sheet_exports
          where session_id in (select id from person_sessions) and status = 'pending' and last_error is null and next_attempt_at > now())
          as export_in_flight_until
    ), detached as (
      update invites set created_by = null, expires_at = least(expires_at, now())
      where created_by in (select id from target)
      returning code
    ), grants as (
      delete from access_grants where telegram_id = ${telegramId}::bigint returning telegram_id
    ), requests as (
      delete from access_requests where telegram_id = ${telegramId}::bigint returning telegram_id
    ), states as (
      delete from conversation_states where key = ${conversationKeyOf(telegramId)} returning key
    ), removed as (
      delete from users where id in (select id from target) returning id, telegram_id
    ), queued as (
      insert into sheet_erasures (telegram_id, session_ids, settle_until, next_attempt_at)
      select r.telegram_id, coalesce((select array_agg(id order by id) from person_sessions), '{}'),
        greatest(c.export_in_flight_until, now() + ${ms(options.settleMs)}), now() + ${ms(options.workerWaitsMs)}
      from removed r, counts c
      where ${options.queueSheetErasure}::boolean
      returning id
    ), notified as (
      select pg_notify(${personErasedChannel}, json_build_object('telegramId', r.telegram_id, 'userId', r.id)::text)
      from removed r
    )
    select
      (select id from removed) as user_id,
      (select count(*) from removed)::int as users,
      c.sessions, c.messages, c.evaluations, c.sheet_exports, c.invite_redemptions, c.invites_closed,
      (select count(*) from detached)::int as invites_detached,
      (select count(*) from states)::int as conversation_states,
      (select count(*) from grants)::int as access_grants,
      (select count(*) from requests)::int as access_requests,
      (select id from queued) as sheet_erasure_id,
      (select count(*) from notified)::int as notified
    from counts c`);
  if (!row) throw new Error('the erasure statement returned no row');
  return {
    userId: row.user_id === null ? undefined : (row.user_id as UserId),
    users: row.users,
    sessions: row.sessions,
    messages: row.messages,
    evaluations: row.evaluations,
    inviteRedemptions: row.invite_redemptions,
    conversationStates: row.conversation_states,
    sheetExports: row.sheet_exports,
    invitesDetached: row.invites_detached,
    invitesClosed: row.invites_closed,
    accessGrants: row.access_grants,
    accessRequests: row.access_requests,
    sheetErasureId: row.sheet_erasure_id ?? undefined,
  };
}

/** Who a Telegram id is in the database, for a confirmation question. */
export interface PersonOnRecord {
  readonly user: User;
  readonly sessions: number;
}

export async function findPersonOnRecord(db: Database, telegramId: TelegramId): Promise<PersonOnRecord | undefined> {
  const [row] = await db
    .select({
      user: users,
      sessions: sql<number>`(select count(*)::int from ${sessions} where ${sessions.userId} = ${users.id})`,
    })
    .from(users)
    .where(eq(users.telegramId, telegramId))
    .limit(1);
  return row;
}

/** A queued deletion of an erased person's rows in the managers' sheet. */
export interface SheetErasure {
  readonly id: number;
  /** Null for the last look after the rows were deleted. */
  readonly telegramId: TelegramId | null;
  readonly sessionIds: readonly SessionId[];
  readonly attempts: number;
  /** False while an export of these sessions may still land: the row is done only after a pass past then. */
  readonly settled: boolean;
}

function selectSheetErasures(db: Database) {
  return db
    .select({
      id: sheetErasures.id,
      telegramId: sheetErasures.telegramId,
      sessionIds: sheetErasures.sessionIds,
      attempts: sheetErasures.attempts,
      settled: sql<boolean>`(${sheetErasures.settleUntil} is null or ${sheetErasures.settleUntil} <= now())`,
    })
    .from(sheetErasures);
}

/** Queued sheet deletions that are due, oldest first. */
export async function dueSheetErasures(db: Database, limit = 50): Promise<SheetErasure[]> {
  return selectSheetErasures(db)
    .where(lte(sheetErasures.nextAttemptAt, sql`now()`))
    .orderBy(asc(sheetErasures.id))
    .limit(limit);
}

/** Every queued sheet deletion of one person, due or not. */
export async function sheetErasuresOf(db: Database, telegramId: TelegramId): Promise<SheetErasure[]> {
  return selectSheetErasures(db).where(eq(sheetErasures.telegramId, telegramId)).orderBy(asc(sheetErasures.id));
}

/** Whether any sheet deletion is due now: the export worker's cheap look before it takes the lease. */
export async function hasDueSheetErasures(db: Database): Promise<boolean> {
  const [row] = await db
    .select({ id: sheetErasures.id })
    .from(sheetErasures)
    .where(lte(sheetErasures.nextAttemptAt, sql`now()`))
    .limit(1);
  return row !== undefined;
}

/**
 * The sheet no longer holds these erasures' rows: settled ones are done and go; the others keep
 * only the session ids, without the person's id, until the sheet is looked at once more after
 * every write begun before the erasure has ended. Returns when that last look is due.
 */
export async function finishSheetErasures(db: Database, erasures: readonly SheetErasure[]): Promise<Date | undefined> {
  const settled = erasures.filter((e) => e.settled).map((e) => e.id);
  const unsettled = erasures.filter((e) => !e.settled).map((e) => e.id);
  if (settled.length > 0) await db.delete(sheetErasures).where(inArray(sheetErasures.id, settled));
  if (unsettled.length === 0) return undefined;
  const rows = await db
    .update(sheetErasures)
    .set({ nextAttemptAt: sql`${sheetErasures.settleUntil}`, telegramId: null, attempts: 0, lastError: null })
    .where(inArray(sheetErasures.id, unsettled))
    .returning({ at: sheetErasures.nextAttemptAt });
  return rows.reduce<Date | undefined>((latest, row) => (latest && latest > row.at ? latest : row.at), undefined);
}

/** Failed attempts: each erasure becomes due again after its `retryInMs`, with the reason kept. */
export async function recordSheetErasureFailures(
  db: Database,
  failures: ReadonlyArray<{ readonly id: number; readonly retryInMs: number }>,
  error: string,
): Promise<void> {
  if (failures.length === 0) return;
  const backoffs = sql.join(
    failures.map((f) => sql`(${f.id}::int, ${Math.max(0, Math.round(f.retryInMs))}::float8)`),
    sql`, `,
  );
  await db.execute(sql`
    update sheet_erasures as e
    set attempts = e.attempts + 1, next_attempt_at = now() + b.retry_ms * interval '1 millisecond', last_error = ${error.slice(0, 2_000)}::text
    from (values ${backoffs}) as b(id, retry_ms)
    where e.id = b.id`);
}

/** How many sheet deletions wait, and when the next can run (the lease of a process deleting rows included). */
export async function sheetErasureQueueState(
  db: Database,
  job: string,
): Promise<{ readonly pending: number; readonly nextDueInMs: number | undefined }> {
  const [row] = await db.execute<{ pending: number; until_next_ms: number | null }>(sql`
    select count(*)::int as pending,
      (extract(epoch from (greatest(min(next_attempt_at),
        (select leased_until from job_runs where name = ${job} and leased_until > now())) - now())) * 1000)::float8 as until_next_ms
    from sheet_erasures`);
  const pending = row?.pending ?? 0;
  const untilNext = row?.until_next_ms;
  return {
    pending,
    nextDueInMs: pending === 0 || untilNext === null || untilNext === undefined ? undefined : Math.max(0, untilNext),
  };
}
