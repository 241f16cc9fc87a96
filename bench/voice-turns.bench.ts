/**
 * A voice note's way to the first visible answer: from the update's arrival to the first text of the
 * client's reply the trainee sees (its first draft), beside the transcription's own time. The bot's
 * share is what is left once the transcription and the model are taken out: getFile and the download,
 * storing the turn and its transcript, showing «🎙 …», reading the dialogue. Target: p99 under
 * 300 ms with 50 trainees sending voice notes at once. Baseline: a typed turn for the same trainees,
 * measured the same way in the same run.
 *
 * Telegram answers at once; the speech-to-text stand-in takes a fixed time like a fast Whisper server.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Transformer } from 'grammy';
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
import type { SpeechToText } from '../src/services/speech-to-text.js';
import { benchBotInfo as botInfo, formatMs, percentile, printTable } from './support.js';

const trainees = 50;
const rounds = 3;
/** What a fast Whisper server takes for a short note. */
const transcriptionMs = 250;
const token = '123456789:AAFakeTokenForBenchOnly_0123456789';
const note = readFileSync(path.resolve(import.meta.dirname, '../test/fixtures/voice-turn.ogg'));
const clientPrefix = 'Ответ клиента';

/** When each chat first saw the client's reply text (a draft or a message), and the «🎙 …» echo. */
interface Seen {
  echo?: number;
  firstReply?: number;
}

/** Telegram answering at once, noting when each chat was shown what. */
function instantTelegram(seen: Map<number, Seen>): Transformer {
  return async (_prev, method, payload) => {
    const p = payload as { chat_id?: number; text?: string; file_id?: string };
    const chat = seen.get(p.chat_id ?? 0);
    const text = p.text ?? '';
    if (chat && (method === 'sendMessage' || method === 'sendMessageDraft')) {
      if (text.startsWith('🎙')) chat.echo ??= performance.now();
      if (text.startsWith(clientPrefix)) chat.firstReply ??= performance.now();
    }
    const result =
      method === 'getFile'
        ? { file_id: p.file_id, file_unique_id: 'u', file_size: note.length, file_path: `voice/${p.file_id}.oga` }
        : method === 'sendMessage'
          ? { message_id: 1, date: 0, chat: { id: p.chat_id ?? 0, type: 'private', first_name: 'x' }, text }
          : true;
    return { ok: true, result } as never;
  };
}

/** The file endpoint: every note is the same real Ogg Opus file, with its chat's id after it. */
const fileServer = (async (input: string | URL | Request) => {
  const url = input instanceof Request ? input.url : String(input);
  const chatId = /\/file\/bot[^/]+\/voice\/n(\d+)r/.exec(url)?.[1];
  if (!chatId) throw new Error(`only voice notes are fetched here, not ${url}`);
  return new Response(Buffer.concat([note, Buffer.from(`#${chatId}`)]));
}) as typeof fetch;

/** Speech-to-text taking `transcriptionMs`, hearing the chat's id, and noting its own time per chat. */
function timedSpeechToText(sttTime: Map<number, number>): SpeechToText {
  return {
    async transcribe(audio) {
      const chatId = Number(/#(\d+)$/.exec(Buffer.from(audio.bytes.subarray(-16)).toString('latin1'))?.[1]);
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, transcriptionMs));
      sttTime.set(chatId, performance.now() - started);
      return `Добрый день, меня зовут Анна #${chatId}`;
    },
  };
}

/** A model that answers at once and notes how long each call took, so it can be subtracted. */
function instantModel(modelTime: Map<number, number>): ChatModel {
  return {
    async streamChat({ messages, onText }) {
      const started = performance.now();
      const last = String(messages.at(-1)?.content);
      const text = `${clientPrefix} на: ${last.slice(0, 40)}`;
      onText?.(text);
      await Promise.resolve();
      const chatId = Number(/#(\d+)/.exec(last)?.[1]);
      modelTime.set(chatId, (modelTime.get(chatId) ?? 0) + performance.now() - started);
      return { text, promptTokens: 10, completionTokens: 5 };
    },
    completeJson: () => Promise.reject(new Error('not used')),
  };
}

let updateId = 1;
function message(userId: number, messageId: number, content: { text: string } | { voice: Record<string, unknown> }): Update {
  return {
    update_id: updateId++,
    message: {
      message_id: messageId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: userId, type: 'private', first_name: 'T' },
      from: { id: userId, is_bot: false, first_name: 'T', language_code: 'ru' },
      ...content,
    } as Update['message'],
  };
}

export interface VoiceTurnBenchResult {
  readonly firstTextP50: number;
  readonly firstTextP99: number;
  readonly transcriptionP50: number;
  readonly transcriptionP99: number;
  readonly botP50: number;
  readonly botP99: number;
  readonly textBotP50: number;
  readonly textBotP99: number;
}

