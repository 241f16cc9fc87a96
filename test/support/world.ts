import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/db/client.js';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { startBotProcess, type BotProcess } from './bot-process.js';
import { createTestDatabase, silentLogger, type TestDatabase } from './database.js';
import { startKnowledgeInfra, type KnowledgeInfra } from './knowledge-infra.js';
import { scriptedModel } from './model-script.js';
import { OpenAiFake } from './openai-fake.js';
import { PostgresFaultProxy } from './postgres-fault-proxy.js';
import { SheetsFake, writeServiceAccountKey } from './sheets-fake.js';
import { TelegramFake, type FakeUser } from './telegram-fake.js';

export const botToken = '123456789:AAFakeTokenForTestsOnly_0123456789';
export const openAiKey = 'sk-test-reliability-key-0123456789abcdef';

/** The whole world around one bot process: every edge a stand-in speaking the real protocol. */
export interface World {
  readonly telegram: TelegramFake;
  readonly openai: OpenAiFake;
  readonly database: TestDatabase;
  readonly knowledge: KnowledgeInfra;
  readonly sheets: SheetsFake;
  readonly bot: BotProcess;
  /** The environment the bot was last started with (stand-ins' addresses, database, access). */
  readonly env: Readonly<Record<string, string>>;
  /** Every line any bot process of this world printed, restarts included. */
  allOutput(): string;
  /** Kills (or stops) the bot and starts it again with the same configuration (plus overrides). */
  restartBot(signal?: NodeJS.Signals, envOverrides?: Record<string, string>): Promise<BotProcess>;
  /** Only with `ownDatabase`: stops PostgreSQL, waits `downMs`, starts it again on the same port. */
  restartDatabase(downMs: number): Promise<void>;
  /** Only with `databaseFaults`: the proxy between the bot and PostgreSQL that cuts chosen statements. */
  readonly databaseFaults: PostgresFaultProxy;
  close(): Promise<void>;
}

export interface WorldOptions {
  /** Telegram ids admitted by the allowlist. */
  readonly trainees: readonly number[];
  readonly env?: Readonly<Record<string, string>>;
  /** A PostgreSQL server of this world's own, so that a test may restart it. */
  readonly ownDatabase?: boolean;
  /** The bot reaches PostgreSQL through a proxy that can cut its connection at a chosen statement. */
  readonly databaseFaults?: boolean;
}

interface OwnDatabase extends TestDatabase {
  restart(downMs: number): Promise<void>;
}

