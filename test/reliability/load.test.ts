import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, count, startScenario, startWorld, type World } from './harness.js';
import { recordCase, recordFigures } from './report.js';
import { jemallocPreload } from '../support/jemalloc.js';
import { lastTraineeLine, scriptedModel } from '../support/model-script.js';
import type { RecordedRequest, Reply } from '../support/openai-fake.js';
import type { BotMessage, FakeUser, TelegramFake } from '../support/telegram-fake.js';

// The numbers: 200 trainees at once, 20 turns each, a model answering in 0.5–2 s.
const TRAINEES = 200;
const TURNS = 20;
const MODEL_MIN_MS = 500;
const MODEL_MAX_MS = 2_000;
/** The stand-in streams each answer in four chunks (OpenAiFake's split) this far apart. */
const CHUNK_GAP_MS = 100;
const CHUNKS = 4;

const RSS_GROWTH_LIMIT = 0.2;

/** A few trainees of their own warm the bot up (JIT, pool, caches) before RSS is first read. */
const WARMUP_TRAINEES = 10;
const WARMUP_TURNS = 3;
/** How many trainees go through the menu at once (all: it finishes in seconds; each wait of startScenario has 10 s). */
const START_CONCURRENCY = TRAINEES;
/** How long one trainee waits for one answer before the turn counts as lost. */
const TURN_TIMEOUT_MS = 30_000;
/**
 * After the last answer, how long the bot may take to give memory back. V8 keeps the heap it grew
 * to until its memory reducer sees the isolate idle (30–60 s in our runs); RSS is read every
 * second until it is back within the limit, and the time that took is reported.
 */
const RELEASE_WAIT_MS = 120_000;
const RELEASE_POLL_MS = 1_000;

const FIRST_ID = 710_001;
const loadIds = Array.from({ length: TRAINEES }, (_, i) => FIRST_ID + i);
const warmupIds = Array.from({ length: WARMUP_TRAINEES }, (_, i) => 709_001 + i);

/** Each line carries its writer's marker; the stand-in quotes it back, so a misrouted reply shows. */
const traineeLine = (id: number, turn: number): string => `[t${id}] реплика ${turn}`;
const clientReply = (id: number, turn: number): string => `[t${id}] ответ на реплику ${turn}: а сколько это стоит?`;
const LINE = /^\[t(\d+)\] реплика (\d+)$/;
const REPLY = /^\[t(\d+)\] ответ на реплику (\d+):/;
/** The start of a reply, as a live draft shows it while the reply streams. */
const MARKER = /^\[t(\d+)\]/;

/** The client's answer to whichever trainee line the request ends with, after 0.5–2 s, in chunks. */
function markedClientReply(request: RecordedRequest): Reply {
  const line = lastTraineeLine(request);
  const match = LINE.exec(line);
  const content = match ? clientReply(Number(match[1]), Number(match[2])) : `без метки: ${line}`;
  const totalMs = MODEL_MIN_MS + Math.random() * (MODEL_MAX_MS - MODEL_MIN_MS);
  return { content, delayMs: totalMs - (CHUNKS - 1) * CHUNK_GAP_MS, chunkDelayMs: CHUNK_GAP_MS };
}

interface Trainee {
  readonly id: number;
  readonly user: FakeUser;
  /** Bot messages in the chat once the opening line arrived: the dialogue's replies follow. */
  dialogueStart: number;
  /** Date.now() when each line was sent, by turn − 1. */
  readonly sentAt: number[];
}

interface Waiter {
  readonly user: FakeUser;
  readonly timeoutMs: number;
  readonly deadline: number;
  resolve(message: BotMessage): void;
  reject(error: Error): void;
}

/**
 * Waits for bot messages in many chats with one timer. FakeUser.waitForMessage re-reads its whole
 * chat after every Bot API call and every 20 ms; 200 of them at once would make the test process,
 * not the bot, the bottleneck. It only paces the trainees: latency comes from replyArrivals.
 */
class ChatWatcher {
  private readonly seen = new Map<number, number>();
  private readonly waiting = new Map<number, Waiter>();
  private timer: NodeJS.Timeout | undefined;

