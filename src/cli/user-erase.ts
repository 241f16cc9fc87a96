/**
 * npm run user:erase -- <telegram id> [--yes]
 * Erases everything the bot stores about a person (152-ФЗ, GDPR): the database rows, their rows in
 * the managers' Google Sheet, and the running bot's memory of them (it hears of the erasure from
 * PostgreSQL). Asks first on a terminal; `--yes` skips the question (scripts, no terminal).
 *
 * Exit codes: 0 erased (or nothing stored), 1 cancelled or failed, 2 wrong arguments or
 * configuration, 3 erased from the database but the sheet part is queued (the bot finishes it).
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import type { Context } from 'grammy';
import { erasureReportText } from '../bot/features/erase.js';
import { createI18n } from '../bot/i18n.js';
import { loadConfigOrExplain } from '../config.js';
import { openDatabase } from '../db/client.js';
import { asTelegramId, type TelegramId } from '../db/ids.js';
import type { UserRole } from '../db/queries/users.js';
import { createLogger } from '../logger.js';
import { createPersonErasure, type ErasurePreview } from '../services/erase-person.js';
import { createManagersSheet } from '../services/sheets/sheets-export.js';
import { runCommand } from './run-command.js';

const usage = 'Запуск: npm run user:erase -- <Telegram id> [--yes]';

function parseCommand(argv: readonly string[]): { readonly telegramId: TelegramId; readonly yes: boolean } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { yes: { type: 'boolean', short: 'y', default: false } },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new Error('нужен ровно один Telegram id');
  const text = positionals[0]!;
  const id = Number(text);
  if (!/^[1-9]\d{0,15}$/.test(text) || !Number.isSafeInteger(id)) throw new Error(`«${text}» — не Telegram id (нужно число)`);
  return { telegramId: asTelegramId(id), yes: values.yes };
}

const roleNames: Readonly<Record<UserRole, string>> = { trainee: 'стажёр', manager: 'руководитель', admin: 'администратор' };

function describe(preview: ErasurePreview): string {
  if (!preview.person) {
    return `О Telegram id ${preview.telegramId} в базе ничего нет, но удаление его строк из Google-таблицы ещё ждёт в очереди (${preview.sheetPending}).`;
  }
  const { name, role, sessions } = preview.person;
  return `Telegram id ${preview.telegramId}: ${name} (${roleNames[role]}), тренировок: ${sessions}.`;
}

/** Asks on the terminal; true only for an explicit yes. */
async function confirmed(question: string): Promise<boolean> {
  const terminal = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = (await terminal.question(`${question} Введите «да», чтобы удалить: `)).trim().toLowerCase();
    return ['да', 'д', 'yes', 'y'].includes(answer);
  } finally {
    terminal.close();
  }
}

async function main(): Promise<number> {
  let command: ReturnType<typeof parseCommand>;
  try {
    command = parseCommand(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const config = loadConfigOrExplain();
  if (!config) return 2;
  const quiet = config.logLevel === 'debug' || config.logLevel === 'trace' ? config.logLevel : 'warn';
  const logger = createLogger({ level: quiet, secrets: [config.botToken, config.openai.apiKey] });
  // Only the trainees tab is rewritten here, and it names no scenario: titles are not needed.
  const sheet = config.sheets.enabled ? createManagersSheet(config.sheets, config.teamTimeZone, (key) => key, logger) : undefined;
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, databasePoolSize: 2 }, logger);
  try {
    const erasure = createPersonErasure({ db: database.db, sheet, logger });
    const preview = await erasure.preview(command.telegramId);
    if (!preview.person && preview.sheetPending === 0) {
      console.log(`О Telegram id ${command.telegramId} в базе ничего не хранится — удалять нечего.`);
      return 0;
    }
    const question = `${describe(preview)} Переписка, оценки и строки в Google-таблице будут удалены безвозвратно.`;
    if (!command.yes) {
      if (!process.stdin.isTTY) {
        console.error(`${question}\nПодтвердить удаление некому (нет терминала): добавьте --yes.`);
        return 2;
      }
      if (!(await confirmed(question))) {
        console.log('Удаление отменено, ничего не изменилось.');
        return 1;
      }
    }
    const report = await erasure.erase(command.telegramId);
    const i18n = createI18n<Context>('ru');
    console.log(erasureReportText((key, variables) => i18n.translate('ru', key, variables), report, config.teamTimeZone));
    return report.sheet.kind === 'queued' ? 3 : 0;
  } finally {
    await database.close();
  }
}

runCommand(main);