/** A PostgreSQL server for one world, restartable on the same port and data directory. */
async function startOwnDatabase(): Promise<OwnDatabase> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bot-reliability-pg-'));
  let server = await startEmbeddedPostgres(dataDir, silentLogger);
  const port = Number(new URL(server.url).port);
  const handle = await openDatabase({ databaseUrl: server.url, dataDir }, silentLogger);
  return {
    ...handle,
    url: server.url,
    async restart(downMs) {
      await server.stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      server = await startEmbeddedPostgres(dataDir, silentLogger, { port });
    },
    async drop() {
      await handle.close();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startWorld(options: WorldOptions): Promise<World> {
  const keyDir = await mkdtemp(path.join(tmpdir(), 'bot-reliability-'));
  const account = await writeServiceAccountKey(keyDir);
  const [telegram, openai, database, knowledge, sheets] = await Promise.all([
    TelegramFake.start({ token: botToken }),
    OpenAiFake.start({ apiKey: openAiKey }),
    options.ownDatabase ? startOwnDatabase() : createTestDatabase(),
    startKnowledgeInfra(),
    SheetsFake.start({ account }),
  ]);
  openai.respondWith(scriptedModel());
  const faultProxy = options.databaseFaults ? await PostgresFaultProxy.start(database.url) : undefined;
  const baseEnv = {
    ...knowledge.env,
    OPENAI_API_KEY: openAiKey,
    OPENAI_BASE_URL: openai.baseUrl,
    DATABASE_URL: faultProxy?.url ?? database.url,
    ALLOWED_USER_IDS: options.trainees.join(','),
    GOOGLE_SHEETS_ID: sheets.spreadsheetId,
    GOOGLE_SERVICE_ACCOUNT_FILE: account.file,
    GOOGLE_SHEETS_API_ROOT: sheets.url,
    LLM_TIMEOUT_MS: '3000',
    // Load and flood tests send faster than a person types; the limits' own tests set theirs in options.env.
    TURN_RATE_PER_MINUTE: '1000000',
    TURN_BURST: '1000000',
    FINISH_RATE_PER_HOUR: '1000000',
    ...options.env,
  };
  const outputs: BotProcess[] = [];
  let env = baseEnv;
  let bot = await startBotProcess(telegram, { env });
  outputs.push(bot);
  return {
    telegram,
    openai,
    database,
    knowledge,
    sheets,
    get env() {
      return env;
    },
    get bot() {
      return bot;
    },
    allOutput: () => outputs.map((b) => b.output()).join('\n'),
    async restartBot(signal = 'SIGKILL', envOverrides = {}) {
      await bot.stop(signal);
      env = { ...env, ...envOverrides };
      bot = await startBotProcess(telegram, { env });
      outputs.push(bot);
      return bot;
    },
    async restartDatabase(downMs) {
      if (!('restart' in database)) throw new Error('startWorld({ ownDatabase: true }) is needed to restart PostgreSQL');
      await (database as OwnDatabase).restart(downMs);
    },
    get databaseFaults() {
      if (!faultProxy) throw new Error('startWorld({ databaseFaults: true }) is needed to cut database connections');
      return faultProxy;
    },
    async close() {
      await bot.stop('SIGTERM');
      const leaks = dialogueInLogs(outputs.map((b) => b.output()).join('\n'), telegram.dialogueTexts());
      await faultProxy?.close();
      await Promise.all([telegram.stop(), openai.stop(), database.drop(), knowledge.dispose(), sheets.close()]);
      await rm(keyDir, { recursive: true, force: true });
      // Every world of the suite checks this: what trainees wrote and what the bot answered (client
      // lines, evaluations) never reaches a log line at info or above.
      if (leaks.length > 0) throw new Error(`dialogue text in the bot's log:\n${leaks.join('\n')}`);
    },
  };
}

/**
 * Log lines at info or above that quote a dialogue text (of 16 characters or more: shorter ones, like
 * a command, may well appear in a log for other reasons).
 */
export function dialogueInLogs(output: string, texts: readonly string[]): string[] {
  const quotable = [
    ...new Set(
      texts
        .flatMap((text) => text.split('\n'))
        .map((line) => line.trim())
        .filter((line) => line.length >= 16),
    ),
  ];
  const leaks: string[] = [];
  for (const line of output.split('\n')) {
    const level = /^\{"level":(\d+)/.exec(line)?.[1];
    if (level === undefined || Number(level) < 30) continue;
    let decoded: string;
    try {
      decoded = JSON.stringify(JSON.parse(line) as unknown);
    } catch {
      continue;
    }
    const found = quotable.find((text) => decoded.includes(JSON.stringify(text).slice(1, -1)));
    if (found) leaks.push(`«${found.slice(0, 60)}» in ${line.slice(0, 300)}`);
  }
  return leaks;
}

/** The bot's apologies for a failure of its own (a generic error, the database unavailable). */
export const errorApology = /Что-то пошло не так|База данных бота/;

/** Menu → scenario → difficulty → the client's opening line. */
export async function startScenario(user: FakeUser, key = 'cold-call', level = 'easy'): Promise<void> {
  user.sendText('/scenarios');
  await user.waitForMessage((m) => m.reply_markup !== undefined && /сценари|scenario/i.test(m.text));
  user.pressButton(`sc:${key}`);
  await user.waitForMessage((m) => /уровень сложности|difficulty/.test(m.text));
  user.pressButton(`sd:${key}:${level}`);
  await user.waitForMessage((m) => /началась|started/.test(m.text));
  await user.waitForMessage((m) => /Карточка клиента|Client card/.test(m.text));
  await user.waitForNextMessage();
}

export async function count(database: TestDatabase, sql: string): Promise<number> {
  return (await database.db.execute<{ n: number }>(sql))[0]!.n;
}

/**
 * The invariants that prove nothing was lost or doubled: each trainee text stored once, each
 * finished session one evaluation, each evaluation one sheet row (once the export caught up).
 */
export async function checkInvariants(world: World, sentTexts: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  const stored = await world.database.db.execute<{ content: string; n: number }>(
    "select content, count(*)::int as n from messages where role = 'user' group by content",
  );
  const byText = new Map(stored.map((r) => [r.content, r.n]));
  for (const text of new Set(sentTexts)) {
    const n = byText.get(text) ?? 0;
    if (n !== sentTexts.filter((t) => t === text).length) problems.push(`«${text.slice(0, 40)}» stored ${n} times`);
  }
  const unevaluated = await count(
    world.database,
    "select count(*)::int as n from sessions s where s.status = 'finished' and (select count(*) from evaluations e where e.session_id = s.id) <> 1",
  );
  if (unevaluated > 0) problems.push(`${unevaluated} finished sessions without exactly one evaluation`);
  const evaluated = await world.database.db.execute<{ session_id: number }>('select session_id from evaluations');
  const rows = world.sheets.rows('Результаты').slice(1);
  for (const { session_id } of evaluated) {
    const n = rows.filter((row) => Number(row[0]) === session_id).length;
    if (n !== 1) problems.push(`session ${session_id} has ${n} sheet rows`);
  }
  return problems;
}

/** Waits until the sheet holds a row for every evaluation. */
export async function waitForSheet(world: World, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const evaluations = await count(world.database, 'select count(*)::int as n from evaluations');
    if (Math.max(0, world.sheets.rows('Результаты').length - 1) >= evaluations) return;
    if (Date.now() > deadline)
      throw new Error(`sheet has ${world.sheets.rows('Результаты').length - 1} rows for ${evaluations} evaluations`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The secrets that must never appear in any log line. */
export function secretsIn(text: string): string[] {
  const found: string[] = [];
  if (text.includes(botToken) || text.includes(botToken.split(':')[1]!)) found.push('bot token');
  if (text.includes(openAiKey)) found.push('OpenAI key');
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----|MII[A-Za-z0-9+/]{40,}/.test(text)) found.push('private key');
  return found;
}