export async function runVoiceTurnBench(): Promise<VoiceTurnBenchResult> {
  const logger = createLogger({ level: 'silent', pretty: false });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-voice-pg-'));
  // No DATABASE_URL: openDatabase starts the embedded PostgreSQL, and close() stops it.
  const database = await openDatabase({ databaseUrl: undefined, dataDir }, logger);
  try {
    const config = loadConfig({
      BOT_TOKEN: token,
      OPENAI_API_KEY: 'sk-bench',
      ACCESS_MODE: 'open',
      LOG_LEVEL: 'silent',
      // The bench measures what a turn costs, not the per-person limiter (bench/real-path.bench.ts says why).
      TURN_RATE_PER_MINUTE: '1000000',
      TURN_BURST: '1000000',
    });
    const modelTime = new Map<number, number>();
    const sttTime = new Map<number, number>();
    const { services, conversationStore } = createServices(config, {
      logger,
      metrics: createMetrics(),
      db: database.db,
      scenarios: await loadScenarios(config.scenariosDir),
      alertAdmins: () => undefined,
      chatModel: instantModel(modelTime),
      speechToText: timedSpeechToText(sttTime),
    });
    const seen = new Map<number, Seen>();
    const bot = createBot({
      config,
      logger,
      services,
      conversationStore,
      i18n: createI18n<BotContext>(config.defaultLocale),
      botInfo,
      fetch: fileServer as never,
    });
    bot.api.config.use(instantTelegram(seen));

    const firstUserId = 500_000;
    const ids = Array.from({ length: trainees }, (_, i) => firstUserId + i);
    for (const id of ids) {
      const decision = await services.access.admit({ telegramId: asTelegramId(id), firstName: 'T' });
      if (!decision.admitted) throw new Error('bench user refused');
      // A text scenario: the answer's first text is what the trainee sees first either way.
      await services.training.start(decision.user.id, 'needs-discovery', 'medium');
    }

    const firstText: number[] = [];
    const transcription: number[] = [];
    const botShare: number[] = [];
    const textBotShare: number[] = [];
    let messageId = 1000;
    // Round 0 warms up (first queries of each trainee, the JIT), as the typed-turn bench does; it is not counted.
    for (let round = 0; round <= rounds; round++) {
      const record = <T>(samples: T[], value: T) => void (round > 0 && samples.push(value));
      messageId += 1;
      // All trainees at once: a voice note each…
      await Promise.all(
        ids.map(async (id) => {
          seen.set(id, {});
          modelTime.set(id, 0);
          const started = performance.now();
          await bot.handleUpdate(
            message(id, messageId, {
              voice: { file_id: `n${id}r${round}`, file_unique_id: `u${id}r${round}`, duration: 9, file_size: note.length },
            }),
          );
          const reached = seen.get(id)!.firstReply;
          if (reached === undefined) throw new Error(`chat ${id} saw no reply`);
          record(firstText, reached - started);
          record(transcription, sttTime.get(id)!);
          record(botShare, reached - started - sttTime.get(id)! - modelTime.get(id)!);
        }),
      );
      messageId += 1;
      // …then a typed turn each, for the baseline.
      await Promise.all(
        ids.map(async (id) => {
          seen.set(id, {});
          modelTime.set(id, 0);
          const started = performance.now();
          await bot.handleUpdate(message(id, messageId, { text: `Сколько у вас салонов? #${id}` }));
          record(textBotShare, seen.get(id)!.firstReply! - started - modelTime.get(id)!);
        }),
      );
    }

    const result: VoiceTurnBenchResult = {
      firstTextP50: percentile(firstText, 50),
      firstTextP99: percentile(firstText, 99),
      transcriptionP50: percentile(transcription, 50),
      transcriptionP99: percentile(transcription, 99),
      botP50: percentile(botShare, 50),
      botP99: percentile(botShare, 99),
      textBotP50: percentile(textBotShare, 50),
      textBotP99: percentile(textBotShare, 99),
    };
    printTable(
      `Voice note → first visible reply text, ${trainees} trainees at once × ${rounds}; transcription ${transcriptionMs} ms; target: bot share p99 < 300 ms`,
      ['measure', 'p50 ms', 'p99 ms'],
      [
        ['voice note → first reply text', formatMs(result.firstTextP50), formatMs(result.firstTextP99)],
        ['  of which transcription', formatMs(result.transcriptionP50), formatMs(result.transcriptionP99)],
        ['  of which the bot', formatMs(result.botP50), formatMs(result.botP99)],
        ['typed turn → first reply text (baseline)', formatMs(result.textBotP50), formatMs(result.textBotP99)],
        [
          'bot share: voice / typed',
          `${(result.botP50 / result.textBotP50).toFixed(1)}×`,
          `${(result.botP99 / result.textBotP99).toFixed(1)}×`,
        ],
      ],
    );
    return result;
  } finally {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runVoiceTurnBench();
}
