import { randomUUID } from 'node:crypto';
import type { Database } from '../db/client.js';
import { releaseJobLease, takeJobLease } from '../db/queries/job-runs.js';
import { deleteExpiredTranscripts } from '../db/queries/transcripts.js';
import { isTransientDatabaseError } from '../db/retry.js';
import type { Logger } from '../logger.js';

/** The job's name in `job_runs`: its lease and when it last completed, shared by every process. */
export const retentionJob = 'transcript-retention';

/** The clock of the job; tests shrink it. */
export interface RetentionTiming {
  /** How often a process looks whether a run is due (a run missed by a restart starts within this). */
  readonly checkIntervalMs: number;
  /** A run is due this long after the last completed one. */
  readonly runEveryMs: number;
  /** How long a run may hold the job before another process may take it over (the run died). */
  readonly leaseMs: number;
  /** Sessions per statement: a first run over years of dialogue must not be one huge delete. */
  readonly batchSize: number;
}

export const defaultRetentionTiming: RetentionTiming = {
  checkIntervalMs: 60 * 60_000,
  runEveryMs: 24 * 60 * 60_000,
  leaseMs: 60 * 60_000,
  batchSize: 500,
};

export interface RetentionDeps {
  readonly db: Database;
  /** RETENTION_DAYS; undefined keeps transcripts forever (the job does nothing). */
  readonly retentionDays: number | undefined;
  readonly logger: Logger;
  readonly timing?: Partial<RetentionTiming>;
}

/** What one run deleted. */
export interface RetentionRun {
  readonly sessions: number;
  readonly messages: number;
}

/**
 * Deletes the transcripts (messages) of sessions finished or abandoned more than RETENTION_DAYS
 * ago, once a day; evaluations and scores stay, the session keeps `transcript_deleted_at`. Every
 * bot process checks hourly and the `job_runs` row decides: one process runs it per day, and a run
 * cut short (a restart, PostgreSQL down) is run again at the next check.
 */
export class RetentionJob {
  private readonly timing: RetentionTiming;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopping = false;

  constructor(private readonly deps: RetentionDeps) {
    this.timing = { ...defaultRetentionTiming, ...deps.timing };
  }

  /** Looks now whether a run is due, then every `checkIntervalMs`. Does nothing without RETENTION_DAYS. */
  start(): void {
    if (this.deps.retentionDays === undefined || this.timer || this.running) return;
    this.stopping = false;
    this.deps.logger.info({ retentionDays: this.deps.retentionDays }, 'transcripts older than RETENTION_DAYS are deleted daily');
    this.check();
  }

  /** Stops checking; a run in progress stops after its current batch (the next check finishes it). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * Runs now if a run is due and no other process is running one; undefined when not run. A run
   * that fails gives the job back undone, so that the next check runs it again.
   */
  async runIfDue(): Promise<RetentionRun | undefined> {
    const days = this.deps.retentionDays;
    if (days === undefined) return undefined;
    const { db } = this.deps;
    const lease = await takeJobLease(db, retentionJob, randomUUID(), this.timing.leaseMs, {
      // A little early rather than a check late: hourly checks of a daily job would drift otherwise.
      notCompletedWithinMs: Math.max(0, this.timing.runEveryMs - this.timing.checkIntervalMs / 2),
    });
    if (!lease) return undefined;
    let completed = false;
    const total = { sessions: 0, messages: 0 };
    try {
      for (;;) {
        const batch = await deleteExpiredTranscripts(db, days, this.timing.batchSize);
        total.sessions += batch.sessions;
        total.messages += batch.messages;
        if (batch.sessions < this.timing.batchSize) {
          completed = true;
          break;
        }
        if (this.stopping) break;
      }
    } finally {
      await releaseJobLease(db, lease, completed).catch((error: unknown) =>
        this.deps.logger.warn({ err: error }, 'could not give back the retention job; it is free again when its lease ends'),
      );
    }
    if (total.sessions > 0) {
      this.deps.logger.info({ ...total, retentionDays: days }, 'transcripts past RETENTION_DAYS deleted; evaluations kept');
    }
    return total;
  }

  private check(): void {
    const run = this.runIfDue().catch((error: unknown) => {
      const level = isTransientDatabaseError(error) ? 'warn' : 'error';
      this.deps.logger[level]({ err: error }, 'transcript retention run failed; tried again at the next check');
    });
    this.running = run;
    void run.finally(() => {
      if (this.running === run) this.running = undefined;
      if (this.stopping) return;
      this.timer = setTimeout(() => this.check(), this.timing.checkIntervalMs);
      this.timer.unref();
    });
  }
}

/** Builds and starts the retention job: what main.ts calls once the database is open. */
export function startRetention(deps: RetentionDeps): RetentionJob {
  const job = new RetentionJob(deps);
  job.start();
  return job;
}
