/**
 * The headline of `npm run bench`: the bot measured from outside, as a user runs it. The bot is its
 * own process (`node --import tsx src/main.ts`, LOG_LEVEL=info), long polling the Bot API stand-in
 * over HTTP, with a real PostgreSQL and Chroma, the suite's tiny embedding model (retrieval on) and a
 * model stand-in that answers at once. Beside it, in the same run and on the same stand-in, a bare
 * grammY echo bot (bench/echo-bot.ts) is the baseline.
 *
 * For each phase — 50 and 200 trainees each pausing 0.5–1.5 s between turns, then a burst (every
 * trainee writes its next line the moment the last was answered) — it reports:
 * - the bot's own share of a turn: from the getUpdates answer that carried the trainee's line being
 *   written to the sendMessage with the reply arriving, p50/p95/p99;
 * - CPU per turn: utime+stime of /proc/<pid>/stat (every thread of the process) over the phase ÷ turns;
 * - event-loop delay p99 (the bot's /metrics; the echo bot's own monitor), RSS at the end, turns/s.
 *
 * `npm run bench -- --quick` (or BENCH_QUICK=1) runs short phases; BENCH_CPU_PROF=<dir> starts the
 * bot with `--cpu-prof` and writes its profile there when it stops.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { createLogger } from '../src/logger.js';
import { startBotProcess, type BotProcess } from '../test/support/bot-process.js';
import { startTestChroma } from '../test/support/chroma.js';
import { readSampleKnowledgeBase } from '../test/support/knowledge-base.js';
import { scriptedModel } from '../test/support/model-script.js';
import { OpenAiFake } from '../test/support/openai-fake.js';
import { TelegramFake, type ApiCall, type FakeUser } from '../test/support/telegram-fake.js';
import { createTinyModel } from '../test/support/tiny-model.js';
import { formatMs, percentile, printTable } from './support.js';

const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const PACED_MS = quick ? 8_000 : 30_000;
const WARMUP_MS = quick ? 3_000 : 8_000;
const BURST_TURNS = quick ? 2 : 5;
const TRAINEES = 200;
const PAUSE_MIN_MS = 500;
const PAUSE_MAX_MS = 1_500;
const TURN_TIMEOUT_MS = 60_000;
const FIRST_ID = 810_001;

const token = '123456789:AAFakeTokenForBenchOnly_0123456789';
const openAiKey = 'sk-bench-real-path-0123456789abcdef';
const root = path.resolve(import.meta.dirname, '..');
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

interface Phase {
  readonly name: string;
  readonly trainees: number;
  /** Paced: each trainee pauses 0.5–1.5 s between turns for this long. Burst: `turnsEach` back to back. */
  readonly pacedMs?: number;
  readonly turnsEach?: number;
  /** Not reported: JIT, pools and caches warm up. */
  readonly warmup?: boolean;
}

const IDLE_PHASE = 'idle';
const phases: readonly Phase[] = [
  { name: 'warm-up', trainees: 50, pacedMs: WARMUP_MS, warmup: true },
  { name: IDLE_PHASE, trainees: 0, pacedMs: 3_000 },
  { name: '50 paced', trainees: 50, pacedMs: PACED_MS },
  { name: '200 paced', trainees: 200, pacedMs: PACED_MS },
  { name: `burst (200 × ${BURST_TURNS})`, trainees: 200, turnsEach: BURST_TURNS },
];

interface PhaseFigures {
  readonly phase: string;
  readonly turns: number;
  readonly failures: number;
  /** Bot's own share: getUpdates answer written → reply's sendMessage arrived, ms. */
  readonly shares: readonly number[];
  readonly cpuMsPerTurn: number;
  /** CPU over the phase ÷ its length, ms per second. */
  readonly cpuMsPerSecond: number;
  /** CPU per turn by thread name (/proc/<pid>/task/<tid>/comm): the main thread, workers, libuv's pool, V8's. */
  readonly threadCpuMsPerTurn: ReadonlyMap<string, number>;
  /** Bot API calls of the bot per turn, by method. */
  readonly apiCallsPerTurn: ReadonlyMap<string, number>;
  readonly turnsPerSecond: number;
  readonly eventLoopP99Ms: number;
  readonly rssMb: number;
  /** CPU of this process (the stand-ins and the trainees) during the phase, % of one core. */
  readonly standInsCpuPercent: number;
  /** CPU per turn of PostgreSQL's processes and of the Chroma server during the phase, ms. */
  readonly neighboursCpuMsPerTurn: { readonly postgres: number; readonly chroma: number };
  /** Where the share went, p50 of each stage, ms (turns whose every stage was seen). */
  readonly stages: readonly { readonly name: string; readonly p50: number; readonly p99: number }[];
}

