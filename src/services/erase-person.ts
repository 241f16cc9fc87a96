import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../db/client.js';
import type { TelegramId, UserId } from '../db/ids.js';
import { ErasureListener } from '../db/queries/erasure-listener.js';
import {
  conversationKeyOf,
  deletePersonRows,
  findPersonOnRecord,
  sheetErasuresOf,
  type ErasedRows,
} from '../db/queries/erasures.js';
import { displayName, type UserRole } from '../db/queries/users.js';
import { resilientQueries, retryTransient } from '../db/retry.js';
import type { Logger } from '../logger.js';
import { backoffDelay, defaultExportTiming } from './sheets/export-worker.js';
import type { ManagersSheet } from './sheets/managers-sheet.js';
import { describeSheetsProblem, type SheetsProblem } from './sheets/outage-monitor.js';
import { runSheetErasures, type SheetErasurePass } from './sheets/sheet-erasure.js';
import { SheetsError } from './sheets/sheets-client.js';

/** Who was erased, as the running bot's caches know them. */
export interface ErasedPerson {
  readonly telegramId: TelegramId;
  readonly userId: UserId;
}

/**
 * What a bot process remembers of people between updates; each must forget an erased person, or
 * the person's next message would be served from a user id that no longer exists.
 */
export interface PeopleCaches {
  /** The access gate's admitted users (src/services/access.ts). */
  readonly access?: { forget(telegramId: TelegramId): void; forgetAll(): void };
  /** Active sessions by user (src/services/training.ts). */
  readonly training?: { forget(userId: UserId): void; forgetAll(): void };
  /** Conversation states by chat (src/db/queries/conversation-states.ts). */
  readonly conversations?: { forget(key: string): void; forgetAll(): void };
}

/** What happened in the managers' Google Sheet. */
export type SheetOutcome =
  /** The export is off (GOOGLE_SHEETS_ID unset): there is no sheet to clean. */
  | { readonly kind: 'off' }
  /** Nothing of the person was there to delete (nothing was queued for them). */
  | { readonly kind: 'nothing' }
  /** Their results rows are gone and «Сотрудники» was rewritten without them. */
  | {
      readonly kind: 'erased';
      readonly rowsDeleted: number;
      /** When the bot's export worker looks at the sheet once more, for a write begun before the erasure. */
      readonly recheckAt?: Date;
    }
  /** Not possible now; queued in PostgreSQL (`sheet_erasures`) and retried by the bot's export worker. */
  | {
      readonly kind: 'queued';
      readonly reason: 'google-unavailable' | 'google-refused' | 'busy' | 'database';
      /** What an operator should fix, for `google-refused` (naming the account or the spreadsheet). */
      readonly problem?: SheetsProblem;
    };

/** What an erasure removed, for the person who asked for it. */
export interface ErasureReport {
  readonly telegramId: TelegramId;
  /** False: the database held nothing about this id (already erased, or never here; a refused request counts). */
  readonly found: boolean;
  /** Rows deleted, per table. */
  readonly removed: Omit<ErasedRows, 'userId' | 'sheetErasureId' | 'invitesDetached' | 'invitesClosed'>;
  /** Invites the person created: kept without their name (the people they admitted stay admitted); open ones closed. */
  readonly invites: { readonly detached: number; readonly closed: number };
  readonly sheet: SheetOutcome;
}

/** Who an erasure would concern, for the confirmation question. */
export interface ErasurePreview {
  readonly telegramId: TelegramId;
  /** Undefined: the database holds nothing about this id. */
  readonly person: { readonly name: string; readonly role: UserRole; readonly sessions: number } | undefined;
  /** Sheet deletions of an earlier erasure of this id that are still queued. */
  readonly sheetPending: number;
}

