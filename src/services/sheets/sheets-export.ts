import type { Config } from '../../config.js';
import type { Database } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import { ExportWorker, type ExportTiming, type ExportWorkerDeps } from './export-worker.js';
import { ManagersSheet } from './managers-sheet.js';
import type { AlertSink } from './outage-monitor.js';
import type { SummarySources } from './summary-tabs.js';

/** The running export, for the composition root. */
export interface SheetsExport {
  readonly worker: ExportWorker;
  /** The spreadsheet the worker writes to; an erasure deletes rows through the same client. */
  readonly sheet: ManagersSheet;
  /** One line for the start-up log: which spreadsheet, which tabs, which key file. */
  describe(): string;
}

/** Optional hooks and knobs; production needs none of them (tests shrink the timing). */
export interface SheetsExportOptions {
  readonly timing?: Partial<ExportTiming>;
  readonly requestTimeoutMs?: number;
  readonly random?: () => number;
  /** Every failed attempt, e.g. `metrics.countError('sheets')`. */
  readonly onFailure?: ExportWorkerDeps['onFailure'];
  /** What the whole-rewritten tabs besides «Сотрудники» are read with (criteria, reviews, assignments). */
  readonly summarySources?: SummarySources;
}

type EnabledSheetsConfig = Extract<Config['sheets'], { enabled: true }>;

/** The managers' spreadsheet as configured; shared by the worker and `npm run sheets:resync`. */
export function createManagersSheet(
  sheets: EnabledSheetsConfig,
  timeZone: string,
  scenarioTitle: (key: string) => string,
  logger: Logger,
  requestTimeoutMs?: number,
  summarySources?: SummarySources,
): ManagersSheet {
  return new ManagersSheet(
    {
      spreadsheetId: sheets.spreadsheetId,
      serviceAccountFile: sheets.serviceAccountFile,
      apiRoot: sheets.apiRoot,
      resultsTab: sheets.resultsTab,
      traineesTab: sheets.traineesTab,
      timeZone,
      scenarioTitle,
      ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
      ...(summarySources ? { summarySources } : {}),
    },
    logger,
  );
}

/**
 * Builds the durable Google Sheets export, not yet started (call `worker.start()`), or undefined
 * when the export is off (GOOGLE_SHEETS_ID unset). Nothing touches the network or the key file here.
 */
export function createSheetsExport(
  config: Pick<Config, 'sheets' | 'teamTimeZone'>,
  db: Database,
  logger: Logger,
  scenarioTitle: (key: string) => string,
  onAlert: AlertSink,
  options: SheetsExportOptions = {},
): SheetsExport | undefined {
  const sheets = config.sheets;
  if (!sheets.enabled) return undefined;
  const exportLogger = logger.child({ component: 'sheets-export' });
  const sheet = createManagersSheet(
    sheets,
    config.teamTimeZone,
    scenarioTitle,
    exportLogger,
    options.requestTimeoutMs,
    options.summarySources,
  );
  const worker = new ExportWorker({
    db,
    sheet,
    logger: exportLogger,
    onAlert,
    ...(options.timing ? { timing: options.timing } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.onFailure ? { onFailure: options.onFailure } : {}),
  });
  return {
    worker,
    sheet,
    describe: () =>
      `Google Sheets ${sheets.spreadsheetId} (tabs «${sheets.resultsTab}», «${sheets.traineesTab}»${options.summarySources ? ', «Критерии», «Пересмотры», «Задания», «Сертификаты»' : ''}; ` +
      `key ${sheets.serviceAccountFile}${sheet.serviceAccountEmail ? `, ${sheet.serviceAccountEmail}` : ''}` +
      `${sheets.apiRoot ? `; API ${sheets.apiRoot}` : ''})`,
  };
}
