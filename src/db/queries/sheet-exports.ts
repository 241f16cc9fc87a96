import { and, asc, eq, gt, gte, inArray, isNotNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { SessionId, TelegramId } from '../ids.js';
import { evaluations, messages, modelUsage, sessions, sheetExports, users, type CriterionScoreRecord } from '../schema.js';

/** An outbox row taken by one exporter; `attempts` counts this attempt too. */
export interface ClaimedExport {
  readonly sessionId: SessionId;
  readonly attempts: number;
}

/*
 * A pending row is in one of three states, told apart without extra columns:
 * - due: next_attempt_at <= now();
 * - in flight: claimed by an exporter; next_attempt_at is the end of its lease, last_error is null;
 * - waiting for a retry after a failure: next_attempt_at is the backoff, last_error says why.
 * Claiming clears last_error and a failure sets it, which keeps that invariant.
 */

/**
 * Takes up to `limit` due pending exports for this exporter alone: `for update skip locked` keeps two
 * bot instances off the same rows, and the claim is committed before anything is sent: attempts + 1
 * (so a retry after a crash or timeout checks the sheet first) and next_attempt_at pushed by `leaseMs`
 * (so nobody else takes the rows while they are in flight). `onlySessions` narrows it to some sessions;
 * `includeWaiting` also takes rows waiting for a retry (never rows in flight).
 */
export async function claimDueExports(
  db: Database,
  options: {
    readonly limit: number;
    readonly leaseMs: number;
    readonly onlySessions?: readonly SessionId[];
    readonly includeWaiting?: boolean;
  },
): Promise<ClaimedExport[]> {
  if (options.onlySessions && options.onlySessions.length === 0) return [];
  const dueNow = lte(sheetExports.nextAttemptAt, sql`now()`);
  const due = db
    .select({ sessionId: sheetExports.sessionId })
    .from(sheetExports)
    .where(
      and(
        eq(sheetExports.status, 'pending'),
        options.includeWaiting ? or(dueNow, isNotNull(sheetExports.lastError)) : dueNow,
        options.onlySessions ? inArray(sheetExports.sessionId, [...options.onlySessions]) : undefined,
      ),
    )
    // Oldest session first, so the sheet reads in the order sessions finished.
    .orderBy(asc(sheetExports.sessionId))
    .limit(options.limit)
    .for('update', { skipLocked: true });
  const claimed = await db
    .update(sheetExports)
    .set({
      attempts: sql`${sheetExports.attempts} + 1`,
      nextAttemptAt: sql`now() + ${Math.round(options.leaseMs)}::double precision * interval '1 millisecond'`,
      lastError: null,
    })
    .where(inArray(sheetExports.sessionId, due))
    .returning({ sessionId: sheetExports.sessionId, attempts: sheetExports.attempts });
  return claimed.sort((a, b) => a.sessionId - b.sessionId);
}

/** Marks claimed exports as written to the sheet. */
export async function markExportsDone(db: Database, sessionIds: readonly SessionId[]): Promise<void> {
  if (sessionIds.length === 0) return;
  await db
    .update(sheetExports)
    .set({ status: 'done', exportedAt: sql`now()`, lastError: null })
    .where(and(inArray(sheetExports.sessionId, [...sessionIds]), eq(sheetExports.status, 'pending')));
}

/**
 * Records sessions written to the sheet outside the worker (resync): a missing outbox row is created
 * as done; a done row gets a fresh exported_at. A pending row is left to whoever claimed it.
 */
export async function recordExportedOutsideQueue(db: Database, sessionIds: readonly SessionId[]): Promise<void> {
  if (sessionIds.length === 0) return;
  await db
    .insert(sheetExports)
    .values(sessionIds.map((sessionId) => ({ sessionId, status: 'done' as const, exportedAt: new Date() })))
    .onConflictDoUpdate({
      target: sheetExports.sessionId,
      set: { exportedAt: sql`now()` },
      setWhere: eq(sheetExports.status, 'done'),
    });
}

/** A failed attempt: the export stays pending and becomes due again after `retryInMs`. */
export interface ExportFailure {
  readonly sessionId: SessionId;
  readonly retryInMs: number;
}

/** Puts failed exports back in the queue with their backoff and the reason. */
export async function recordExportFailures(db: Database, failures: readonly ExportFailure[], error: string): Promise<void> {
  if (failures.length === 0) return;
  const lastError = error.slice(0, 2_000);
  // One statement, not a transaction: see storeEvaluationAndFinish.
  const backoffs = sql.join(
    failures.map((f) => sql`(${f.sessionId}::int, ${Math.max(0, Math.round(f.retryInMs))}::float8)`),
    sql`, `,
  );
  await db.execute(sql`
    update sheet_exports as e
    set next_attempt_at = now() + b.retry_ms * interval '1 millisecond', last_error = ${lastError}::text
    from (values ${backoffs}) as b(session_id, retry_ms)
    where e.session_id = b.session_id and e.status = 'pending'`);
}

/**
 * Makes every export waiting for a retry due now (Google works again: no reason to wait out the
 * backoff). Rows in flight are not touched. Returns how many were brought forward.
 */
export async function retryWaitingExportsNow(db: Database): Promise<number> {
  const moved = await db
    .update(sheetExports)
    .set({ nextAttemptAt: sql`now()` })
    .where(and(eq(sheetExports.status, 'pending'), isNotNull(sheetExports.lastError), gt(sheetExports.nextAttemptAt, sql`now()`)))
    .returning({ sessionId: sheetExports.sessionId });
  return moved.length;
}

/** The state of the queue: how many exports wait, how many are due, and when the next one is. */
export interface ExportQueueState {
  readonly pending: number;
  readonly due: number;
  /** How long until the earliest pending export is due (0 when one is due now); undefined when none wait. */
  readonly nextDueInMs: number | undefined;
}

/** Counts the pending exports; timing comes from the database clock, the one claims use. */
export async function exportQueueState(db: Database): Promise<ExportQueueState> {
  const [row] = await db
    .select({
      pending: sql<number>`count(*)::int`,
      due: sql<number>`(count(*) filter (where ${sheetExports.nextAttemptAt} <= now()))::int`,
      // Null when nothing is pending (greatest() would turn a null into 0).
      untilNextMs: sql<number | null>`(extract(epoch from (min(${sheetExports.nextAttemptAt}) - now())) * 1000)::float8`,
    })
    .from(sheetExports)
    .where(eq(sheetExports.status, 'pending'));
  return {
    pending: row?.pending ?? 0,
    due: row?.due ?? 0,
    nextDueInMs: row?.untilNextMs === null || row?.untilNextMs === undefined ? undefined : Math.max(0, row.untilNextMs),
  };
}

/** The outbox status of sessions (absent: no outbox row). */
export async function exportStatuses(
  db: Database,
  sessionIds: readonly SessionId[],
): Promise<ReadonlyMap<SessionId, 'pending' | 'done'>> {
  if (sessionIds.length === 0) return new Map();
  const rows = await db
    .select({ sessionId: sheetExports.sessionId, status: sheetExports.status })
    .from(sheetExports)
    .where(inArray(sheetExports.sessionId, [...sessionIds]));
  return new Map(rows.map((row) => [row.sessionId, row.status]));
}

/** Everything one row of the managers' results sheet shows about a finished, evaluated session. */
export interface SessionResult {
  readonly sessionId: SessionId;
  readonly telegramId: TelegramId;
  readonly username: string | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly scenarioKey: string;
  readonly difficulty: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** Turns of the dialogue: the trainee's and the client's (system prompts excluded). */
  readonly messageCount: number;
  readonly totalScore: number;
  readonly criteria: readonly CriterionScoreRecord[];
  readonly strengths: readonly string[];
  readonly mistakes: readonly string[];
  readonly recommendations: readonly string[];
  /** Tokens of every model call of the session (client turns, hints, the judge). */
  readonly tokens: number;
  /** Their estimated cost, USD. */
  readonly costUsd: number;
}

function selectSessionResults(db: Database, where: SQL | undefined) {
  return db
    .select({
      sessionId: sessions.id,
      telegramId: users.telegramId,
      username: users.username,
      firstName: users.firstName,
      lastName: users.lastName,
      scenarioKey: sessions.scenarioKey,
      difficulty: sessions.difficulty,
      startedAt: sessions.startedAt,
      finishedAt: sql<Date>`coalesce(${sessions.finishedAt}, ${evaluations.createdAt})`.mapWith(sessions.startedAt),
      messageCount: sql<number>`(select count(*)::int from ${messages} where ${messages.sessionId} = ${sessions.id} and ${messages.role} <> 'system')`,
      totalScore: evaluations.totalScore,
      criteria: evaluations.criteria,
      strengths: evaluations.strengths,
      mistakes: evaluations.mistakes,
      recommendations: evaluations.recommendations,
      tokens: sql<number>`(select coalesce(sum(${modelUsage.promptTokens} + ${modelUsage.completionTokens}), 0)::float8 from ${modelUsage} where ${modelUsage.sessionId} = ${sessions.id})`,
      costUsd: sql<number>`(select coalesce(sum(${modelUsage.costUsd}), 0)::float8 from ${modelUsage} where ${modelUsage.sessionId} = ${sessions.id})`,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .innerJoin(evaluations, eq(evaluations.sessionId, sessions.id))
    .where(and(eq(sessions.status, 'finished'), where))
    .orderBy(asc(sessions.finishedAt), asc(sessions.id));
}

/** The sheet rows of the given sessions (finished and evaluated ones only), oldest first. */
export async function loadSessionResults(db: Database, sessionIds: readonly SessionId[]): Promise<SessionResult[]> {
  if (sessionIds.length === 0) return [];
  return selectSessionResults(db, inArray(sessions.id, [...sessionIds]));
}

/** A window of finish times: `from` inclusive, `to` exclusive; either may be open. */
export interface FinishedRange {
  readonly from?: Date | undefined;
  readonly to?: Date | undefined;
}

/** Every finished, evaluated session that finished inside the range, oldest first. */
export async function listSessionResults(db: Database, range: FinishedRange = {}): Promise<SessionResult[]> {
  return selectSessionResults(
    db,
    and(range.from ? gte(sessions.finishedAt, range.from) : undefined, range.to ? lt(sessions.finishedAt, range.to) : undefined),
  );
}

/** One row of the trainees' summary tab. */
export interface TraineeSummary {
  readonly telegramId: TelegramId;
  readonly username: string | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  /** Finished and evaluated sessions. */
  readonly sessionsFinished: number;
  readonly averageScore: number | null;
  readonly bestScore: number | null;
  /** The score of the most recently finished evaluated session. */
  readonly lastScore: number | null;
  /** When the person last started or finished a session. */
  readonly lastActivity: Date | null;
}

/** Every trainee (and anyone else with an evaluated session), with their numbers. */
export async function listTraineeSummaries(db: Database): Promise<TraineeSummary[]> {
  const evaluated = sql`${evaluations.id} is not null`;
  return (
    db
      .select({
        telegramId: users.telegramId,
        username: users.username,
        firstName: users.firstName,
        lastName: users.lastName,
        sessionsFinished: sql<number>`(count(${evaluations.id}))::int`,
        averageScore: sql<number | null>`round(avg(${evaluations.totalScore}), 1)::float8`,
        bestScore: sql<number | null>`max(${evaluations.totalScore})`,
        lastScore: sql<
          number | null
        >`(array_agg(${evaluations.totalScore} order by ${sessions.finishedAt} desc, ${sessions.id} desc) filter (where ${evaluated}))[1]`,
        lastActivity: sql<Date | null>`greatest(max(${sessions.startedAt}), max(${sessions.finishedAt}))`.mapWith(
          sessions.startedAt,
        ),
      })
      .from(users)
      .leftJoin(sessions, eq(sessions.userId, users.id))
      .leftJoin(evaluations, and(eq(evaluations.sessionId, sessions.id), eq(sessions.status, 'finished')))
      // Employees only: not someone refused at the door (a request waiting), nor someone whose access was revoked.
      .where(
        sql`not exists (select 1 from access_requests r where r.telegram_id = ${users.telegramId})
        and not exists (select 1 from access_grants g where g.telegram_id = ${users.telegramId} and g.revoked_at is not null)`,
      )
      .groupBy(users.id)
      .having(or(eq(users.role, 'trainee'), sql`count(${evaluations.id}) > 0`))
      .orderBy(asc(users.id))
  );
}