/** Erasing a person (152-ФЗ, GDPR): what `/erase` and `npm run user:erase` use. */
export interface PersonErasure {
  /** Who the id is, before anything is deleted. */
  preview(telegramId: TelegramId): Promise<ErasurePreview>;
  /** Erases the person; erasing again finds nothing (and retries a sheet part still queued). */
  erase(telegramId: TelegramId): Promise<ErasureReport>;
}

/** The clock of the sheet part; tests shrink it. */
export interface ErasureTiming {
  /** How long the sheet's deletion lease is held at most. */
  readonly leaseMs: number;
  /** Retry delays of a queued sheet deletion (doubling, full jitter), as the export's. */
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  /** How long to wait for another process that is deleting rows before leaving ours to the bot. */
  readonly busyWaitMs: number;
  /**
   * How long a write to the sheet begun before the erasure may take to land (an export's append, a
   * rewrite of «Сотрудники» from data read before): the bot looks once more after it. The export's lease.
   */
  readonly settleMs: number;
}

const defaultTiming: ErasureTiming = {
  leaseMs: defaultExportTiming.leaseMs,
  backoffBaseMs: defaultExportTiming.backoffBaseMs,
  backoffCapMs: defaultExportTiming.backoffCapMs,
  busyWaitMs: 20_000,
  settleMs: defaultExportTiming.leaseMs,
};

export interface PersonErasureDeps {
  readonly db: Database;
  /** The managers' spreadsheet; undefined when the export is off. */
  readonly sheet: ManagersSheet | undefined;
  readonly logger: Logger;
  /** This process's caches (the bot's); a command-line erasure has none, and the bot hears of it by NOTIFY. */
  readonly caches?: PeopleCaches;
  readonly timing?: Partial<ErasureTiming>;
}

export function createPersonErasure(deps: PersonErasureDeps): PersonErasure {
  return {
    preview: (telegramId) => previewErasure(deps, telegramId),
    erase: (telegramId) => erasePerson(deps, telegramId),
  };
}

/** Who the id is in the database, and whether an earlier erasure of theirs still waits for the sheet. */
export async function previewErasure(
  deps: Pick<PersonErasureDeps, 'db' | 'logger'>,
  telegramId: TelegramId,
): Promise<ErasurePreview> {
  const query = resilientQueries(deps.db, deps.logger);
  const onRecord = await query('find the person to erase', (db) => findPersonOnRecord(db, telegramId));
  const pending = await query('read queued sheet erasures', (db) => sheetErasuresOf(db, telegramId));
  return {
    telegramId,
    person: onRecord ? { name: displayName(onRecord.user), role: onRecord.user.role, sessions: onRecord.sessions } : undefined,
    sheetPending: pending.length,
  };
}

/**
 * Erases a person: every row PostgreSQL holds about them (one statement: the user and all that
 * cascades from it, their conversation state, their name on invites), this process's caches of
 * them, then their rows in the managers' sheet («Результаты», by session id) and «Сотрудники»
 * rewritten. The sheet part is queued in the same statement as the deletion, so when Google is
 * unreachable it is retried by the bot's export worker rather than forgotten.
 */
export async function erasePerson(deps: PersonErasureDeps, telegramId: TelegramId): Promise<ErasureReport> {
  const timing = { ...defaultTiming, ...deps.timing };
  const rows = await retryTransient(
    // Safe to repeat: an attempt that landed leaves nothing for the next one to find.
    () =>
      deletePersonRows(deps.db, telegramId, {
        queueSheetErasure: deps.sheet !== undefined,
        workerWaitsMs: timing.busyWaitMs + timing.leaseMs,
        settleMs: timing.settleMs,
      }),
    { logger: deps.logger, what: 'erase a person' },
  );
  forgetPerson(deps.caches, telegramId, rows.userId);
  const sheet = await eraseFromSheet(deps, timing, telegramId);
  const report = toReport(telegramId, rows, sheet);
  // The former internal id, not the Telegram id: this line adds nothing that names the person.
  deps.logger.info({ userId: rows.userId, removed: report.removed, invites: report.invites, sheet: sheet.kind }, 'person erased');
  return report;
}