/** When the model stand-in received each client request, by chat (the trainee's line names its chat). */
const modelRequestsAt = new Map<number, number[]>();

/** A turn as the stand-in saw it: the update handed out, the reply's sendMessage arrived. */
interface TurnSeen {
  readonly chatId: number;
  readonly handedOut: number;
  readonly arrivedAt: number;
}

/** Watches the stand-in's calls for the next sendMessage into each chat (one scan for every trainee). */
class ReplyWatcher {
  private scanned = 0;
  private readonly waiting = new Map<number, { resolve(at: number): void; deadline: number; reject(e: Error): void }>();
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly telegram: TelegramFake) {}

  /** Skips every call so far: the next wait sees only what comes after. */
  catchUp(): void {
    this.scanned = this.telegram.calls.length;
  }

  /** When the next sendMessage into `chatId` arrived (performance.now()). */
  next(chatId: number): Promise<number> {
    this.timer ??= setInterval(() => this.scan(), 2);
    return new Promise((resolve, reject) =>
      this.waiting.set(chatId, { resolve, reject, deadline: performance.now() + TURN_TIMEOUT_MS }),
    );
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private scan(): void {
    const calls = this.telegram.calls;
    for (; this.scanned < calls.length; this.scanned += 1) {
      const call = calls[this.scanned]!;
      if (call.method !== 'sendMessage' || call.error) continue;
      const chatId = Number(call.params.chat_id);
      const waiter = this.waiting.get(chatId);
      if (!waiter) continue;
      this.waiting.delete(chatId);
      waiter.resolve(call.at!);
    }
    const now = performance.now();
    for (const [chatId, waiter] of this.waiting) {
      if (now <= waiter.deadline) continue;
      this.waiting.delete(chatId);
      waiter.reject(new Error(`chat ${chatId}: no reply within ${TURN_TIMEOUT_MS} ms`));
    }
  }
}

/** What the kernel charged the process (all its threads), ms; its RSS, MB. */
function processFigures(pid: number): { cpuMs: number; rssMb: number } {
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { cpuMs: (ticks * 1000) / clockTicks, rssMb: Math.round(rssKb / 1024) };
}

/** CPU of each thread of the process so far, ms, by thread id, with the thread's name. */
function threadFigures(pid: number): Map<string, { name: string; cpuMs: number }> {
  const threads = new Map<string, { name: string; cpuMs: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).trim();
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(tid, { name, cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks });
    } catch {
      // The thread ended between the listing and the read: its time is in the process's total.
    }
  }
  return threads;
}

/**
 * CPU so far of the machine's PostgreSQL processes (every backend, and what exited backends left to
 * the postmaster) and of the Chroma server, ms. Both run beside the bot and share its two cores.
 */
function neighbourCpuMs(): { postgres: number; chroma: number } {
  const spent = { postgres: 0, chroma: 0 };
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const own = Number(fields[11]) + Number(fields[12]);
      const reaped = Number(fields[13]) + Number(fields[14]);
      if (name === 'postgres') spent.postgres += ((own + reaped) * 1000) / clockTicks;
      else if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chromadb/dist/cli.mjs'))
        spent.chroma += ((own + reaped) * 1000) / clockTicks;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return spent;
}

/**
 * Splits each turn's share at the moments the stand-ins saw the bot act: its typing indicator, its
 * request to the model (the line stored and the knowledge base searched before it), its first draft,
 * and the reply's sendMessage.
 */
