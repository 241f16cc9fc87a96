import type { SessionResult, TraineeSummary } from '../../db/queries/sheet-exports.js';
import type { Logger } from '../../logger.js';
import {
  columnFormatRequests,
  columnLetter,
  RESULTS_LAYOUT,
  resultRow,
  SESSION_ID_COLUMN,
  sessionIdOf,
  sortTrainees,
  tabFormattingRequests,
  traineeRow,
  TRAINEES_LAYOUT,
  type RowContext,
  type TabLayout,
} from './sheet-layout.js';
import { quoteTab, readServiceAccountKey, SheetsClient, SheetsError, type CellValue, type TabInfo } from './sheets-client.js';
import type { SummarySources } from './summary-tabs.js';

export interface ManagersSheetOptions {
  readonly spreadsheetId: string;
  readonly serviceAccountFile: string;
  readonly apiRoot: string | undefined;
  readonly resultsTab: string;
  readonly traineesTab: string;
  readonly timeZone: string;
  readonly scenarioTitle: (key: string) => string;
  /** Per-request limit of the Sheets client. */
  readonly requestTimeoutMs?: number;
  /** What «Критерии», «Пересмотры», «Задания» and «Сертификаты» are read with; absent: only «Сотрудники» is rewritten. */
  readonly summarySources?: SummarySources;
}

/**
 * The managers' spreadsheet as the export sees it: a results tab that grows (and loses an erased
 * person's rows) and a trainees tab that is rewritten. The key file is read on first use (and again
 * after Google rejects it), so a key fixed on disk is picked up without a restart; tabs are created
 * with their header when missing.
 */
export class ManagersSheet {
  private client: SheetsClient | undefined;
  /** Kept when the client is dropped after a rejected key: messages still name the account. */
  private lastKnownEmail: string | undefined;
  private stopped = false;
  private readonly readyTabs = new Set<string>();
  private readonly rowContext: RowContext;

  constructor(
    private readonly options: ManagersSheetOptions,
    private readonly logger: Logger,
  ) {
    this.rowContext = { scenarioTitle: options.scenarioTitle, timeZone: options.timeZone };
  }

  get spreadsheetId(): string {
    return this.options.spreadsheetId;
  }

  get resultsTab(): string {
    return this.options.resultsTab;
  }

  get traineesTab(): string {
    return this.options.traineesTab;
  }

  get serviceAccountFile(): string {
    return this.options.serviceAccountFile;
  }

  /** The service account's e-mail once its key was read: the address to share the spreadsheet with. */
  get serviceAccountEmail(): string | undefined {
    return this.client?.key.clientEmail ?? this.lastKnownEmail;
  }

  /** Creates the results tab with its header and formats when it is missing. */
  async ensureResultsTab(): Promise<void> {
    await this.ensureTab(this.options.resultsTab, RESULTS_LAYOUT);
  }

  /** The session ids already in the results tab (its first column). */
  async readExportedSessionIds(): Promise<Set<number>> {
    const column = await this.inTab(this.options.resultsTab, RESULTS_LAYOUT, (client, tab) =>
      client.getValues(`${tab}!${SESSION_ID_COLUMN}2:${SESSION_ID_COLUMN}`),
    );
    const ids = new Set<number>();
    for (const row of column) {
      const id = sessionIdOf(row[0]);
      if (id !== undefined) ids.add(id);
    }
    return ids;
  }

  /** Appends one row per session to the results tab, in one request (applied entirely or not at all). */
  async appendResults(results: readonly SessionResult[]): Promise<void> {
    if (results.length === 0) return;
    const rows = results.map((result) => resultRow(result, this.rowContext));
    await this.inTab(this.options.resultsTab, RESULTS_LAYOUT, (client, tab) => client.appendValues(`${tab}!A1`, rows));
  }

  /**
   * Deletes the results rows of these sessions, wherever they are (a manager may have sorted the
   * tab), read and deleted in two requests; returns how many rows went. The header is never touched.
   */
  async deleteResultRows(sessionIds: ReadonlySet<number>): Promise<number> {
    if (sessionIds.size === 0) return 0;
    const title = this.options.resultsTab;
    return this.inTab(title, RESULTS_LAYOUT, async (client, tab) => {
      // The whole column from row 1, so that an index in the answer is the row's index in the tab.
      const column = await client.getValues(`${tab}!${SESSION_ID_COLUMN}:${SESSION_ID_COLUMN}`);
      const rows = column.flatMap((row, index) => {
        const id = sessionIdOf(row[0]);
        return index > 0 && id !== undefined && sessionIds.has(id) ? [index] : [];
      });
      if (rows.length === 0) return 0;
      // Asked now rather than remembered: a tab deleted and made again by hand has a new id.
      const sheetId = (await client.listTabs()).find((t) => t.title === title)?.sheetId;
      if (sheetId === undefined) throw new SheetsError('rejected', `the tab «${title}» went while its rows were deleted`);
      await client.deleteRows(sheetId, rows);
      return rows.length;
    });
  }

  get summarySources(): SummarySources | undefined {
    return this.options.summarySources;
  }

