import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import type { Context } from 'grammy';
import { createI18n } from '../../../src/bot/i18n.js';
import { sheetsAlertText } from '../../../src/bot/sheets-problem.js';
import type { Config } from '../../../src/config.js';
import { asTelegramId, type SessionId } from '../../../src/db/ids.js';
import { storeEvaluationAndFinish } from '../../../src/db/queries/evaluations.js';
import { appendMessage } from '../../../src/db/queries/messages.js';
import { startSession } from '../../../src/db/queries/sessions.js';
import { getOrCreateUser } from '../../../src/db/queries/users.js';
import { sheetExports } from '../../../src/db/schema.js';
import { createLogger, type Logger } from '../../../src/logger.js';
import type { ExportTiming } from '../../../src/services/sheets/export-worker.js';
import { createSheetsExport, type SheetsExport } from '../../../src/services/sheets/sheets-export.js';
import type { SummarySources } from '../../../src/services/sheets/summary-tabs.js';
import type { TestDatabase } from '../../support/database.js';
import { SheetsFake, writeServiceAccountKey, type Cell, type TestServiceAccount } from '../../support/sheets-fake.js';

/** Alerts as a Russian-speaking admin reads them. */
const i18n = createI18n<Context>('ru');
const inRussian = (key: string, variables?: Record<string, string | number>) => i18n.translate('ru', key, variables);

export const RESULTS = 'Результаты';
export const TRAINEES = 'Сотрудники';
export const TIME_ZONE = 'Europe/Moscow';

/** Retries in tens of milliseconds instead of minutes. */
export const fastTiming: Partial<ExportTiming> = {
  pollIntervalMs: 250,
  backoffBaseMs: 20,
  backoffCapMs: 150,
  leaseMs: 10_000,
  batchSize: 50,
};

export const scenarioTitle = (key: string): string => ({ 'cold-call': 'Холодный звонок', upsell: 'Допродажа' })[key] ?? key;

/** A structured log line captured from pino. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A logger writing JSON lines into an array. */
export function capturingLogger(level: 'debug' | 'info' = 'info'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(text) as LogLine);
      callback();
    },
  });
  return { logger: createLogger({ level, pretty: false, destination }), lines };
}

/** One fake Google, one key, and as many workers (bot instances) as a test needs. */
export interface SheetsWorld {
  readonly dir: string;
  readonly account: TestServiceAccount;
  readonly fake: SheetsFake;
  readonly lines: LogLine[];
  readonly alerts: string[];
  /** The kind of every failed attempt (the metrics hook). */
  readonly failures: string[];
  readonly logger: Logger;
  /** A new bot instance's export (not started). */
  exporter(options?: {
    readonly spreadsheetId?: string;
    readonly keyFile?: string;
    readonly requestTimeoutMs?: number;
    readonly timing?: Partial<ExportTiming>;
    readonly summarySources?: SummarySources;
  }): SheetsExport;
  close(): Promise<void>;
}

