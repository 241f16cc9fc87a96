import type { Database } from '../../db/client.js';
import type { TelegramFileId } from '../../db/ids.js';
import type { StoredEvaluation } from '../../db/queries/evaluations.js';
import type { SpokenKind, StoredMessage } from '../../db/queries/messages.js';
import type { TrainingSession } from '../../db/queries/sessions.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import type { Judge } from '../judge.js';
import type { KnowledgeSource } from '../knowledge-base/prompt-knowledge.js';
import type { ChatModel } from '../llm.js';
import type { Scenario, ScenarioCatalog } from '../scenarios.js';
import type { AudioFile, SpeechToText, TranscriptionFailure } from '../speech-to-text.js';

export interface TrainingDeps {
  readonly db: Database;
  readonly scenarios: ScenarioCatalog;
  readonly chat: ChatModel;
  readonly judge: Judge;
  /** What turns a trainee's voice note into their words. */
  readonly speechToText: SpeechToText;
  readonly knowledge?: KnowledgeSource;
  readonly clientModel: string;
  readonly historyTokenBudget: number;
  readonly metrics?: TrainingMetrics;
  /** Called once an evaluation is stored (the sheet export picks it up at once). */
  readonly onEvaluationStored?: () => void;
  readonly logger: Logger;
}

/** What the training counts (src/metrics.ts). */
export type TrainingMetrics = Pick<Metrics, 'countTurn' | 'countError' | 'countOutOfCharacter'>;

export interface ActiveTraining {
  readonly session: TrainingSession;
  readonly scenario: Scenario;
}

export type TurnResult =
  | { readonly kind: 'no-session' }
  | { readonly kind: 'already-answered' }
  /**
   * `replyId`: mark it delivered once Telegram accepted the reply. `clientHungUp`: with this reply
   * the client ended the call (the reply is its goodbye, the marker stripped).
   */
  | { readonly kind: 'answered'; readonly reply: string; readonly replyId: number; readonly clientHungUp: boolean }
  /** The client hung up earlier in this session: the turn was neither stored nor put to the model. */
  | { readonly kind: 'hung-up' }
  /** A spoken turn with no words in it (silence, a tap on the button): nothing for the client to answer. */
  | { readonly kind: 'not-heard' }
  /** A retry of a spoken turn the dialogue has since gone past (the trainee wrote on): it stays unanswered. */
  | { readonly kind: 'moved-on' };

/** Fetches a spoken turn's audio from Telegram by its file id (the bot knows how; the service does not). */
export type AudioDownloader = (fileId: TelegramFileId, kind: SpokenKind) => Promise<AudioFile>;

/** What a spoken turn needs besides the text turn's: the audio, and where to show the transcript. */
export interface SpokenTurnHooks {
  readonly download: AudioDownloader;
  /** Called with the transcript before the client is asked, so the trainee sees what was heard. */
  readonly onTranscript: (transcript: string) => Promise<void>;
  readonly onText?: (textSoFar: string) => void;
}

/**
 * A spoken turn is stored but has no transcript: Telegram would not give the audio (`download`) or
 * the speech-to-text endpoint gave no words. `messageId` is the stored turn, to be retried.
 */
export class SpokenTurnNotTranscribedError extends Error {
  constructor(
    readonly messageId: number,
    readonly failure: TranscriptionFailure | 'download',
    options: { cause: unknown },
  ) {
    super(`spoken turn ${messageId} not transcribed (${failure})`, options);
    this.name = 'SpokenTurnNotTranscribedError';
  }
}

/** What a crash interrupted, found at start-up so that it can be finished. */
export interface InterruptedWork {
  /** Sessions whose last word is the trainee's, or whose last reply never reached them. */
  readonly unansweredTurns: ReadonlyArray<
    ChatOf<ActiveTraining> & { readonly undeliveredReply?: StoredMessage; readonly untranscribed?: StoredMessage }
  >;
  /** /finish was sent but no evaluation was stored. */
  readonly pendingFinishes: ReadonlyArray<ChatOf<ActiveTraining>>;
  /** Evaluations stored but never shown. */
  readonly undeliveredEvaluations: ReadonlyArray<ChatOf<ActiveTraining> & { readonly evaluation: StoredEvaluation }>;
}

export type ChatOf<T> = T & { readonly telegramId: number; readonly languageCode: string | null };

export type FinishResult =
  | { readonly kind: 'no-session' }
  | { readonly kind: 'nothing-said'; readonly training: ActiveTraining }
  | { readonly kind: 'finished'; readonly training: ActiveTraining; readonly evaluation: StoredEvaluation };
