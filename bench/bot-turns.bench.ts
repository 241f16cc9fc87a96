/**
 * The bot's own cost per role-play turn: from the update's arrival to the reply's send, with the
 * model stand-in answering at once and its time subtracted. Compared with a bare grammY echo bot
 * measured in the same run, at 1, 50 and 200 trainees in dialogue at the same time.
 *
 * Paced: each trainee sends a turn, gets the reply, "reads and types" for 0.5–1.5 s, sends the next —
 * 200 trainees then make ~200 turns/s, far above a real team's pace, yet an arrival pattern a bot meets.
 * Burst: all trainees send with no pause at all; latency there is queueing, reported with throughput.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bot, type Transformer } from 'grammy';
import type { Update } from 'grammy/types';
import type { BotContext } from '../src/bot/context.js';
import { createI18n } from '../src/bot/i18n.js';
import { createBot } from '../src/bot/index.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { asTelegramId } from '../src/db/ids.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';
import { createServices } from '../src/services/create-services.js';
import type { ChatModel } from '../src/services/llm.js';
import { loadScenarios } from '../src/services/scenarios.js';
import { benchBotInfo as botInfo, formatMs, percentile, printTable } from './support.js';

const turnsPerTrainee = 10;
const levels = [1, 50, 200] as const;

/** Answers every Bot API call at once, as if Telegram were infinitely fast. */
const instantTelegram: Transformer = async (_prev, method, payload) => {
  const p = payload as { chat_id?: number; text?: string };
  const result =
    method === 'sendMessage'
      ? { message_id: 1, date: 0, chat: { id: p.chat_id ?? 0, type: 'private', first_name: 'x' }, text: p.text ?? '' }
      : true;
  return { ok: true, result } as never;
};

let updateId = 1;
function textUpdate(userId: number, text: string, messageId: number): Update {
  return {
    update_id: updateId++,
    message: {
      message_id: messageId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: userId, type: 'private', first_name: 'T' },
      from: { id: userId, is_bot: false, first_name: 'T', language_code: 'ru' },
      text,
    },
  };
}

/** A model that answers at once and records how long each call took, so it can be subtracted. */
function instantModel(modelTime: Map<number, number>): ChatModel {
  return {
    async streamChat({ messages, onText }) {
      const started = performance.now();
      const text = `Ответ клиента на: ${String(messages.at(-1)?.content).slice(0, 40)}`;
      onText?.(text);
      await Promise.resolve();
      const chatId = Number(/#(\d+)/.exec(String(messages.at(-1)?.content))?.[1]);
      modelTime.set(chatId, (modelTime.get(chatId) ?? 0) + performance.now() - started);
      return { text, promptTokens: 10, completionTokens: 5 };
    },
    completeJson: () => Promise.reject(new Error('not used')),
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(
  handle: (update: Update) => Promise<void>,
  trainees: number,
  firstUserId: number,
  options: { modelTime?: Map<number, number>; paced: boolean },
): Promise<number[]> {
  const { modelTime, paced } = options;
  const samples: number[] = [];
  await Promise.all(
    Array.from({ length: trainees }, async (_, i) => {
      const userId = firstUserId + i;
      if (paced) await pause(Math.random() * 1000);
      for (let turn = 0; turn < turnsPerTrainee; turn++) {
        if (paced && turn > 0) await pause(500 + Math.random() * 1000);
        modelTime?.set(userId, 0);
        const started = performance.now();
        await handle(textUpdate(userId, `Реплика ${turn} #${userId}`, 1000 + turn));
        samples.push(performance.now() - started - (modelTime?.get(userId) ?? 0));
      }
    }),
  );
  return samples;
}

export interface BotTurnBenchResult {
  readonly mode: 'paced' | 'burst';
  readonly trainees: number;
  readonly turnsPerSecond: number;
  readonly botP50: number;
  readonly botP99: number;
  readonly echoP50: number;
  readonly echoP99: number;
}

export async function runBotTurnBench(): Promise<BotTurnBenchResult[]> {
  const logger = createLogger({ level: 'silent', pretty: false });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-pg-'));
  // No DATABASE_URL: openDatabase starts the embedded PostgreSQL, and close() stops it.
  const database = await openDatabase({ databaseUrl: undefined, dataDir }, logger);
  try {
    const config = loadConfig({
      BOT_TOKEN: '123456789:AAFakeTokenForBenchOnly_0123456789',
      OPENAI_API_KEY: 'sk-bench',
      ACCESS_MODE: 'open',
      LOG_LEVEL: 'silent',
      // The bench measures what a turn costs, not the per-person limiter (bench/real-path.bench.ts says why).
      TURN_RATE_PER_MINUTE: '1000000',
      TURN_BURST: '1000000',
    });
    const modelTime = new Map<number, number>();
    const metrics = createMetrics();
    const { services, conversationStore } = createServices(config, {
      logger,
      metrics,
      db: database.db,
      scenarios: await loadScenarios(config.scenariosDir),
      alertAdmins: () => undefined,
      chatModel: instantModel(modelTime),
    });
    const { access, training } = services;
    const bot = createBot({
      config,
      logger,
      metrics,
      services,
      conversationStore,
      i18n: createI18n<BotContext>(config.defaultLocale),
    });
    bot.botInfo = botInfo;
    bot.api.config.use(instantTelegram);

    const echo = new Bot('123456789:AAFakeTokenForBenchOnly_0123456789', { botInfo });
    echo.api.config.use(instantTelegram);
    echo.on('message:text', (ctx) => ctx.reply(ctx.message.text));

    const results: BotTurnBenchResult[] = [];
    let firstUserId = 100_000;
    for (const trainees of levels) {
      for (let i = 0; i < trainees; i++) {
        const decision = await access.admit({ telegramId: asTelegramId(firstUserId + i), firstName: 'T' });
        if (!decision.admitted) throw new Error('bench user refused');
        await training.start(decision.user.id, 'cold-call', 'medium');
      }
      await measure((u) => bot.handleUpdate(u), Math.min(trainees, 5), firstUserId, { modelTime, paced: false }); // warm-up
      for (const mode of ['paced', 'burst'] as const) {
        const paced = mode === 'paced';
        const started = performance.now();
        const botSamples = await measure((u) => bot.handleUpdate(u), trainees, firstUserId, { modelTime, paced });
        const seconds = (performance.now() - started) / 1000;
        const echoSamples = await measure((u) => echo.handleUpdate(u), trainees, firstUserId, { paced });
        results.push({
          mode,
          trainees,
          turnsPerSecond: botSamples.length / seconds,
          botP50: percentile(botSamples, 50),
          botP99: percentile(botSamples, 99),
          echoP50: percentile(echoSamples, 50),
          echoP99: percentile(echoSamples, 99),
        });
      }
      firstUserId += trainees;
    }
    printTable(
      `Bot cost per turn (model excluded), ${turnsPerTrainee} turns per trainee; target: paced p99 < 25 ms at 200`,
      ['mode', 'trainees', 'turns/s', 'bot p50 ms', 'bot p99 ms', 'echo p50 ms', 'echo p99 ms', 'p99 ratio'],
      results.map((r) => [
        r.mode,
        String(r.trainees),
        r.turnsPerSecond.toFixed(0),
        formatMs(r.botP50),
        formatMs(r.botP99),
        formatMs(r.echoP50),
        formatMs(r.echoP99),
        `${(r.botP99 / r.echoP99).toFixed(1)}×`,
      ]),
    );
    return results;
  } finally {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runBotTurnBench();
}