export async function createSheetsWorld(db: TestDatabase['db']): Promise<SheetsWorld> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sheets-test-'));
  const account = await writeServiceAccountKey(dir);
  const fake = await SheetsFake.start({ account });
  const { logger, lines } = capturingLogger();
  const alerts: string[] = [];
  const failures: string[] = [];
  const started: SheetsExport[] = [];
  return {
    dir,
    account,
    fake,
    lines,
    alerts,
    failures,
    logger,
    exporter(options = {}) {
      const config: Pick<Config, 'sheets' | 'teamTimeZone'> = {
        sheets: {
          enabled: true,
          spreadsheetId: options.spreadsheetId ?? fake.spreadsheetId,
          serviceAccountFile: options.keyFile ?? account.file,
          apiRoot: fake.url,
          resultsTab: RESULTS,
          traineesTab: TRAINEES,
        },
        teamTimeZone: TIME_ZONE,
      };
      const created = createSheetsExport(
        config,
        db,
        logger,
        scenarioTitle,
        (alert) => void alerts.push(sheetsAlertText(inRussian, alert)),
        {
          timing: { ...fastTiming, ...options.timing },
          requestTimeoutMs: options.requestTimeoutMs ?? 2_000,
          onFailure: (kind) => void failures.push(kind),
          ...(options.summarySources ? { summarySources: options.summarySources } : {}),
        },
      );
      if (!created) throw new Error('export is off');
      started.push(created);
      return created;
    },
    async close() {
      for (const exporter of started) await exporter.worker.stop();
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let nextTelegramId = 7_000_000_000;

export interface TraineeSpec {
  readonly telegramId?: number;
  readonly username?: string;
  readonly firstName?: string;
  readonly lastName?: string;
}

/** A trainee finishes a session: dialogue stored, evaluation stored, export enqueued (one transaction). */
export async function finishSession(
  db: TestDatabase['db'],
  options: TraineeSpec & {
    readonly score?: number;
    readonly scenarioKey?: string;
    readonly difficulty?: string;
    readonly turns?: number;
  } = {},
): Promise<SessionId> {
  const user = await getOrCreateUser(db, {
    telegramId: asTelegramId(options.telegramId ?? nextTelegramId++),
    username: options.username ?? 'ivan',
    firstName: options.firstName ?? 'Иван',
    lastName: options.lastName ?? 'Петров',
  });
  const session = await startSession(db, user.id, options.scenarioKey ?? 'cold-call', options.difficulty ?? 'medium');
  await appendMessage(db, session.id, 'assistant', 'Алло, слушаю.');
  for (let turn = 1; turn <= (options.turns ?? 2); turn++) {
    await appendMessage(db, session.id, 'user', `Реплика ${turn}`, { telegramMessageId: turn });
    await appendMessage(db, session.id, 'assistant', `Ответ ${turn}`);
  }
  const score = options.score ?? 72;
  await storeEvaluationAndFinish(db, session.id, {
    totalScore: score,
    criteria: [
      { key: 'contact', title: 'Контакт', weight: 40, score: score + 5 > 100 ? 100 : score + 5, evidence: '', comment: '' },
      {
        key: 'needs',
        title: 'Выявление потребностей',
        weight: 60,
        score: score - 5 < 0 ? 0 : score - 5,
        evidence: '',
        comment: '',
      },
    ],
    strengths: ['Вежливо поздоровался', 'Назвал компанию'],
    mistakes: ['=ДОРОГО() — формула? нет, просто текст'],
    recommendations: ['Назовите цену тарифа'],
    summary: 'Неплохо',
    model: 'judge-test',
  });
  return session.id;
}

/** Rows of the results tab for one session. */
export function rowsOf(fake: SheetsFake, sessionId: SessionId): Cell[][] {
  return fake.rows(RESULTS).filter((row, index) => index > 0 && row[0] === sessionId);
}

/** The session ids in the results tab, in sheet order (header skipped). */
export function sheetSessionIds(fake: SheetsFake): Cell[] {
  return fake
    .rows(RESULTS)
    .slice(1)
    .map((row) => row[0]!);
}

/** values.append requests that reached a tab (whatever the answer). */
export function appendsTo(fake: SheetsFake, tab: string): number {
  return fake.requests.filter((r) => r.operation === 'values.append' && decodeURIComponent(r.path).includes(`'${tab}'!`)).length;
}

export async function exportRow(db: TestDatabase['db'], sessionId: SessionId): Promise<typeof sheetExports.$inferSelect> {
  const [row] = await db.select().from(sheetExports).where(eq(sheetExports.sessionId, sessionId));
  if (!row) throw new Error(`no outbox row for session ${sessionId}`);
  return row;
}

/** Polls until the condition holds (or fails the test with `what`). */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Lines that say the export is failing (the once-per-outage line). */
export function outageLines(lines: readonly LogLine[]): LogLine[] {
  return lines.filter((line) => line.msg.startsWith('Google Sheets export failing'));
}

/** Lines at warn or above. */
export function problems(lines: readonly LogLine[]): LogLine[] {
  return lines.filter((line) => line.level >= 40);
}