/**
 * Keeps a bot process's caches in step with erasures done anywhere: `person_erased` notices make
 * them forget the person, and a reconnect (notices may have been lost meanwhile) makes them forget
 * everyone. Start it once the database is open; stop it before the database closes.
 */
export async function listenForErasures(db: Database, caches: PeopleCaches, logger: Logger): Promise<{ stop(): Promise<void> }> {
  return ErasureListener.start(
    db,
    {
      onErased: (notice) => forgetPerson(caches, notice.telegramId, notice.userId),
      onMissedNotices: () => forgetEveryone(caches),
    },
    logger.child({ component: 'erasure-listener' }),
  );
}

function forgetPerson(caches: PeopleCaches | undefined, telegramId: TelegramId, userId: UserId | undefined): void {
  caches?.access?.forget(telegramId);
  caches?.conversations?.forget(conversationKeyOf(telegramId));
  if (userId !== undefined) caches?.training?.forget(userId);
}

function forgetEveryone(caches: PeopleCaches): void {
  caches.access?.forgetAll();
  caches.conversations?.forgetAll();
  caches.training?.forgetAll();
}

/** This person's queued sheet deletions, done now if Google and the deletion lease allow. */
async function eraseFromSheet(deps: PersonErasureDeps, timing: ErasureTiming, telegramId: TelegramId): Promise<SheetOutcome> {
  const sheet = deps.sheet;
  if (!sheet) return { kind: 'off' };
  const deadline = Date.now() + timing.busyWaitMs;
  for (;;) {
    let pass: SheetErasurePass;
    try {
      pass = await runSheetErasures(
        {
          db: deps.db,
          sheet,
          logger: deps.logger,
          leaseMs: timing.leaseMs,
          retryDelay: (attempt) => backoffDelay(attempt, timing, Math.random),
        },
        { telegramId },
      );
    } catch (error) {
      deps.logger.warn({ err: error }, 'the managers spreadsheet could not be cleaned now; the export worker retries');
      return queuedBecause(error, sheet);
    }
    switch (pass.kind) {
      case 'none':
        return { kind: 'nothing' };
      case 'erased':
        return { kind: 'erased', rowsDeleted: pass.rowsDeleted, ...(pass.recheckAt ? { recheckAt: pass.recheckAt } : {}) };
      case 'busy':
        if (Date.now() >= deadline) return { kind: 'queued', reason: 'busy' };
        await sleep(Math.min(500, timing.busyWaitMs));
        break;
      default: {
        const unreachable: never = pass;
        throw new Error(`unknown sheet erasure outcome ${JSON.stringify(unreachable)}`);
      }
    }
  }
}

function queuedBecause(error: unknown, sheet: ManagersSheet): SheetOutcome {
  if (!(error instanceof SheetsError)) return { kind: 'queued', reason: 'database' };
  sheet.invalidate(error);
  if (error.kind === 'unavailable') return { kind: 'queued', reason: 'google-unavailable' };
  const target = {
    spreadsheetId: sheet.spreadsheetId,
    serviceAccountFile: sheet.serviceAccountFile,
    serviceAccountEmail: sheet.serviceAccountEmail,
  };
  return { kind: 'queued', reason: 'google-refused', problem: describeSheetsProblem(error, target) };
}

function toReport(telegramId: TelegramId, rows: ErasedRows, sheet: SheetOutcome): ErasureReport {
  const { userId: _userId, sheetErasureId: _sheetErasureId, invitesDetached, invitesClosed, ...removed } = rows;
  return {
    telegramId,
    // A refused person never became a user: their request alone is still something held about them.
    found: rows.users + rows.accessGrants + rows.accessRequests > 0,
    removed,
    invites: { detached: invitesDetached, closed: invitesClosed },
    sheet,
  };
}