function stagesOf(turns: readonly TurnSeen[], calls: readonly ApiCall[]): PhaseFigures['stages'] {
  const byChat = new Map<number, ApiCall[]>();
  for (const call of calls) {
    if (call.method !== 'sendChatAction' && call.method !== 'sendMessageDraft') continue;
    const chatId = Number(call.params.chat_id);
    const list = byChat.get(chatId) ?? [];
    list.push(call);
    byChat.set(chatId, list);
  }
  const firstIn = <T>(items: readonly T[] | undefined, at: (item: T) => number, from: number, to: number) =>
    items?.map(at).find((t) => t >= from && t <= to);
  const stages = { 'update → typing': [] as number[], 'update → model request': [] as number[] };
  const later = { 'model request → first draft': [] as number[], 'first draft → sendMessage': [] as number[] };
  for (const turn of turns) {
    const calls = byChat.get(turn.chatId);
    const typing = firstIn(
      calls?.filter((c) => c.method === 'sendChatAction'),
      (c) => c.at!,
      turn.handedOut,
      turn.arrivedAt,
    );
    const model = firstIn(modelRequestsAt.get(turn.chatId), (t) => t, turn.handedOut, turn.arrivedAt);
    const draft = firstIn(
      calls?.filter((c) => c.method === 'sendMessageDraft'),
      (c) => c.at!,
      turn.handedOut,
      turn.arrivedAt,
    );
    if (typing !== undefined) stages['update → typing'].push(typing - turn.handedOut);
    if (model === undefined || draft === undefined) continue;
    stages['update → model request'].push(model - turn.handedOut);
    later['model request → first draft'].push(draft - model);
    later['first draft → sendMessage'].push(turn.arrivedAt - draft);
  }
  return Object.entries({ ...stages, ...later })
    .filter(([, values]) => values.length > 0)
    .map(([name, values]) => ({ name, p50: percentile(values, 50), p99: percentile(values, 99) }));
}

interface Subject {
  readonly label: string;
  readonly telegram: TelegramFake;
  readonly pid: number;
  /** The event-loop delay p99 since the last call, ms (resets it). */
  eventLoopP99(): Promise<number>;
  stop(): Promise<void>;
}

