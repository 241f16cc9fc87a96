import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Judge } from './services/judge.js';
import type { ChatModel } from './services/llm.js';
import type { SpeechToText } from './services/speech-to-text.js';
import type { TextToSpeech } from './services/text-to-speech.js';

/** What became of a role-play turn (`bot_turns_total{outcome}`). */
export type TurnOutcome = 'answered' | 'already-answered' | 'no-session' | 'not-heard' | 'moved-on' | 'hung-up' | 'failed';

/** How a client answer that broke character was replaced: the model's second answer, or the persona's steady line. */
export type OutOfCharacterResolution = 'asked-again' | 'persona-line';

/** Where an error came from (`bot_errors_total{kind}`). */
export type ErrorKind =
  'model' | 'judge' | 'transcription' | 'speech' | 'knowledge-base' | 'sheets' | 'telegram' | 'database' | 'metrics' | 'other';

/** Which per-user limit refused a request (`bot_limited_total{limit}`). */
export type LimitKind = 'turn-rate' | 'finish-rate' | 'user-budget' | 'team-budget';

/** Reads the number of evaluations waiting for the sheet export, at scrape time. */
export type PendingExportsReader = () => Promise<number> | number;

/** The bot's Prometheus metrics, all on one registry of their own. */
export interface Metrics {
  /** Served by `/metrics`; never prom-client's global registry, so each instance stands alone. */
  readonly registry: Registry;
  readonly turns: Counter<'outcome'>;
  readonly errors: Counter<'kind'>;
  readonly outOfCharacter: Counter<'resolution'>;
  /** The client role's answers (streamChat), seconds. */
  readonly modelLatency: Histogram;
  /** One whole evaluation, repairs included (scoreTranscript), seconds. */
  readonly judgeLatency: Histogram;
  /** One voice note's transcription (/audio/transcriptions), seconds. */
  readonly transcriptionLatency: Histogram;
  /** One voice answer's synthesis (/audio/speech), seconds. */
  readonly speechLatency: Histogram;
  readonly sheetExportsPending: Gauge;
  /** Tokens of every model call, by what it was for and prompt/completion. */
  readonly modelTokens: Counter<'purpose' | 'kind'>;
  /** The estimated cost of every model call (MODEL_PRICE_PER_1K_INPUT / _OUTPUT), USD. */
  readonly modelCostUsd: Counter;
  /** Requests refused by a per-user limit (`turn-rate`, `finish-rate`, `user-budget`, `team-budget`). */
  readonly limited: Counter<'limit'>;
  countModelUsage(purpose: string, promptTokens: number, completionTokens: number, costUsd: number): void;
  countLimited(limit: LimitKind): void;
  countTurn(outcome: TurnOutcome): void;
  countError(kind: ErrorKind): void;
  countOutOfCharacter(resolution: OutOfCharacterResolution): void;
  /** Sets how `bot_sheet_exports_pending` is read; until then it stays 0. */
  readPendingExportsWith(reader: PendingExportsReader): void;
}

// A model answer takes from a fraction of a second (a short reply) to the LLM timeout (60 s default).
const MODEL_BUCKETS = [0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60, 90, 120];
// The judge writes a long structured answer and may be asked once more to repair it.
const JUDGE_BUCKETS = [1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180];
// Whisper-class servers transcribe a short note in a fraction of a second to a few seconds; speech likewise.
const AUDIO_BUCKETS = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20, 30, 60];