  /** Replaces the trainees tab's rows with the current numbers (the header stays). */
  async rewriteTrainees(trainees: readonly TraineeSummary[]): Promise<void> {
    const rows = sortTrainees(trainees).map((trainee) => traineeRow(trainee, this.options.timeZone));
    await this.rewriteTab(this.options.traineesTab, TRAINEES_LAYOUT, rows);
  }

  /** Replaces a tab's rows below its header with these (the tab is made when missing). */
  async rewriteTab(title: string, layout: TabLayout, rows: readonly CellValue[][]): Promise<void> {
    const lastColumn = columnLetter(layout.header.length - 1);
    await this.inTab(title, layout, async (client, tab) => {
      await client.clearValues(`${tab}!A2:${lastColumn}`);
      // Append, not update: it grows the grid past its 1,000 rows when a team is that large.
      if (rows.length > 0) await client.appendValues(`${tab}!A1`, rows);
    });
  }

  /** Aborts the Google requests in flight and refuses new ones: the bot is stopping and must not wait for Google. */
  abortInFlight(): void {
    this.stopped = true;
    this.client?.abortInFlight();
  }

  /** Accepts requests again after `abortInFlight()`. */
  reopen(): void {
    this.stopped = false;
    this.client?.reopen();
  }

  /** Forgets what a failure made doubtful: the key after Google rejected it, the tabs after an unknown range. */
  invalidate(error: SheetsError): void {
    if (error.kind === 'credentials') this.client = undefined;
    if (error.isUnknownRange || error.kind === 'spreadsheet-missing' || error.kind === 'credentials') this.readyTabs.clear();
  }

  private async connect(): Promise<SheetsClient> {
    if (!this.client) {
      const key = await readServiceAccountKey(this.options.serviceAccountFile);
      this.lastKnownEmail = key.clientEmail;
      this.client = new SheetsClient(key, {
        spreadsheetId: this.options.spreadsheetId,
        apiRoot: this.options.apiRoot,
        ...(this.options.requestTimeoutMs !== undefined ? { timeoutMs: this.options.requestTimeoutMs } : {}),
      });
      if (this.stopped) this.client.abortInFlight();
    }
    return this.client;
  }

  /**
   * Runs an operation on a tab the export owns, creating the tab first. A tab deleted by hand since
   * (Google: "Unable to parse range") is recreated with its header and the operation runs once more.
   */
  private async inTab<T>(
    title: string,
    layout: TabLayout,
    operation: (client: SheetsClient, tab: string) => Promise<T>,
  ): Promise<T> {
    await this.ensureTab(title, layout);
    const client = await this.connect();
    try {
      return await operation(client, quoteTab(title));
    } catch (error) {
      if (!(error instanceof SheetsError && error.isUnknownRange)) throw error;
      this.logger.warn({ tab: title }, 'a tab of the managers spreadsheet was deleted by hand; recreating it');
      this.readyTabs.delete(title);
      await this.ensureTab(title, layout);
      return operation(client, quoteTab(title));
    }
  }

  /** Adds a tab; another bot instance adding it at the same moment is not a failure. */
  private async addTab(client: SheetsClient, title: string): Promise<TabInfo> {
    try {
      const tab = await client.addTab(title);
      this.logger.info({ tab: title }, 'created a tab in the managers spreadsheet');
      return tab;
    } catch (error) {
      if (!(error instanceof SheetsError && error.kind === 'rejected' && /already exists/i.test(error.googleMessage ?? ''))) {
        throw error;
      }
      const created = (await client.listTabs()).find((tab) => tab.title === title);
      if (!created) throw error;
      return created;
    }
  }

  private async ensureTab(title: string, layout: TabLayout): Promise<void> {
    if (this.readyTabs.has(title)) return;
    const client = await this.connect();
    const existing = (await client.listTabs()).find((tab) => tab.title === title);
    const tab = existing ?? (await this.addTab(client, title));
    const header = (await client.getValues(`${quoteTab(title)}!1:1`))[0] ?? [];
    if (header.length === 0) {
      // Formats first, header last: a tab with a header is a finished tab.
      await client.batchUpdate(tabFormattingRequests(tab.sheetId, layout));
      await client.updateValues(`${quoteTab(title)}!A1`, [layout.header]);
    } else if (header.length < layout.header.length && header.every((name, index) => String(name) === layout.header[index])) {
      // A tab from before the newer columns: their names go on the right, the rows written keep their cells.
      await client.batchUpdate(columnFormatRequests(tab.sheetId, layout));
      await client.updateValues(`${quoteTab(title)}!${columnLetter(header.length)}1`, [layout.header.slice(header.length)]);
      this.logger.info(
        { tab: title, added: layout.header.slice(header.length) },
        'added the new columns to the header of a spreadsheet tab',
      );
    } else if (layout.header.every((name, index) => String(header[index] ?? '') === name)) {
      // A tab prepared by hand with our header: make sure dates read as dates (once per start).
      await client.batchUpdate(columnFormatRequests(tab.sheetId, layout));
    } else {
      this.logger.warn(
        { tab: title, found: header, expected: layout.header },
        'the header row of a managers spreadsheet tab differs from the export columns; rows are appended in the export order',
      );
    }
    this.readyTabs.add(title);
  }
}