/** Runs one phase against a started bot whose trainees' chats are ready. */
async function runPhase(subject: Subject, users: readonly FakeUser[], phase: Phase): Promise<PhaseFigures> {
  const watcher = new ReplyWatcher(subject.telegram);
  watcher.catchUp();
  const callsBefore = subject.telegram.calls.length;
  const shares: number[] = [];
  const seen: TurnSeen[] = [];
  let failures = 0;
  let lastArrival = 0;
  await subject.eventLoopP99();
  const before = processFigures(subject.pid);
  const neighboursBefore = neighbourCpuMs();
  const testCpu = process.cpuUsage();
  const startedAt = performance.now();
  const deadline = startedAt + (phase.pacedMs ?? 0);

  const threadsBefore = threadFigures(subject.pid);
  const play = async (user: FakeUser): Promise<void> => {
    let turn = 0;
    // Paced trainees start spread over a second, as people do.
    if (phase.pacedMs !== undefined) await sleep(Math.random() * 1_000);
    for (;;) {
      if (phase.pacedMs !== undefined ? performance.now() >= deadline : turn >= phase.turnsEach!) return;
      turn += 1;
      const reply = watcher.next(user.id);
      const updateId = user.sendText(`[t${user.id}] реплика ${turn}: сколько стоит тариф «Бизнес» при оплате за год?`);
      try {
        const arrivedAt = await reply;
        const handedOut = subject.telegram.handedOutAt.get(updateId);
        if (handedOut !== undefined) {
          shares.push(arrivedAt - handedOut);
          seen.push({ chatId: user.id, handedOut, arrivedAt });
        }
        lastArrival = Math.max(lastArrival, arrivedAt);
      } catch {
        failures += 1;
        return;
      }
      if (phase.pacedMs !== undefined) await sleep(PAUSE_MIN_MS + Math.random() * (PAUSE_MAX_MS - PAUSE_MIN_MS));
    }
  };
  await Promise.all(users.slice(0, phase.trainees).map(play));
  if (phase.trainees === 0) await sleep(phase.pacedMs ?? 0);
  const endedAt = Math.max(lastArrival, startedAt + 1);
  const after = processFigures(subject.pid);
  const neighboursAfter = neighbourCpuMs();
  const threadsAfter = threadFigures(subject.pid);
  const byThread = new Map<string, number>();
  for (const [tid, { name, cpuMs }] of threadsAfter) {
    const spent = cpuMs - (threadsBefore.get(tid)?.cpuMs ?? 0);
    const label = tid === String(subject.pid) ? 'main' : `${name}#${tid}`;
    byThread.set(label, (byThread.get(label) ?? 0) + spent);
  }
  const { user, system } = process.cpuUsage(testCpu);
  watcher.close();
  const turns = shares.length;
  const apiCalls = new Map<string, number>();
  for (const call of subject.telegram.calls.slice(callsBefore)) apiCalls.set(call.method, (apiCalls.get(call.method) ?? 0) + 1);
  const elapsedMs = phase.pacedMs !== undefined && turns === 0 ? phase.pacedMs : endedAt - startedAt;
  return {
    phase: phase.name,
    turns,
    failures,
    shares,
    cpuMsPerTurn: (after.cpuMs - before.cpuMs) / Math.max(turns, 1),
    cpuMsPerSecond: ((after.cpuMs - before.cpuMs) * 1000) / elapsedMs,
    threadCpuMsPerTurn: new Map([...byThread].map(([name, ms]) => [name, ms / Math.max(turns, 1)])),
    apiCallsPerTurn: new Map([...apiCalls].map(([method, n]) => [method, n / Math.max(turns, 1)])),
    turnsPerSecond: (turns * 1000) / elapsedMs,
    eventLoopP99Ms: await subject.eventLoopP99(),
    rssMb: after.rssMb,
    standInsCpuPercent: Math.round((user + system) / 10 / (endedAt - startedAt)),
    neighboursCpuMsPerTurn: {
      postgres: (neighboursAfter.postgres - neighboursBefore.postgres) / Math.max(turns, 1),
      chroma: (neighboursAfter.chroma - neighboursBefore.chroma) / Math.max(turns, 1),
    },
    stages: stagesOf(seen, subject.telegram.calls.slice(callsBefore)),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function traineesOn(telegram: TelegramFake): FakeUser[] {
  return Array.from({ length: TRAINEES }, (_, i) =>
    telegram.user(FIRST_ID + i, { firstName: `Стажёр${FIRST_ID + i}`, languageCode: 'ru' }),
  );
}

/** The echo bot in its own process, polling `telegram`. */
async function startEchoBot(telegram: TelegramFake): Promise<Subject> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/echo-bot.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => (chunk.toString().includes('echo bot is polling') ? resolve() : undefined));
    child.once('exit', (code) => reject(new Error(`the echo bot exited with ${code}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    label: 'grammY echo bot',
    telegram,
    pid: child.pid!,
    eventLoopP99: () =>
      new Promise((resolve) => {
        child.once('message', (message) => resolve((message as { eventLoopP99Ms: number }).eventLoopP99Ms));
        child.send('report');
      }),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The bot as `npm start` runs it, its trainees registered and each in a written scenario's dialogue. */
async function startRealBot(telegram: TelegramFake, env: Record<string, string>): Promise<Subject & { bot: BotProcess }> {
  const metricsPort = await freePort();
  const cpuProf = process.env.BENCH_CPU_PROF;
  const bot = await startBotProcess(telegram, {
    env: {
      ...env,
      HEALTH_PORT: String(metricsPort),
      LOG_LEVEL: 'info',
    },
    nodeArgs: [
      ...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(cpuProf)}`] : []),
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    ],
  });
  const scrape = async (): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    return Number(/^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text)?.[1] ?? NaN) * 1000;
  };
  return {
    label: 'the bot',
    telegram,
    pid: bot.child.pid!,
    bot,
    eventLoopP99: scrape,
    stop: async () => {
      const code = await bot.stop('SIGTERM');
      if (code !== 0) console.error(`the bot exited with ${code}:\n${bot.output().slice(-3000)}`);
    },
  };
}

/** Menu → a written scenario → difficulty → the client's opening line, for every trainee at once. */
async function openDialogues(users: readonly FakeUser[]): Promise<void> {
  await Promise.all(
    users.map(async (user) => {
      user.sendText('/scenarios');
      await user.waitForMessage((m) => m.reply_markup !== undefined && /сценари/i.test(m.text), 60_000);
      user.pressButton('sc:needs-discovery');
      await user.waitForMessage((m) => /уровень сложности/.test(m.text), 60_000);
      user.pressButton('sd:needs-discovery:easy');
      await user.waitForMessage((m) => /Карточка клиента/.test(m.text), 60_000);
      await user.waitForNextMessage(60_000);
    }),
  );
}

/**
 * With BENCH_PG_STATEMENTS=1: which statements PostgreSQL ran per turn during one phase, and how long
 * each took inside the server (its own log, `log_min_duration_statement = 0`), grouped by their text
 * with the parameters' places kept.
 */
