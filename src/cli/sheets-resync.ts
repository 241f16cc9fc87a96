/**
 * npm run sheets:resync [-- --from YYYY-MM-DD] [--to YYYY-MM-DD]
 * Re-exports to the managers' spreadsheet every finished, evaluated session (of the range, dates in
 * TEAM_TIME_ZONE, both ends inclusive) that is missing there, without duplicating what is there.
 */
import { parseArgs } from 'node:util';
import type { Context } from 'grammy';
import { loadConfigOrExplain, type Config } from '../config.js';
import { openDatabase } from '../db/client.js';
import { createLogger } from '../logger.js';
import { loadScenarios } from '../services/scenarios.js';
import { describeSheetsProblem } from '../services/sheets/outage-monitor.js';
import { createI18n } from '../bot/i18n.js';
import { sheetsProblemText } from '../bot/sheets-problem.js';
import { resyncSheet, type ResyncReport } from '../services/sheets/resync.js';
import { formatTeamDateTime, startOfDayInZone } from '../services/sheets/sheet-layout.js';
import { SheetsError } from '../services/sheets/sheets-client.js';
import { createManagersSheet } from '../services/sheets/sheets-export.js';
import { runCommand } from './run-command.js';

const usage = 'Запуск: npm run sheets:resync [-- --from ГГГГ-ММ-ДД] [--to ГГГГ-ММ-ДД]';

interface DayRange {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

function parseDays(argv: readonly string[]): DayRange {
  const { values } = parseArgs({
    args: [...argv],
    options: { from: { type: 'string' }, to: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  for (const day of [values.from, values.to]) {
    if (day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`«${day}» — не дата вида 2026-11-24`);
  }
  if (values.from && values.to && values.from > values.to) throw new Error('--from позже, чем --to');
  return { from: values.from, to: values.to };
}

function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

function toInstants(days: DayRange, timeZone: string): { from?: Date; to?: Date } {
  return {
    ...(days.from ? { from: startOfDayInZone(days.from, timeZone) } : {}),
    ...(days.to ? { to: startOfDayInZone(nextDay(days.to), timeZone) } : {}),
  };
}

async function scenarioTitles(config: Config): Promise<(key: string) => string> {
  try {
    const catalog = await loadScenarios(config.scenariosDir);
    return (key) => catalog.find(key)?.title ?? key;
  } catch (error) {
    console.error(`Внимание: ${(error as Error).message}. В таблицу пойдут ключи сценариев вместо названий.`);
    return (key) => key;
  }
}

function printSummary(report: ResyncReport, days: DayRange, config: Config & { sheets: { enabled: true } }): void {
  const period =
    days.from || days.to ? `${days.from ?? 'начала'} — ${days.to ?? 'сегодня'} (${config.teamTimeZone})` : 'за всё время';
  console.log(`Сверка Google-таблицы ${config.sheets.spreadsheetId}, лист «${config.sheets.resultsTab}», период: ${period}`);
  console.log(`  Завершённых сессий с оценкой: ${report.sessionsInRange}`);
  console.log(`  Уже были в таблице: ${report.alreadyInSheet}`);
  console.log(`  Дописано: ${report.appended.length}${report.appended.length ? ` (сессии ${report.appended.join(', ')})` : ''}`);
  if (report.leftToWorker.length > 0) {
    console.log(
      `  Прямо сейчас выгружаются ботом, оставлены ему: ${report.leftToWorker.length} (сессии ${report.leftToWorker.join(', ')})`,
    );
  }
  console.log(`  Лист «${config.sheets.traineesTab}» обновлён ${formatTeamDateTime(new Date(), config.teamTimeZone)}.`);
}

async function main(): Promise<number> {
  let days: DayRange;
  try {
    days = parseDays(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const config = loadConfigOrExplain();
  if (!config) return 2;
  const sheets = config.sheets;
  if (!sheets.enabled) {
    console.error('Выгрузка в Google-таблицу выключена: задайте GOOGLE_SHEETS_ID и GOOGLE_SERVICE_ACCOUNT_FILE в .env.');
    return 2;
  }
  const quiet = config.logLevel === 'debug' || config.logLevel === 'trace' ? config.logLevel : 'warn';
  const logger = createLogger({ level: quiet, secrets: [config.botToken, config.openai.apiKey] });
  const sheet = createManagersSheet(sheets, config.teamTimeZone, await scenarioTitles(config), logger);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }, logger);
  try {
    const report = await resyncSheet({ db: database.db, sheet, logger }, toInstants(days, config.teamTimeZone));
    printSummary(report, days, { ...config, sheets });
    return 0;
  } catch (error) {
    if (!(error instanceof SheetsError)) throw error;
    const target = {
      spreadsheetId: sheets.spreadsheetId,
      serviceAccountFile: sheets.serviceAccountFile,
      serviceAccountEmail: sheet.serviceAccountEmail,
    };
    const i18n = createI18n<Context>('ru');
    const problem = sheetsProblemText(
      (key, variables) => i18n.translate('ru', key, variables),
      describeSheetsProblem(error, target),
    );
    console.error(`Сверка не выполнена: ${problem}`);
    console.error(`Подробности: ${error.message}`);
    return 1;
  } finally {
    await database.close();
  }
}

runCommand(main);
