import type { Database } from '../../db/client.js';
import type { SessionId } from '../../db/ids.js';
import {
  claimDueExports,
  exportQueueState,
  loadSessionResults,
  markExportsDone,
  recordExportFailures,
  retryWaitingExportsNow,
  type ClaimedExport,
  type ExportQueueState,
} from '../../db/queries/sheet-exports.js';
import { hasDueSheetErasures, sheetErasureQueueState } from '../../db/queries/erasures.js';
import type { Logger } from '../../logger.js';
import { rewriteSummaryTabs } from './summary-tabs.js';
import type { ManagersSheet } from './managers-sheet.js';
import { OutageMonitor, type AlertSink } from './outage-monitor.js';
import { runSheetErasures, sheetErasureJob } from './sheet-erasure.js';
import { SheetsError, type SheetsFailureKind } from './sheets-client.js';

/** The clock of the worker; tests shrink it to milliseconds. */
export interface ExportTiming {
  /** Longest sleep between looks at the queue (exports of other instances, missed wake-ups). */
  readonly pollIntervalMs: number;
  /** First retry delay; it doubles per attempt, with full jitter. */
  readonly backoffBaseMs: number;
  /** The longest retry delay. */
  readonly backoffCapMs: number;
  /** How long a claimed export is reserved for its claimer: above a batch's requests (≤ 6) × the request timeout (30 s). */
  readonly leaseMs: number;
  /** Most rows sent in one append. */
  readonly batchSize: number;
}

export const defaultExportTiming: ExportTiming = {
  pollIntervalMs: 30_000,
  backoffBaseMs: 5_000,
  backoffCapMs: 10 * 60_000,
  leaseMs: 5 * 60_000,
  batchSize: 50,
};

export interface ExportWorkerDeps {
  readonly db: Database;
  readonly sheet: ManagersSheet;
  readonly logger: Logger;
  readonly onAlert?: AlertSink;
  readonly timing?: Partial<ExportTiming>;
  /** Source of jitter, [0, 1). */
  readonly random?: () => number;
  /** Called on every failed attempt (for metrics); the log already has the outage. */
  readonly onFailure?: (kind: SheetsFailureKind | 'database') => void;
}

type PassOutcome = 'exported' | 'idle' | 'failed' | 'paused';