/** Creates the metrics and a fresh registry with Node's default process metrics. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const turns = new Counter({
    name: 'bot_turns_total',
    help: 'Role-play turns handled, by outcome',
    labelNames: ['outcome'] as const,
    registers,
  });
  const outOfCharacter = new Counter({
    name: 'bot_client_out_of_character_total',
    help: "The client's answers that broke character, by how they were replaced",
    labelNames: ['resolution'] as const,
    registers,
  });
  const errors = new Counter({
    name: 'bot_errors_total',
    help: 'Errors, by where they came from',
    labelNames: ['kind'] as const,
    registers,
  });
  const modelLatency = new Histogram({
    name: 'bot_model_latency_seconds',
    help: "Time the language model took to answer in the client's role",
    buckets: MODEL_BUCKETS,
    registers,
  });
  const judgeLatency = new Histogram({
    name: 'bot_judge_latency_seconds',
    help: 'Time the judge took to score a dialogue',
    buckets: JUDGE_BUCKETS,
    registers,
  });

  const transcriptionLatency = new Histogram({
    name: 'bot_transcription_latency_seconds',
    help: "Time the speech-to-text endpoint took to transcribe a trainee's voice note",
    buckets: AUDIO_BUCKETS,
    registers,
  });
  const speechLatency = new Histogram({
    name: 'bot_speech_latency_seconds',
    help: "Time the text-to-speech endpoint took to voice the client's answer",
    buckets: AUDIO_BUCKETS,
    registers,
  });

  const modelTokens = new Counter({
    name: 'bot_model_tokens_total',
    help: 'Tokens of model calls, by purpose (client, judge, hint, transcription, speech) and kind (prompt, completion)',
    labelNames: ['purpose', 'kind'] as const,
    registers,
  });
  const modelCostUsd = new Counter({
    name: 'bot_model_cost_usd_total',
    help: 'Estimated cost of model calls, USD (MODEL_PRICE_PER_1K_INPUT / _OUTPUT)',
    registers,
  });
  const limited = new Counter({
    name: 'bot_limited_total',
    help: 'Requests refused by a per-user limit, by limit',
    labelNames: ['limit'] as const,
    registers,
  });

  let readPending: PendingExportsReader | undefined;
  const sheetExportsPending = new Gauge({
    name: 'bot_sheet_exports_pending',
    help: 'Evaluations waiting to be appended to the Google Sheet',
    registers,
    // On a failed read the gauge keeps its last value and the failure is counted, not hidden.
    async collect() {
      if (!readPending) return;
      try {
        this.set(await readPending());
      } catch {
        errors.inc({ kind: 'metrics' });
      }
    },
  });

  return {
    registry,
    turns,
    errors,
    outOfCharacter,
    modelLatency,
    judgeLatency,
    transcriptionLatency,
    speechLatency,
    sheetExportsPending,
    modelTokens,
    modelCostUsd,
    limited,
    countModelUsage: (purpose, promptTokens, completionTokens, costUsd) => {
      if (promptTokens > 0) modelTokens.inc({ purpose, kind: 'prompt' }, promptTokens);
      if (completionTokens > 0) modelTokens.inc({ purpose, kind: 'completion' }, completionTokens);
      if (costUsd > 0) modelCostUsd.inc(costUsd);
    },
    countLimited: (limit) => limited.inc({ limit }),
    countTurn: (outcome) => turns.inc({ outcome }),
    countError: (kind) => errors.inc({ kind }),
    countOutOfCharacter: (resolution) => outOfCharacter.inc({ resolution }),
    readPendingExportsWith: (reader) => {
      readPending = reader;
    },
  };
}

/** The same chat model, with every client-role answer timed and every failure counted as `model`. */
export function instrumentChatModel(model: ChatModel, metrics: Metrics): ChatModel {
  return {
    streamChat: (request) =>
      timed(
        metrics.modelLatency,
        () => model.streamChat(request),
        () => metrics.countError('model'),
      ),
    completeJson: (request) => model.completeJson(request),
  };
}

/** The same judge, with every evaluation timed and every failure counted as `judge`. */
export function instrumentJudge(judge: Judge, metrics: Metrics): Judge {
  return {
    scoreTranscript: (input) =>
      timed(
        metrics.judgeLatency,
        () => judge.scoreTranscript(input),
        () => metrics.countError('judge'),
      ),
  };
}

/** The same speech-to-text, with every transcription timed and every failure counted as `transcription`. */
export function instrumentSpeechToText(stt: SpeechToText, metrics: Metrics): SpeechToText {
  return {
    transcribe: (audio) =>
      timed(
        metrics.transcriptionLatency,
        () => stt.transcribe(audio),
        () => metrics.countError('transcription'),
      ),
  };
}

/** The same text-to-speech, with every synthesis timed and every failure counted as `speech`. */
export function instrumentTextToSpeech(tts: TextToSpeech, metrics: Metrics): TextToSpeech {
  return {
    synthesize: (text) =>
      timed(
        metrics.speechLatency,
        () => tts.synthesize(text),
        () => metrics.countError('speech'),
      ),
  };
}

/** Runs `work`, observing its duration (successful or not) in `histogram`. */
async function timed<T>(histogram: Histogram, work: () => Promise<T>, onFailure: () => void): Promise<T> {
  const end = histogram.startTimer();
  try {
    return await work();
  } catch (error) {
    onFailure();
    throw error;
  } finally {
    end();
  }
}