class StatementCount {
  private readonly lines: string[] = [];
  private recording = false;
  readonly logger = pino(
    { level: 'trace' },
    new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        if (this.recording) this.lines.push(chunk.toString());
        done();
      },
    }),
  );

  async record<T>(
    url: string,
    work: () => Promise<T>,
  ): Promise<{ result: T; statements: Map<string, { count: number; totalMs: number }> }> {
    const sql = postgres(url, { max: 1, onnotice: () => undefined });
    await sql`alter system set log_min_duration_statement = 0`;
    await sql`select pg_reload_conf()`;
    await sleep(200);
    this.recording = true;
    const result = await work();
    this.recording = false;
    await sql`alter system reset log_min_duration_statement`;
    await sql`select pg_reload_conf()`;
    await sql.end();
    const statements = new Map<string, { count: number; totalMs: number }>();
    for (const line of this.lines) {
      const { postgres: message } = JSON.parse(line) as { postgres?: string };
      if (typeof message !== 'string') continue;
      // Extended protocol: parse, bind and execute each log a duration; the execute is the statement.
      const match = /duration: ([\d.]+) ms\s+(?:statement|execute [^:]*): ([\s\S]+)/.exec(message);
      if (!match) continue;
      const text = match[2]!.trim().split('\n')[0]!.trim().slice(0, 100);
      const seen = statements.get(text) ?? { count: 0, totalMs: 0 };
      statements.set(text, { count: seen.count + 1, totalMs: seen.totalMs + Number(match[1]) });
    }
    return { result, statements };
  }
}

async function runSubject(
  subject: Subject,
  users: readonly FakeUser[],
  around: (phase: Phase, work: () => Promise<PhaseFigures>) => Promise<PhaseFigures> = (_, work) => work(),
): Promise<PhaseFigures[]> {
  const figures: PhaseFigures[] = [];
  for (const phase of phases) {
    const result = await around(phase, () => runPhase(subject, users, phase));
    if (!phase.warmup) figures.push(result);
  }
  return figures;
}

function rowsOf(label: string, figures: readonly PhaseFigures[]): string[][] {
  return figures
    .filter((f) => f.phase !== IDLE_PHASE)
    .map((f) => [
      label,
      f.phase,
      String(f.turns) + (f.failures > 0 ? ` (${f.failures} lost)` : ''),
      [50, 95, 99].map((p) => formatMs(percentile(f.shares, p))).join(' / '),
      formatMs(f.cpuMsPerTurn),
      f.turnsPerSecond.toFixed(1),
      formatMs(f.eventLoopP99Ms),
      String(f.rssMb),
      `${f.standInsCpuPercent}%`,
    ]);
}