/** Exponential backoff with full jitter: uniform in [0, min(cap, base · 2^(attempt−1))). */
export function backoffDelay(
  attempt: number,
  timing: Pick<ExportTiming, 'backoffBaseMs' | 'backoffCapMs'>,
  random: () => number,
): number {
  const ceiling = Math.min(timing.backoffCapMs, timing.backoffBaseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.floor(random() * ceiling);
}

/**
 * Sends the outbox (`sheet_exports`) to the managers' spreadsheet: claims due rows, appends them in
 * one request, marks them done, then rewrites the trainees tab. A failed attempt is retried with
 * backoff; a retry first reads the session-id column, so a write Google applied before a timeout is
 * never repeated. Rows live in Postgres, so nothing is lost to a restart or a long outage.
 * Erasures whose sheet part is still queued (`sheet_erasures`) go first, with the same backoff.
 */
export class ExportWorker {
  private readonly timing: ExportTiming;
  private readonly random: () => number;
  private readonly monitor: OutageMonitor;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private notified = false;
  private passChain: Promise<unknown> = Promise.resolve();
  private pausedUntil = 0;
  private consecutiveFailures = 0;
  /** After Google refused a batch as malformed, rows go one by one so one bad row cannot hold back others. */
  private oneByOne = false;
  /** Some request of this instance succeeded since it started. */
  private provenWorking = false;
  /** The trainees tab needs a rewrite (at start, and after an export or a failed rewrite). */
  private traineesStale = true;

  constructor(private readonly deps: ExportWorkerDeps) {
    this.timing = { ...defaultExportTiming, ...deps.timing };
    this.random = deps.random ?? Math.random;
    this.monitor = new OutageMonitor(deps.logger, deps.onAlert, () => ({
      spreadsheetId: deps.sheet.spreadsheetId,
      serviceAccountFile: deps.sheet.serviceAccountFile,
      serviceAccountEmail: deps.sheet.serviceAccountEmail,
    }));
  }

  /** True while exports are failing (Google down, key rejected, no access…). */
  get isFailing(): boolean {
    return this.monitor.isDown;
  }

  /** Starts the background loop; exports whatever is due at once. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.deps.sheet.reopen();
    this.loop = this.run();
  }

  /** A review, a dispute or an assignment changed: the whole-rewritten tabs are written again at the next pass. */
  refreshSummaries(): void {
    this.traineesStale = true;
    this.wakeUp();
  }

  /** A new export was enqueued: look at the queue now rather than at the next poll. */
  notify(): void {
    this.notified = true;
    this.wakeUp();
  }

  /**
   * Exports everything due now. True when nothing due is left; false when an export failed
   * (the rows stay queued) or `timeoutMs` ran out first.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const deadline = Date.now() + timeoutMs;
    const drained = (async () => {
      while (Date.now() < deadline) {
        const outcome = await this.runPass();
        if (outcome === 'idle') return true;
        if (outcome === 'failed' || outcome === 'paused') return false;
      }
      return false;
    })();
    try {
      return await Promise.race([drained, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops the loop at once: Google requests in flight are aborted (their exports stay queued, and
   * their retry checks the sheet first), then it waits for the database writes of the last pass.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp();
    this.deps.sheet.abortInFlight();
    await this.loop;
    this.loop = undefined;
    await this.passChain;
    await this.monitor.settled();
  }

  /** The queue as the database sees it. */
  async queueState(): Promise<ExportQueueState> {
    return exportQueueState(this.deps.db);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.notified = false;
      const outcome = await this.runPass();
      if (this.stopping) break;
      if (outcome === 'exported' || this.notified) continue;
      await this.sleep(await this.nextWakeInMs());
    }
  }

  /** Passes never overlap inside one worker: the loop and flush() share this queue. */
  private runPass(): Promise<PassOutcome> {
    const next = this.passChain.then(() => this.pass());
    this.passChain = next.catch(() => undefined);
    return next;
  }

  private async pass(): Promise<PassOutcome> {
    if (Date.now() < this.pausedUntil) return 'paused';
    const erased = await this.eraseQueuedPeople();
    if (erased !== 'idle') return erased;
    let claimed: ClaimedExport[];
    try {
      claimed = await claimDueExports(this.deps.db, {
        limit: this.oneByOne ? 1 : this.timing.batchSize,
        leaseMs: this.timing.leaseMs,
      });
    } catch (error) {
      this.deps.logger.error({ err: error }, 'could not read the Google Sheets export queue');
      this.deps.onFailure?.('database');
      this.pauseAfterFailure();
      return 'failed';
    }
    if (claimed.length === 0) return this.traineesStale ? this.refreshTrainees() : 'idle';
    return this.exportBatch(claimed);
  }

  /** Deletes the rows of erased people that are due; 'idle' when there were none (or another process is at it). */
  private async eraseQueuedPeople(): Promise<PassOutcome> {
    try {
      if (!(await hasDueSheetErasures(this.deps.db))) return 'idle';
    } catch (error) {
      this.deps.logger.error({ err: error }, 'could not read the queue of sheet erasures');
      this.deps.onFailure?.('database');
      this.pauseAfterFailure();
      return 'failed';
    }
    try {
      const pass = await runSheetErasures(
        {
          db: this.deps.db,
          sheet: this.deps.sheet,
          logger: this.deps.logger,
          leaseMs: this.timing.leaseMs,
          retryDelay: (attempt) => backoffDelay(attempt, this.timing, this.random),
        },
        'due',
      );
      if (pass.kind !== 'erased') return 'idle';
      this.deps.logger.info(
        { erasures: pass.erasures, rows: pass.rowsDeleted, recheckAt: pass.recheckAt },
        'rows of erased people deleted from the managers spreadsheet',
      );
      // The trainees tab was just rewritten from the database.
      this.traineesStale = false;
    } catch (error) {
      await this.recordFailure(error, []);
      return 'failed';
    }
    await this.recordSuccess();
    return 'exported';
  }

  private async exportBatch(claimed: readonly ClaimedExport[]): Promise<PassOutcome> {
    const ids = claimed.map((c) => c.sessionId);
    try {
      const results = await loadSessionResults(this.deps.db, ids);
      this.warnAboutUnexportable(
        ids,
        results.map((r) => r.sessionId),
      );
      await this.deps.sheet.ensureResultsTab();
      let toAppend = results;
      if (claimed.some((c) => c.attempts > 1)) {
        // An earlier attempt may have been applied by Google before it failed for us (a timeout).
        const present = await this.deps.sheet.readExportedSessionIds();
        toAppend = results.filter((r) => !present.has(r.sessionId));
        if (toAppend.length < results.length) {
          this.deps.logger.info(
            { sessions: results.filter((r) => present.has(r.sessionId)).map((r) => r.sessionId) },
            'results already in the sheet from an earlier attempt; not appended again',
          );
        }
      }
      await this.deps.sheet.appendResults(toAppend);
      await markExportsDone(this.deps.db, ids);
      this.deps.logger.info({ sessions: toAppend.map((r) => r.sessionId) }, 'results exported to Google Sheets');
    } catch (error) {
      await this.recordFailure(error, claimed);
      return 'failed';
    }
    await this.recordSuccess();
    // Rewritten once the queue is drained (the next pass), not after every batch of a backlog.
    this.traineesStale = true;
    return 'exported';
  }

  private async refreshTrainees(): Promise<PassOutcome> {
    try {
      // Both tabs exist from the first pass on, so managers see the layout before the first result.
      await this.deps.sheet.ensureResultsTab();
      await rewriteSummaryTabs(this.deps.db, this.deps.sheet);
    } catch (error) {
      await this.recordFailure(error, []);
      return 'failed';
    }
    this.traineesStale = false;
    await this.recordSuccess();
    return 'idle';
  }

  private async recordSuccess(): Promise<void> {
    this.consecutiveFailures = 0;
    this.pausedUntil = 0;
    this.oneByOne = false;
    const ended = this.monitor.succeeded();
    // Google works (again, or for the first time since this instance started): what waits out a
    // backoff goes now, in order. Not after a refused row: that one would only fail again.
    const firstSuccess = !this.provenWorking;
    this.provenWorking = true;
    if (firstSuccess || (ended && !ended.includes('rejected'))) {
      try {
        const moved = await retryWaitingExportsNow(this.deps.db);
        if (moved > 0) this.deps.logger.info({ exports: moved }, 'queued exports brought forward after the outage');
      } catch (error) {
        this.deps.logger.warn({ err: error }, 'could not bring queued exports forward; they go at their retry time');
      }
    }
  }

  private async recordFailure(error: unknown, claimed: readonly ClaimedExport[]): Promise<void> {
    this.pauseAfterFailure();
    this.deps.onFailure?.(error instanceof SheetsError ? error.kind : 'database');
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof SheetsError) {
      this.deps.sheet.invalidate(error);
      if (error.kind === 'rejected' && !error.isUnknownRange && claimed.length > 1) this.oneByOne = true;
      if (this.stopping)
        this.deps.logger.info({ sessions: claimed.map((c) => c.sessionId) }, 'export interrupted by shutdown; stays queued');
      else this.monitor.failed(error, await this.pendingCount());
    } else {
      this.deps.logger.error({ err: error, sessions: claimed.map((c) => c.sessionId) }, 'Google Sheets export failed');
    }
    try {
      await recordExportFailures(
        this.deps.db,
        claimed.map((c) => ({ sessionId: c.sessionId, retryInMs: backoffDelay(c.attempts, this.timing, this.random) })),
        message,
      );
    } catch (dbError) {
      // The claim's lease brings the rows back anyway; a retry will check the sheet first.
      this.deps.logger.error({ err: dbError }, 'could not record a failed Google Sheets export');
    }
  }

  private pauseAfterFailure(): void {
    this.consecutiveFailures += 1;
    this.pausedUntil = Date.now() + backoffDelay(this.consecutiveFailures, this.timing, this.random);
  }

  private warnAboutUnexportable(claimed: readonly SessionId[], found: readonly SessionId[]): void {
    const missing = claimed.filter((id) => !found.includes(id));
    if (missing.length > 0) {
      this.deps.logger.warn(
        { sessions: missing },
        'queued for the sheet but not a finished, evaluated session; dropped from the queue',
      );
    }
  }

  /** For the outage log line only; -1 when the database cannot say (its own failure is logged elsewhere). */
  private async pendingCount(): Promise<number> {
    try {
      return (await exportQueueState(this.deps.db)).pending;
    } catch {
      return -1;
    }
  }

  private async nextWakeInMs(): Promise<number> {
    const pause = Math.max(0, this.pausedUntil - Date.now());
    let due: number | undefined;
    try {
      const [exports, erasures] = await Promise.all([
        exportQueueState(this.deps.db),
        sheetErasureQueueState(this.deps.db, sheetErasureJob),
      ]);
      const times = [exports.nextDueInMs, erasures.nextDueInMs].filter((ms) => ms !== undefined);
      due = times.length > 0 ? Math.min(...times) : undefined;
    } catch {
      due = undefined; // the next pass reports the database failure; meanwhile, poll
    }
    const untilWork = this.traineesStale ? 0 : (due ?? this.timing.pollIntervalMs);
    // A floor: rows another instance is claiming look due for a moment; never spin on them.
    const floor = Math.min(100, this.timing.pollIntervalMs);
    return Math.min(this.timing.pollIntervalMs, Math.max(pause, untilWork, floor));
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping || this.notified) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(() => this.wakeUp(), Math.max(0, ms));
      this.sleepTimer.unref();
    });
  }

  private wakeUp(): void {
    clearTimeout(this.sleepTimer);
    this.sleepTimer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
