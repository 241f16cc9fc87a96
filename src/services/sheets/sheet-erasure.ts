import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/client.js';
import type { TelegramId } from '../../db/ids.js';
import { dueSheetErasures, finishSheetErasures, recordSheetErasureFailures, sheetErasuresOf } from '../../db/queries/erasures.js';
import { releaseJobLease, takeJobLease } from '../../db/queries/job-runs.js';
import type { Logger } from '../../logger.js';
import { rewriteSummaryTabs } from './summary-tabs.js';
import type { ManagersSheet } from './managers-sheet.js';

/**
 * The lease under which rows of the results tab are deleted. One process at a time: a deletion
 * addresses rows by position, and another process's deletion between our read and our delete
 * would shift them.
 */
export const sheetErasureJob = 'sheet-erasure';

export interface SheetErasureDeps {
  readonly db: Database;
  readonly sheet: ManagersSheet;
  readonly logger: Logger;
  /** How long the deletion lease is held at most: above the requests of one pass (≤ 6) × their timeout (30 s). */
  readonly leaseMs: number;
  /** The delay before a failed erasure is tried again, by its attempt number (1 for the first failure). */
  readonly retryDelay: (attempt: number) => number;
}

/** What one pass over queued sheet erasures did. */
export type SheetErasurePass =
  /** Nothing was queued (for this person). */
  | { readonly kind: 'none' }
  /** Another process is deleting rows right now; ours stay queued. */
  | { readonly kind: 'busy' }
  | {
      readonly kind: 'erased';
      readonly erasures: number;
      readonly rowsDeleted: number;
      /** When the bot looks at the sheet once more, for a write begun before the erasure; none after that last look. */
      readonly recheckAt: Date | undefined;
    };

/**
 * Deletes from the managers' sheet the results rows of queued erasures (`due` ones, or all of one
 * person's), then rewrites the trainees tab from the database, which no longer has them. A Google
 * failure is recorded on the erasures (they are retried after a backoff by the export worker) and
 * thrown; nothing is dropped from the queue until the sheet is clean.
 */
export async function runSheetErasures(
  deps: SheetErasureDeps,
  which: 'due' | { readonly telegramId: TelegramId },
): Promise<SheetErasurePass> {
  const { db, sheet } = deps;
  const lease = await takeJobLease(db, sheetErasureJob, randomUUID(), deps.leaseMs);
  if (!lease) return { kind: 'busy' };
  try {
    const erasures = which === 'due' ? await dueSheetErasures(db) : await sheetErasuresOf(db, which.telegramId);
    if (erasures.length === 0) return { kind: 'none' };
    const sessionIds = new Set<number>(erasures.flatMap((e) => e.sessionIds));
    let rowsDeleted: number;
    try {
      rowsDeleted = await sheet.deleteResultRows(sessionIds);
      await rewriteSummaryTabs(db, sheet);
    } catch (error) {
      await recordSheetErasureFailures(
        db,
        erasures.map((e) => ({ id: e.id, retryInMs: deps.retryDelay(e.attempts + 1) })),
        error instanceof Error ? error.message : String(error),
      );
      throw error;
    }
    const recheckAt = await finishSheetErasures(db, erasures);
    return { kind: 'erased', erasures: erasures.length, rowsDeleted, recheckAt };
  } finally {
    // Not released, the lease still ends by itself; the outcome above is what the caller needs.
    await releaseJobLease(db, lease, false).catch((error: unknown) =>
      deps.logger.warn({ err: error }, 'could not give back the sheet deletion lease; it ends by itself'),
    );
  }
}
