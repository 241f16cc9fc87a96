import type { Logger } from '../../logger.js';
import type { SheetsError, SheetsFailureKind } from './sheets-client.js';

/** What admins hear of the export: it stopped on a problem only a person can fix, or it works again. */
export type SheetsAlert = { readonly kind: 'stopped'; readonly problem: SheetsProblem } | { readonly kind: 'resumed' };

/** Tells people (admins in Telegram) about the export; may be async, its failure is only logged. */
export type AlertSink = (alert: SheetsAlert) => void | Promise<void>;

/** Where the export writes, for messages that tell an operator what to fix. */
export interface ExportTarget {
  readonly spreadsheetId: string;
  readonly serviceAccountFile: string;
  /** Known once the key file was read. */
  readonly serviceAccountEmail: string | undefined;
}

interface Outage {
  readonly since: number;
  readonly kinds: Set<SheetsFailureKind>;
  failures: number;
  alerted: boolean;
}

/** Failures only a person can fix; admins hear about them. Outages of Google itself pass on their own. */
const needsPeople: ReadonlySet<SheetsFailureKind> = new Set(['credentials', 'api-disabled', 'no-access', 'spreadsheet-missing']);

/**
 * Turns a stream of failed and successful attempts into one log line (and one alert) per outage and
 * kind, instead of one per retry; and one line, when it ends, that exports resumed.
 */
export class OutageMonitor {
  private outage: Outage | undefined;
  private readonly alerts = new Set<Promise<void>>();

  constructor(
    private readonly logger: Logger,
    private readonly onAlert: AlertSink | undefined,
    private readonly target: () => ExportTarget,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while exports fail. */
  get isDown(): boolean {
    return this.outage !== undefined;
  }

  /** The failure kinds of the current outage. */
  get currentKinds(): readonly SheetsFailureKind[] {
    return [...(this.outage?.kinds ?? [])];
  }

  /** An attempt failed: the first failure of a kind in an outage is logged (and alerted); the rest at debug. */
  failed(error: SheetsError, queued: number): void {
    const outage = (this.outage ??= { since: this.now(), kinds: new Set(), failures: 0, alerted: false });
    outage.failures += 1;
    if (outage.kinds.has(error.kind)) {
      this.logger.debug(
        { kind: error.kind, failures: outage.failures, err: error.message },
        'Google Sheets export still failing',
      );
      return;
    }
    outage.kinds.add(error.kind);
    const target = this.target();
    const fields = {
      kind: error.kind,
      status: error.status,
      spreadsheetId: target.spreadsheetId,
      serviceAccount: target.serviceAccountEmail,
      queued,
    };
    const line = `Google Sheets export failing: ${error.message} Results stay queued and are retried with backoff.`;
    if (needsPeople.has(error.kind) || error.kind === 'rejected') this.logger.error(fields, line);
    else this.logger.warn(fields, line);
    if (needsPeople.has(error.kind)) {
      outage.alerted = true;
      this.alert({ kind: 'stopped', problem: describeSheetsProblem(error, target) });
    }
  }

  /**
   * An attempt succeeded: ends the outage, if there was one, with one line (and a word to admins who
   * were alerted). Returns the failure kinds of the outage that ended, if one did.
   */
  succeeded(): readonly SheetsFailureKind[] | undefined {
    const outage = this.outage;
    if (!outage) return undefined;
    this.outage = undefined;
    this.logger.info(
      { downForMs: this.now() - outage.since, failedAttempts: outage.failures, kinds: [...outage.kinds] },
      'Google Sheets export resumed',
    );
    if (outage.alerted) this.alert({ kind: 'resumed' });
    return [...outage.kinds];
  }

  /** Waits for alerts still being delivered. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.alerts]);
  }

  private alert(message: SheetsAlert): void {
    if (!this.onAlert) return;
    const sink = this.onAlert;
    const delivery = (async () => {
      try {
        await sink(message);
      } catch (error) {
        this.logger.warn({ err: error }, 'could not deliver a Google Sheets export alert');
      }
    })();
    this.alerts.add(delivery);
    void delivery.finally(() => this.alerts.delete(delivery));
  }
}

/**
 * What went wrong with the sheet and who can fix it where, as data: the bot words it in each admin's
 * language (src/bot/sheets-problem.ts), the operator's commands in Russian.
 */
export type SheetsProblem =
  | { readonly kind: 'key-unreadable'; readonly keyFile: string }
  | { readonly kind: 'key-rejected'; readonly account: string | undefined; readonly keyFile: string }
  | { readonly kind: 'api-disabled'; readonly account: string | undefined }
  | { readonly kind: 'no-access'; readonly account: string | undefined }
  | { readonly kind: 'spreadsheet-missing'; readonly spreadsheetId: string }
  /** Google's own outage or a refusal we have no advice for: Google's message as it came. */
  | { readonly kind: 'other'; readonly message: string };

export function describeSheetsProblem(error: SheetsError, target: ExportTarget): SheetsProblem {
  const account = target.serviceAccountEmail;
  switch (error.kind) {
    case 'credentials':
      return error.status === undefined
        ? { kind: 'key-unreadable', keyFile: target.serviceAccountFile }
        : { kind: 'key-rejected', account, keyFile: target.serviceAccountFile };
    case 'api-disabled':
      return { kind: 'api-disabled', account };
    case 'no-access':
      return { kind: 'no-access', account };
    case 'spreadsheet-missing':
      return { kind: 'spreadsheet-missing', spreadsheetId: target.spreadsheetId };
    case 'unavailable':
    case 'rejected':
      return { kind: 'other', message: error.message };
    default: {
      const unreachable: never = error.kind;
      return unreachable;
    }
  }
}
