import type { Database } from '../../db/client.js';
import type { SessionId } from '../../db/ids.js';
import {
  claimDueExports,
  exportStatuses,
  listSessionResults,
  markExportsDone,
  recordExportedOutsideQueue,
  recordExportFailures,
  type FinishedRange,
  type SessionResult,
} from '../../db/queries/sheet-exports.js';
import type { Logger } from '../../logger.js';
import { rewriteSummaryTabs } from './summary-tabs.js';
import { defaultExportTiming } from './export-worker.js';
import type { ManagersSheet } from './managers-sheet.js';

export interface ResyncDeps {
  readonly db: Database;
  readonly sheet: ManagersSheet;
  readonly logger: Logger;
  /** How long claimed queue rows stay reserved for the resync. */
  readonly leaseMs?: number;
  /** Most rows per append request. */
  readonly chunkSize?: number;
}

/** What a resync found and did. */
export interface ResyncReport {
  /** Finished, evaluated sessions in the range. */
  readonly sessionsInRange: number;
  /** Of those, already in the results tab. */
  readonly alreadyInSheet: number;
  /** Sessions appended now, oldest first. */
  readonly appended: readonly SessionId[];
  /** Sessions a running bot is sending right now: left to it, so nothing is written twice. */
  readonly leftToWorker: readonly SessionId[];
}

/**
 * Re-exports every finished, evaluated session of the range that is missing from the results tab,
 * without duplicating what is there, then rewrites the trainees tab. Safe next to a running bot:
 * queued exports (due or waiting for a retry) are claimed through the same queue; a row a bot is
 * sending at this moment is left to it.
 */
export async function resyncSheet(deps: ResyncDeps, range: FinishedRange = {}): Promise<ResyncReport> {
  const results = await listSessionResults(deps.db, range);
  await deps.sheet.ensureResultsTab();
  const present = await deps.sheet.readExportedSessionIds();
  const statuses = await exportStatuses(
    deps.db,
    results.map((r) => r.sessionId),
  );
  const queued = results.filter((r) => statuses.get(r.sessionId) === 'pending').map((r) => r.sessionId);
  const claimed = new Set(
    (
      await claimDueExports(deps.db, {
        limit: Math.max(queued.length, 1),
        leaseMs: deps.leaseMs ?? defaultExportTiming.leaseMs,
        onlySessions: queued,
        includeWaiting: true,
      })
    ).map((c) => c.sessionId),
  );

  const leftToWorker = queued.filter((id) => !claimed.has(id));
  const mine = results.filter((r) => !(statuses.get(r.sessionId) === 'pending' && !claimed.has(r.sessionId)));
  const alreadyThere = mine.filter((r) => present.has(r.sessionId));
  const missing = mine.filter((r) => !present.has(r.sessionId));

  await markExportsDone(
    deps.db,
    alreadyThere.filter((r) => claimed.has(r.sessionId)).map((r) => r.sessionId),
  );
  await appendInChunks(deps, missing, claimed);

  await rewriteSummaryTabs(deps.db, deps.sheet);
  const report: ResyncReport = {
    sessionsInRange: results.length,
    alreadyInSheet: results.filter((r) => present.has(r.sessionId)).length,
    appended: missing.map((r) => r.sessionId),
    leftToWorker,
  };
  deps.logger.info({ ...report, appended: report.appended.length }, 'managers spreadsheet resynced');
  return report;
}

async function appendInChunks(
  deps: ResyncDeps,
  missing: readonly SessionResult[],
  claimed: ReadonlySet<SessionId>,
): Promise<void> {
  const chunkSize = deps.chunkSize ?? 500;
  for (let start = 0; start < missing.length; start += chunkSize) {
    const chunk = missing.slice(start, start + chunkSize);
    const ids = chunk.map((r) => r.sessionId);
    const queuedIds = ids.filter((id) => claimed.has(id));
    try {
      await deps.sheet.appendResults(chunk);
    } catch (error) {
      // Give the queued ones back at once; their retry reads the sheet before appending.
      const unsent = missing
        .slice(start)
        .map((r) => r.sessionId)
        .filter((id) => claimed.has(id));
      await recordExportFailures(
        deps.db,
        unsent.map((sessionId) => ({ sessionId, retryInMs: 0 })),
        `resync: ${(error as Error).message}`,
      );
      throw error;
    }
    await markExportsDone(deps.db, queuedIds);
    await recordExportedOutsideQueue(
      deps.db,
      ids.filter((id) => !claimed.has(id)),
    );
  }
}