export async function runRealPathBench(): Promise<void> {
  const started = Date.now();
  const logger = createLogger({ level: 'silent', pretty: false });
  const statementCount = process.env.BENCH_PG_STATEMENTS === '1' ? new StatementCount() : undefined;
  const pgDir = await mkdtemp(path.join(tmpdir(), 'bench-real-path-pg-'));
  const [postgresServer, chroma, tinyModel, openai, botTelegram, echoTelegram] = await Promise.all([
    startEmbeddedPostgres(pgDir, statementCount?.logger ?? logger),
    startTestChroma(),
    readSampleKnowledgeBase().then((texts) => createTinyModel({ texts, kind: 'random', name: 'tiny-bench-model' })),
    // Answers at once: no pause before the content or between its chunks.
    OpenAiFake.start({ apiKey: openAiKey, chunkDelayMs: 0 }),
    TelegramFake.start({ token }),
    TelegramFake.start({ token }),
  ]);
  // The client answers at once, in one piece: the bench measures the bot, not the model.
  openai.respondWith(
    scriptedModel((request) => {
      const chatId = Number(/\[t(\d+)\]/.exec(JSON.stringify(request.messages.at(-1)))?.[1]);
      if (chatId) {
        const arrivals = modelRequestsAt.get(chatId) ?? [];
        arrivals.push(performance.now());
        modelRequestsAt.set(chatId, arrivals);
      }
      return { content: 'А сколько это стоит при оплате за год?', delayMs: 0 };
    }),
  );
  const env = {
    DATABASE_URL: postgresServer.url,
    CHROMA_URL: chroma.url,
    EMBEDDING_MODEL: tinyModel.path,
    OPENAI_API_KEY: openAiKey,
    OPENAI_BASE_URL: openai.baseUrl,
    ALLOWED_USER_IDS: Array.from({ length: TRAINEES }, (_, i) => FIRST_ID + i).join(','),
    // A paced trainee here writes a line every 0.5–1.5 s, faster than TURN_RATE_PER_MINUTE lets a person:
    // the bench measures what a turn costs, not the limiter (test/reliability/abusive-trainee.test.ts does).
    TURN_RATE_PER_MINUTE: '1000000',
    TURN_BURST: '1000000',
  };
  try {
    const echo = await startEchoBot(echoTelegram);
    const echoFigures = await runSubject(echo, traineesOn(echoTelegram));
    await echo.stop();

    const bot = await startRealBot(botTelegram, env);
    const users = traineesOn(botTelegram);
    const opening = performance.now();
    await openDialogues(users);
    const openedMs = performance.now() - opening;
    const botFigures = await runSubject(bot, users, async (phase, work) => {
      if (!statementCount || phase.name !== '50 paced') return work();
      const { result, statements } = await statementCount.record(postgresServer.url, work);
      console.log(
        `\nStatements PostgreSQL ran per turn (${phase.name}, ${result.turns} turns), and their mean time in the server:`,
      );
      for (const [text, { count, totalMs }] of [...statements].sort((a, b) => b[1].count - a[1].count).slice(0, 30))
        console.log(`${(count / result.turns).toFixed(2).padStart(6)}  ${formatMs(totalMs / count).padStart(6)} ms  ${text}`);
      return result;
    });
    await bot.stop();

    printTable(
      `Real path: the bot as its own process over HTTP (PostgreSQL, Chroma, tiny embedding model, retrieval on; model answers at once)` +
        `${quick ? ' — quick run' : ''}\nshare = getUpdates answer carrying the line → the reply's sendMessage; CPU = /proc utime+stime ÷ turns`,
      [
        'subject',
        'phase',
        'turns',
        'share p50 / p95 / p99 ms',
        'CPU ms/turn',
        'turns/s',
        'loop p99 ms',
        'RSS MB',
        'stand-ins CPU',
      ],
      [...rowsOf('echo bot', echoFigures), ...rowsOf('bot', botFigures)],
    );
    const ratio = (i: number) =>
      `${botFigures[i]!.phase}: share p99 ×${(percentile(botFigures[i]!.shares, 99) / percentile(echoFigures[i]!.shares, 99)).toFixed(1)}, ` +
      `CPU/turn ×${(botFigures[i]!.cpuMsPerTurn / echoFigures[i]!.cpuMsPerTurn).toFixed(1)} the echo bot`;
    console.log(
      botFigures
        .map((f, i) => (f.phase === IDLE_PHASE ? undefined : ratio(i)))
        .filter((line) => line !== undefined)
        .join('\n'),
    );
    const idle = (figures: readonly PhaseFigures[]) => formatMs(figures.find((f) => f.phase === IDLE_PHASE)!.cpuMsPerSecond);
    console.log(`idle CPU (no trainee writing), ms per second: bot ${idle(botFigures)}, echo bot ${idle(echoFigures)}`);
    for (const f of botFigures.filter((f) => f.phase !== IDLE_PHASE)) {
      const calls = [...f.apiCallsPerTurn].sort((a, b) => b[1] - a[1]).map(([method, n]) => `${method} ${n.toFixed(2)}`);
      console.log(`bot's Bot API calls per turn, ${f.phase}: ${calls.join(', ')}`);
      const threads = [...f.threadCpuMsPerTurn].filter(([, ms]) => ms >= 0.05).sort((a, b) => b[1] - a[1]);
      console.log(
        `bot's CPU ms per turn by thread, ${f.phase}: ${threads.map(([name, ms]) => `${name} ${formatMs(ms)}`).join(', ')}`,
      );
      const { postgres: pg, chroma } = f.neighboursCpuMsPerTurn;
      console.log(`beside the bot, CPU ms per turn, ${f.phase}: PostgreSQL ${formatMs(pg)}, Chroma ${formatMs(chroma)}`);
      const stages = f.stages.map((s) => `${s.name} ${formatMs(s.p50)} / ${formatMs(s.p99)}`);
      console.log(`the share by stage (p50 / p99 ms), ${f.phase}: ${stages.join(', ')}`);
    }
    console.log(
      `(${TRAINEES} dialogues opened through the menu in ${(openedMs / 1000).toFixed(1)} s, not counted; run took ${Math.round((Date.now() - started) / 1000)} s)`,
    );
  } finally {
    await Promise.all([openai.stop(), botTelegram.stop(), echoTelegram.stop(), chroma.dispose(), tinyModel.cleanup()]);
    await postgresServer.stop();
    await rm(pgDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) await runRealPathBench();