  /** Reads this chat from now on: the next wait sees only messages sent after this call. */
  follow(user: FakeUser): void {
    this.seen.set(user.id, user.messages({ includeDeleted: true }).length);
  }

  /** The first message of the chat not yet returned; rejects after `timeoutMs`. */
  nextMessage(user: FakeUser, timeoutMs: number): Promise<BotMessage> {
    this.timer ??= setInterval(() => this.check(), 20);
    return new Promise((resolve, reject) =>
      this.waiting.set(user.id, { user, timeoutMs, deadline: Date.now() + timeoutMs, resolve, reject }),
    );
  }

  close(): void {
    for (const [id, waiter] of this.waiting) waiter.reject(new Error(`chat ${id}: the watcher was closed`));
    this.waiting.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    const now = Date.now();
    for (const [id, waiter] of this.waiting) {
      const seen = this.seen.get(id) ?? 0;
      const next = waiter.user.messages({ includeDeleted: true })[seen];
      if (next) {
        this.seen.set(id, seen + 1);
        this.waiting.delete(id);
        waiter.resolve(next);
      } else if (now > waiter.deadline) {
        this.waiting.delete(id);
        waiter.reject(new Error(`chat ${id}: no bot message #${seen + 1} within ${waiter.timeoutMs} ms`));
      }
    }
    if (this.waiting.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** Menu → scenario → difficulty → opening line, then the chat is followed from there. */
async function openDialogue(trainee: Trainee, watcher: ChatWatcher): Promise<void> {
  // A written scenario: the call scenarios answer by voice by default, and this measures text turns.
  await startScenario(trainee.user, 'needs-discovery');
  trainee.dialogueStart = trainee.user.messages({ includeDeleted: true }).length;
  watcher.follow(trainee.user);
}

/** Writes `turns` lines, each after the answer to the previous one, as a trainee does. */
async function playDialogue(trainee: Trainee, turns: number, watcher: ChatWatcher): Promise<void> {
  for (let turn = 1; turn <= turns; turn += 1) {
    trainee.sentAt.push(Date.now());
    trainee.user.sendText(traineeLine(trainee.id, turn));
    await watcher.nextMessage(trainee.user, TURN_TIMEOUT_MS);
  }
}

/** Runs `work` on every item, at most `limit` at a time; never rejects. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<PromiseSettledResult<void>[]> {
  const results: PromiseSettledResult<void>[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!).then(
        () => ({ status: 'fulfilled', value: undefined }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function failuresOf(trainees: readonly Trainee[], results: readonly PromiseSettledResult<void>[], phase: string): string[] {
  return results.flatMap((result, i) =>
    result.status === 'rejected' ? [`t${trainees[i]!.id} ${phase}: ${String(result.reason).split('\n')[0]}`] : [],
  );
}

/**
 * What is wrong with one chat's dialogue: anything but its own replies 1..turns, each once, in
 * order; or a live draft (a reply as it streams) that carries another trainee's marker.
 */
function dialogueProblems(trainee: Trainee, turns: number): string[] {
  const texts = trainee.user
    .messages({ includeDeleted: true })
    .slice(trainee.dialogueStart)
    .map((m) => m.visibleText);
  const problems: string[] = [];
  for (const draft of trainee.user.drafts()) {
    const owner = MARKER.exec(draft.visibleText)?.[1];
    if (owner !== undefined && Number(owner) !== trainee.id) problems.push(`t${trainee.id} saw a draft written for t${owner}`);
  }
  const answered: number[] = [];
  for (const text of texts) {
    const match = REPLY.exec(text);
    if (!match) problems.push(`t${trainee.id} got «${text.slice(0, 60)}»`);
    else if (Number(match[1]) !== trainee.id) problems.push(`t${trainee.id} got the reply written for t${match[1]}`);
    else answered.push(Number(match[2]));
  }
  const expected = Array.from({ length: turns }, (_, i) => i + 1);
  if (answered.join() !== expected.join()) problems.push(`t${trainee.id} got answers to lines ${answered.join(',')}`);
  return problems;
}

/** When each text reached Telegram (the sendMessage call that carried it), ms. */
function replyArrivals(telegram: TelegramFake): Map<string, number> {
  const arrivals = new Map<string, number>();
  for (const call of telegram.callsOf('sendMessage')) {
    const text = call.params.text;
    if (!call.error && typeof text === 'string' && !arrivals.has(text)) arrivals.set(text, call.time);
  }
  return arrivals;
}

/** Send → reply arrives, for every answered turn. */
function replyLatencies(
  trainees: readonly Trainee[],
  arrivals: ReadonlyMap<string, number>,
): { latencies: number[]; lastArrival: number } {
  const latencies: number[] = [];
  let lastArrival = 0;
  for (const trainee of trainees) {
    trainee.sentAt.forEach((sentAt, i) => {
      const arrival = arrivals.get(clientReply(trainee.id, i + 1));
      if (arrival === undefined) return;
      latencies.push(arrival - sentAt);
      lastArrival = Math.max(lastArrival, arrival);
    });
  }
  return { latencies, lastArrival };
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

interface BotFigures {
  /** What the OS charges the bot: garbage V8 has not yet collected counts too (nothing forces a GC here). */
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  /** Memory of JS objects held outside the V8 heap (Buffers, ArrayBuffers). */
  readonly externalBytes: number;
  readonly cpuSeconds: number;
  /**
   * prom-client 15 reads perf_hooks.monitorEventLoopDelay (10 ms resolution) and resets it on every
   * collect, so this is the p99 since the previous scrape. Each sample is the whole interval between
   * two ticks of the 10 ms timer, so an idle loop reads about 10 ms: the figure includes the resolution.
   */
  readonly eventLoopP99Ms: number;
}

/** One scrape of the bot's /metrics: the figures must come from inside the bot process. */
async function scrapeBot(port: number): Promise<BotFigures> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  const text = await response.text();
  const gauge = (name: string): number => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    if (!match) throw new Error(`/metrics has no ${name}`);
    return Number(match[1]);
  };
  return {
    rssBytes: gauge('process_resident_memory_bytes'),
    heapUsedBytes: gauge('nodejs_heap_size_used_bytes'),
    heapTotalBytes: gauge('nodejs_heap_size_total_bytes'),
    externalBytes: gauge('nodejs_external_memory_bytes'),
    cpuSeconds: gauge('process_cpu_seconds_total'),
    eventLoopP99Ms: gauge('nodejs_eventloop_lag_p99_seconds') * 1000,
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The bot's log lines at warn (40) or above, printed after `offset` characters of its output. */
function warningsSince(world: World, offset: number): string[] {
  return world
    .allOutput()
    .slice(offset)
    .split('\n')
    .filter((line) => /"level":(4|5|6)\d\b/.test(line));
}

/** Messages of one role stored in the sessions of the load trainees. */
function storedMessages(world: World, role: 'user' | 'assistant'): Promise<number> {
  return count(
    world.database,
    `select count(*)::int as n from messages m join sessions s on s.id = m.session_id join users u on u.id = s.user_id
     where m.role = '${role}' and u.telegram_id between ${loadIds[0]} and ${loadIds.at(-1)}`,
  );
}

const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);
const oneDecimal = (n: number): number => Math.round(n * 10) / 10;

/** What one load run measured, inside the bot and from the trainees' side. */
interface LoadRun {
  readonly trainees: readonly Trainee[];
  readonly startFailures: readonly string[];
  readonly dialogueFailures: readonly string[];
  readonly startMs: number;
  /** From the first line of the turns phase to the last answer reaching Telegram. */
  readonly turnsMs: number;
  readonly latencies: readonly number[];
  /** After the warm-up; at the end of the menu starts (opens the turns' event-loop window); at the end of the turns; once memory was released. */
  readonly bot: {
    readonly before: BotFigures;
    readonly afterStarts: BotFigures;
    readonly atEnd: BotFigures;
    readonly after: BotFigures;
  };
  /** From the end of the turns until RSS was back within the limit (or the wait ran out), ms. */
  readonly releasedAfterMs: number;
  /** CPU this test process (the Telegram and model stand-ins) spent during the turns, seconds. */
  readonly testCpuSeconds: number;
}

describe('load', () => {
  // Stays undefined when startWorld fails, so afterAll must not assume it.
  let world: World | undefined;
  let metricsPort = 0;
  const watcher = new ChatWatcher();

  const traineesOf = (w: World, ids: readonly number[]): Trainee[] =>
    ids.map((id) => ({
      id,
      user: w.telegram.user(id, { firstName: `Стажёр${id}`, languageCode: 'ru' }),
      dialogueStart: 0,
      sentAt: [],
    }));

  beforeAll(async () => {
    metricsPort = await freePort();
    world = await startWorld({
      trainees: [...warmupIds, ...loadIds],
      // info, the production default: debug would measure our own logging (and pipe megabytes into this process).
      // jemalloc, as the Docker image runs the bot: glibc's malloc keeps freed network buffers (RSS +17–25%).
      env: { HEALTH_PORT: String(metricsPort), LOG_LEVEL: 'info', ...jemallocPreload() },
    });
    world.openai.respondWith(scriptedModel(markedClientReply));
  });

  afterAll(async () => {
    watcher.close();
    await world?.close();
  });

  /** JIT, connection pool and caches warmed by a few trainees of their own, so RSS "before" is fair. */
  async function warmUp(w: World): Promise<string[]> {
    const warmup = traineesOf(w, warmupIds);
    const results = await eachLimited(warmup, WARMUP_TRAINEES, async (trainee) => {
      await openDialogue(trainee, watcher);
      await playDialogue(trainee, WARMUP_TURNS, watcher);
    });
    return failuresOf(warmup, results, 'warm-up');
  }

  /** The bot's figures once its RSS is back within the limit of `beforeRss`, or when the wait runs out. */
  async function waitForMemoryRelease(beforeRss: number): Promise<{ after: BotFigures; releasedAfterMs: number }> {
    const startedAt = Date.now();
    for (;;) {
      const after = await scrapeBot(metricsPort);
      const releasedAfterMs = Date.now() - startedAt;
      if (after.rssBytes <= beforeRss * (1 + RSS_GROWTH_LIMIT) || releasedAfterMs >= RELEASE_WAIT_MS)
        return { after, releasedAfterMs };
      await sleep(RELEASE_POLL_MS);
    }
  }

  /** The load itself: every trainee through the menu, then every dialogue at once. */
  async function runLoad(w: World): Promise<LoadRun> {
    const before = await scrapeBot(metricsPort);
    const trainees = traineesOf(w, loadIds);
    const startedAt = Date.now();
    const starts = await eachLimited(trainees, START_CONCURRENCY, (trainee) => openDialogue(trainee, watcher));
    const startMs = Date.now() - startedAt;
    const afterStarts = await scrapeBot(metricsPort);
    const opened = trainees.filter((_, i) => starts[i]!.status === 'fulfilled');

    const turnsStartedAt = Date.now();
    const testCpu = process.cpuUsage();
    const dialogues = await Promise.allSettled(opened.map((trainee) => playDialogue(trainee, TURNS, watcher)));
    const { user, system } = process.cpuUsage(testCpu);
    const atEnd = await scrapeBot(metricsPort);
    const { after, releasedAfterMs } = await waitForMemoryRelease(before.rssBytes);

    const { latencies, lastArrival } = replyLatencies(trainees, replyArrivals(w.telegram));
    return {
      trainees,
      startFailures: failuresOf(trainees, starts, 'menu'),
      dialogueFailures: failuresOf(opened, dialogues, 'dialogue'),
      startMs,
      turnsMs: lastArrival - turnsStartedAt,
      latencies,
      bot: { before, afterStarts, atEnd, after },
      releasedAfterMs,
      testCpuSeconds: (user + system) / 1e6,
    };
  }

  it(
    `${TRAINEES} trainees at once, ${TURNS} turns each: every turn answered once, in order, to the right trainee`,
    { timeout: 400_000 },
    async (context) => {
      recordCase(context, {
        area: 'load',
        case: `${TRAINEES} trainees at once, ${TURNS} turns each`,
        action:
          `${TRAINEES} trainees open a scenario through the menu at once (${START_CONCURRENCY} at a time), then each writes ${TURNS} ` +
          `lines marked with its id, each after the answer to the last; the model stand-in answers in ${MODEL_MIN_MS / 1000}–${MODEL_MAX_MS / 1000} s ` +
          `(random), streamed in ${CHUNKS} chunks, quoting the marker of the line it answers`,
        traineeSaw: `its own ${TURNS} answers, in order, each once`,
        checked:
          `every chat got exactly its own answers 1..${TURNS} in order, and no draft of another's; ${TRAINEES * TURNS} trainee lines and ` +
          `${TRAINEES * TURNS + TRAINEES} client lines stored, each line once, every reply marked delivered; bot RSS once idle after the run ` +
          `(read every second, at most ${RELEASE_WAIT_MS / 1000} s) within ${RSS_GROWTH_LIMIT * 100}% of before (after a warm-up), the bot ` +
          `allocating with jemalloc as in the Docker image; no error logged. The event-loop delay is reported, ` +
          `not asserted: speed targets are the benchmark's (npm run bench), never a test's`,
      });
      const w = world!;
      expect(await warmUp(w)).toEqual([]);
      const logOffset = w.allOutput().length;
      const run = await runLoad(w);

      const { before, afterStarts, atEnd, after } = run.bot;
      const rssGrowth = after.rssBytes / before.rssBytes - 1;
      const [userLines, clientLines, undelivered] = await Promise.all([
        storedMessages(w, 'user'),
        storedMessages(w, 'assistant'),
        count(w.database, "select count(*)::int as n from messages where role = 'assistant' and delivered_at is null"),
      ]);
      const warnings = warningsSince(w, logOffset);
      const answered = run.latencies.length;
      recordFigures(context, {
        'turns answered': `${answered}/${TRAINEES * TURNS}`,
        'menu starts': `${TRAINEES - run.startFailures.length}/${TRAINEES} in ${oneDecimal(run.startMs / 1000)} s`,
        'turns/s': oneDecimal((answered / run.turnsMs) * 1000),
        'turns phase s': oneDecimal(run.turnsMs / 1000),
        'latency p50/p95/p99 ms': [50, 95, 99].map((p) => Math.round(percentile(run.latencies, p))).join('/'),
        'latency max ms': Math.round(percentile(run.latencies, 100)),
        'RSS before/end/after MB': `${mb(before.rssBytes)}/${mb(atEnd.rssBytes)}/${mb(after.rssBytes)}`,
        'RSS change': `${oneDecimal(rssGrowth * 100)}%`,
        'memory released after s': oneDecimal(run.releasedAfterMs / 1000),
        'heap used/total before → after MB': `${mb(before.heapUsedBytes)}/${mb(before.heapTotalBytes)} → ${mb(after.heapUsedBytes)}/${mb(after.heapTotalBytes)}`,
        'event-loop p99 ms (turns; menu starts)': `${oneDecimal(atEnd.eventLoopP99Ms)}; ${oneDecimal(afterStarts.eventLoopP99Ms)}`,
        'bot CPU ms/turn': oneDecimal(((atEnd.cpuSeconds - afterStarts.cpuSeconds) * 1000) / Math.max(answered, 1)),
        'stand-ins CPU % of a core': Math.round((run.testCpuSeconds * 1000 * 100) / run.turnsMs),
        'stored user/assistant': `${userLines}/${clientLines}`,
        'warnings logged': warnings.length,
      });

      expect(run.startFailures.slice(0, 10)).toEqual([]);
      expect(run.dialogueFailures.slice(0, 10)).toEqual([]);
      expect(run.trainees.flatMap((trainee) => dialogueProblems(trainee, TURNS)).slice(0, 10)).toEqual([]);
      expect({ userLines, clientLines, undelivered }).toEqual({
        userLines: TRAINEES * TURNS,
        clientLines: TRAINEES * TURNS + TRAINEES,
        undelivered: 0,
      });
      const sent = run.trainees.flatMap((trainee) => trainee.sentAt.map((_, i) => traineeLine(trainee.id, i + 1)));
      expect(await checkInvariants(w, sent)).toEqual([]);
      expect(warnings.filter((line) => /"level":(5|6)\d\b/.test(line)).slice(0, 5)).toEqual([]);
      expect(rssGrowth, 'bot RSS growth once idle after the run').toBeLessThanOrEqual(RSS_GROWTH_LIMIT);
    },
  );
});
