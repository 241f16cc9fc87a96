import type { Database } from '../db/client.js';
import type { UserId } from '../db/ids.js';
import {
  markEvaluationDelivered,
  storeEvaluationAndFinish,
  undeliveredEvaluations,
  type StoredEvaluation,
} from '../db/queries/evaluations.js';
import {
  appendMessage,
  countMessages,
  getMessage,
  lastMessageOfSessions,
  lastMessages,
  markMessageDelivered,
  sessionMessages,
  spokenTurns,
  storeTranscript,
  type ChatMessage,
  type SpokenAudio,
  type SpokenKind,
  type StoredMessage,
} from '../db/queries/messages.js';
import {
  abandonSession,
  activeSessionsWithChat,
  clearFinishRequested,
  getActiveSession,
  getSession,
  listUserSessions,
  markFinishRequested,
  startSession,
  type SessionSummary,
  type TrainingSession,
} from '../db/queries/sessions.js';
import { getUser } from '../db/queries/users.js';
import { retryTransient } from '../db/retry.js';
import { storable } from '../db/text.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { buildClientSystemPrompt, clientInstructionTexts, inCharacterDeflection } from './client-role.js';
import { analyseDelivery } from './delivery.js';
import { PromptLeakDetector } from './prompt-leak.js';
import type { Judge } from './judge.js';
import type { ChatModel } from './llm.js';
import type { Difficulty, Scenario, ScenarioCatalog } from './scenarios.js';
import { TranscriptionUnavailableError, type AudioFile, type SpeechToText, type TranscriptionFailure } from './speech-to-text.js';
import type { KnowledgeSource } from './knowledge.js';
import { fitHistoryToBudget } from './token-budget.js';
import type { TelegramFileId } from '../db/ids.js';

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
  readonly metrics?: Pick<Metrics, 'countTurn' | 'countError'>;
  /** Called once an evaluation is stored (the sheet export picks it up at once). */
  readonly onEvaluationStored?: () => void;
  readonly logger: Logger;
}

export interface ActiveTraining {
  readonly session: TrainingSession;
  readonly scenario: Scenario;
}

export type TurnResult =
  | { readonly kind: 'no-session' }
  | { readonly kind: 'already-answered' }
  /** `replyId`: mark it delivered once Telegram accepted the reply. */
  | { readonly kind: 'answered'; readonly reply: string; readonly replyId: number }
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

type ChatOf<T> = T & { readonly telegramId: number; readonly languageCode: string | null };

export type FinishResult =
  | { readonly kind: 'no-session' }
  | { readonly kind: 'nothing-said'; readonly training: ActiveTraining }
  | { readonly kind: 'finished'; readonly training: ActiveTraining; readonly evaluation: StoredEvaluation };

/** The longest dialogue the prompt ever considers; the token budget trims further. */
const historyWindow = 200;

/** The training domain: sessions, role-play turns and the final evaluation. Knows nothing of Telegram. */
/** How many users' active sessions are remembered between their turns. */
const activeCacheSize = 10_000;

export class TrainingService {
  private readonly leakDetectors = new Map<string, PromptLeakDetector>();
  /**
   * Each user's active session (or null: none), written through on start, abandon and finish.
   * Postgres stays the truth; this spares a query per turn. Sound because one process polls Telegram.
   */
  private readonly activeByUser = new Map<UserId, ActiveTraining | null>();

  constructor(private readonly deps: TrainingDeps) {}

  /** Starts a session; the client's opening line is stored as its first message. */
  async start(
    userId: UserId,
    scenarioKey: string,
    difficulty: Difficulty,
  ): Promise<ActiveTraining & { openingLine: string; openingLineId: number }> {
    const scenario = this.deps.scenarios.get(scenarioKey);
    this.activeByUser.delete(userId);
    // Called only without an active session, so one of this scenario and level found on a retry is ours.
    const session = await this.query(
      'start a session',
      (db) => startSession(db, userId, scenario.key, difficulty),
      async (db) => {
        const active = await getActiveSession(db, userId);
        return active?.scenarioKey === scenario.key && active.difficulty === difficulty ? active : undefined;
      },
    );
    this.rememberActive(userId, { session, scenario });
    const openingLine = scenario.persona.openingLine;
    const stored = await this.query(
      'store the opening line',
      async (db) => (await appendMessage(db, session.id, 'assistant', openingLine)).message,
      (db) => this.lastMessageIf(db, session.id, (last) => last.role === 'assistant'),
    );
    return { session, scenario, openingLine, openingLineId: stored.id };
  }

  async active(userId: UserId): Promise<ActiveTraining | undefined> {
    const cached = this.activeByUser.get(userId);
    if (cached !== undefined) return cached ?? undefined;
    const session = await this.query('find the active session', (db) => getActiveSession(db, userId));
    const training = session ? { session, scenario: this.deps.scenarios.get(session.scenarioKey) } : undefined;
    this.rememberActive(userId, training ?? null);
    return training;
  }

  /** Abandons the user's active session, if any; true when one was abandoned. */
  async abandon(userId: UserId): Promise<boolean> {
    this.activeByUser.delete(userId);
    const session = await this.query('find the active session', (db) => getActiveSession(db, userId));
    if (!session) return false;
    return this.query(
      'abandon the session',
      (db) => abandonSession(db, session.id, userId),
      async (db) => ((await getSession(db, session.id))?.status === 'abandoned' ? true : undefined),
    );
  }

  /** Forgets what is cached of a user (they were erased, here or by another process). */
  forget(userId: UserId): void {
    this.activeByUser.delete(userId);
  }

  /** Forgets every cached session (erasures may have been missed). */
  forgetAll(): void {
    this.activeByUser.clear();
  }

  private rememberActive(userId: UserId, training: ActiveTraining | null): void {
    this.activeByUser.delete(userId);
    this.activeByUser.set(userId, training);
    if (this.activeByUser.size > activeCacheSize) this.activeByUser.delete(this.activeByUser.keys().next().value!);
  }

  /**
   * One role-play turn. The trainee's text is stored before the model is asked, so a failing model
   * loses nothing; a Telegram update delivered twice is stored and answered once.
   */
  async playTurn(input: {
    readonly userId: UserId;
    readonly text: string;
    readonly telegramMessageId: number;
    readonly onText?: (textSoFar: string) => void;
  }): Promise<TurnResult> {
    return this.counted(() => this.storeAndAnswer(input));
  }

  private async storeAndAnswer(input: Parameters<TrainingService['playTurn']>[0]): Promise<TurnResult> {
    const training = await this.active(input.userId);
    if (!training) return { kind: 'no-session' };
    const stored = await this.query('store the trainee message', (db) =>
      appendMessage(db, training.session.id, 'user', input.text, { telegramMessageId: input.telegramMessageId }),
    );
    if (stored.duplicate) {
      const reply = await this.replyAfter(training, stored.message.id);
      if (reply?.deliveredAt) return { kind: 'already-answered' };
      if (reply) return { kind: 'answered', reply: reply.content, replyId: reply.id };
    }
    return this.answer(training, input.onText);
  }

  /**
   * A turn spoken in a voice note, an audio file or a video note. Stored (kind, length, file id)
   * before anything is downloaded, so a failed download or transcription loses nothing: it throws
   * SpokenTurnNotTranscribedError and the turn can be retried (`retrySpokenTurn`, or at start-up).
   */
  async playSpokenTurn(
    input: SpokenTurnHooks & { readonly userId: UserId; readonly telegramMessageId: number; readonly audio: SpokenAudio },
  ): Promise<TurnResult> {
    return this.counted(async () => {
      const training = await this.active(input.userId);
      if (!training) return { kind: 'no-session' };
      const stored = await this.query('store the spoken turn', (db) =>
        appendMessage(db, training.session.id, 'user', '', { telegramMessageId: input.telegramMessageId, spoken: input.audio }),
      );
      const message = stored.message;
      if (stored.duplicate && message.transcribedAt !== null) {
        if (message.content === '') return { kind: 'not-heard' };
        const reply = await this.replyAfter(training, message.id);
        if (reply?.deliveredAt) return { kind: 'already-answered' };
        if (reply) return { kind: 'answered', reply: reply.content, replyId: reply.id };
        return this.answer(training, input.onText);
      }
      return this.transcribeAndAnswer(training, message, input);
    });
  }

  /** Tries a stored spoken turn once more (its transcription had failed), while it is still the latest word. */
  async retrySpokenTurn(input: SpokenTurnHooks & { readonly userId: UserId; readonly messageId: number }): Promise<TurnResult> {
    return this.counted(async () => {
      const training = await this.active(input.userId);
      if (!training) return { kind: 'no-session' };
      const message = await this.query('read the spoken turn', (db) => getMessage(db, input.messageId));
      if (!message || message.sessionId !== training.session.id || message.role !== 'user' || message.kind === 'text') {
        return { kind: 'moved-on' };
      }
      const [last] = await this.query('read the last message', (db) => lastMessageOfSessions(db, [training.session.id]));
      if (last?.id !== message.id) return message.transcribedAt === null ? { kind: 'moved-on' } : { kind: 'already-answered' };
      if (message.transcribedAt !== null)
        return message.content === '' ? { kind: 'not-heard' } : this.answer(training, input.onText);
      return this.transcribeAndAnswer(training, message, input);
    });
  }

  /** Start-up recovery: transcribes and answers a spoken turn a crash (or a failure) left without words. */
  async resumeSpokenTurn(training: ActiveTraining, message: StoredMessage, hooks: SpokenTurnHooks): Promise<TurnResult> {
    return this.counted(() => this.transcribeAndAnswer(training, message, hooks));
  }

  private async transcribeAndAnswer(
    training: ActiveTraining,
    message: StoredMessage,
    hooks: SpokenTurnHooks,
  ): Promise<TurnResult> {
    const transcript = await this.transcribe(message, hooks.download);
    const stored = await this.query('store the transcript', (db) => storeTranscript(db, message.id, transcript));
    if (stored.content === '') return { kind: 'not-heard' };
    await hooks.onTranscript(stored.content);
    return this.answer(training, hooks.onText);
  }

  private async transcribe(message: StoredMessage, download: AudioDownloader): Promise<string> {
    if (message.kind === 'text' || message.telegramFileId === null) throw new Error(`message ${message.id} is not a spoken turn`);
    let audio: AudioFile;
    try {
      audio = await download(message.telegramFileId, message.kind);
    } catch (error) {
      throw new SpokenTurnNotTranscribedError(message.id, 'download', { cause: error });
    }
    try {
      return await this.deps.speechToText.transcribe(audio);
    } catch (error) {
      if (error instanceof TranscriptionUnavailableError)
        throw new SpokenTurnNotTranscribedError(message.id, error.failure, { cause: error });
      throw error;
    }
  }

  /** Runs a turn, counting what became of it. */
  private async counted(turn: () => Promise<TurnResult>): Promise<TurnResult> {
    try {
      const result = await turn();
      this.deps.metrics?.countTurn(result.kind);
      return result;
    } catch (error) {
      this.deps.metrics?.countTurn('failed');
      throw error;
    }
  }

  /** The client's answer to the dialogue as it stands (its last word being the trainee's). */
  async answer(training: ActiveTraining, onText?: (textSoFar: string) => void): Promise<TurnResult> {
    const { session, scenario } = training;
    const history = await this.query('read the dialogue', (db) => lastMessages(db, session.id, historyWindow));
    const knowledge = await this.knowledgeFor((source) => source.forClient(history));
    const difficulty = session.difficulty as Difficulty;
    const leaks = this.leakDetector(scenario, difficulty);
    let leaked = false;
    const reply = await this.deps.chat.streamChat({
      model: this.deps.clientModel,
      messages: [
        { role: 'system', content: buildClientSystemPrompt(scenario, difficulty, knowledge) },
        ...fitHistoryToBudget(history, this.deps.historyTokenBudget),
      ],
      // A draft that starts repeating the instructions is not shown, and neither is anything after it.
      onText: (textSoFar) => {
        leaked ||= leaks.leaks(textSoFar);
        if (!leaked) onText?.(textSoFar);
      },
    });
    let text = reply.text;
    if (leaked || leaks.leaks(text)) {
      this.deps.logger.warn(
        { sessionId: session.id, reply: text },
        'the client model repeated its instructions; replaced in character',
      );
      text = inCharacterDeflection;
    }
    const stored = await this.query(
      'store the client reply',
      async (db) =>
        (
          await appendMessage(db, session.id, 'assistant', text, {
            ...(reply.promptTokens !== undefined ? { promptTokens: reply.promptTokens } : {}),
            ...(reply.completionTokens !== undefined ? { completionTokens: reply.completionTokens } : {}),
          })
        ).message,
      // Two replies of the client in a row never happen otherwise: the trainee's turn comes between.
      (db) => this.lastMessageIf(db, session.id, (last) => last.role === 'assistant' && last.content === storable(text)),
    );
    return { kind: 'answered', reply: text, replyId: stored.id };
  }

  /** Telegram accepted the reply. */
  async markReplyDelivered(replyId: number): Promise<void> {
    await this.query('mark the reply delivered', (db) => markMessageDelivered(db, replyId));
  }

  /** The trainee has seen the evaluation. */
  async markEvaluationDelivered(sessionId: TrainingSession['id']): Promise<void> {
    await this.query('mark the evaluation delivered', (db) => markEvaluationDelivered(db, sessionId));
  }

  /** Turns, /finish calls and evaluations that a crash left half done. */
  async interruptedWork(): Promise<InterruptedWork> {
    const withScenario = <T extends { session: TrainingSession }>(row: T) => {
      const scenario = this.deps.scenarios.find(row.session.scenarioKey);
      return scenario ? [{ ...row, scenario }] : [];
    };
    const active = await this.query('find the active sessions', (db) => activeSessionsWithChat(db));
    const lastMessagesOfActive = await this.query('read the last messages', (db) =>
      lastMessageOfSessions(
        db,
        active.map((a) => a.session.id),
      ),
    );
    const last = new Map(lastMessagesOfActive.map((m) => [m.sessionId, m]));
    const pendingFinishes = active.filter((a) => a.session.finishRequestedAt !== null).flatMap(withScenario);
    const unansweredTurns = active
      .filter((a) => a.session.finishRequestedAt === null)
      .flatMap((a) => {
        const message = last.get(a.session.id);
        if (message?.role === 'user' && message.kind !== 'text' && message.transcribedAt === null) {
          return withScenario(a).map((row) => ({ ...row, untranscribed: message }));
        }
        // A spoken turn in which nothing was heard was answered already: with "say it again".
        if (message?.role === 'user' && message.content === '') return [];
        if (message?.role === 'user') return withScenario(a);
        if (message?.role === 'assistant' && message.deliveredAt === null && message.telegramMessageId === null) {
          const previous = message;
          return withScenario(a).map((row) => ({ ...row, undeliveredReply: previous }));
        }
        return [];
      });
    const chats = new Map(active.map((a) => [a.session.userId, a]));
    const evaluations = await this.query('find undelivered evaluations', (db) => undeliveredEvaluations(db));
    const undelivered = [];
    for (const row of evaluations) {
      const chat = chats.get(row.session.userId) ?? (await this.chatOf(row.session));
      if (chat) undelivered.push(...withScenario({ ...row, telegramId: chat.telegramId, languageCode: chat.languageCode }));
    }
    return { unansweredTurns, pendingFinishes, undeliveredEvaluations: undelivered };
  }

  /**
   * Scores the active session and finishes it. The evaluation is stored (with the session's end and
   * the sheet export) before it is returned; a failing judge leaves the session open for another try.
   */
  async finish(userId: UserId): Promise<FinishResult> {
    const training = await this.active(userId);
    if (!training) return { kind: 'no-session' };
    const { session, scenario } = training;
    if ((await this.query('count the trainee turns', (db) => countMessages(db, session.id, 'user'))) === 0)
      return { kind: 'nothing-said', training };
    await this.query('mark /finish requested', (db) => markFinishRequested(db, session.id));

    const transcript: ChatMessage[] = (await this.query('read the transcript', (db) => sessionMessages(db, session.id)))
      .filter((m) => m.content !== '')
      .map((m) => ({ role: m.role, content: m.content }));
    const traineeTurns = transcript.filter((m) => m.role === 'user').map((m) => m.content);
    const knowledge = await this.knowledgeFor((source) => source.forJudge(traineeTurns));
    const spoken = await this.query('read the spoken turns', (db) => spokenTurns(db, session.id));
    const delivery = analyseDelivery(spoken.map((turn) => ({ text: turn.content, seconds: turn.seconds })));
    let evaluation;
    try {
      evaluation = await this.deps.judge.scoreTranscript({
        scenario,
        difficulty: session.difficulty as Difficulty,
        transcript,
        knowledge,
        ...(delivery ? { delivery } : {}),
      });
    } catch (error) {
      await this.query('clear /finish requested', (db) => clearFinishRequested(db, session.id));
      throw error;
    }
    this.activeByUser.delete(userId);
    const stored = await this.query('store the evaluation', (db) => storeEvaluationAndFinish(db, session.id, evaluation));
    this.rememberActive(userId, null);
    this.deps.onEvaluationStored?.();
    return { kind: 'finished', training, evaluation: stored };
  }

  /** The last few lines of a session's dialogue as one text: what /hint looks up. */
  async recentDialogue(sessionId: TrainingSession['id'], turns = 4): Promise<string> {
    return recentText(await this.query('read the dialogue', (db) => lastMessages(db, sessionId, turns)), turns);
  }

  /** The user's last sessions with scores, newest first. */
  async history(userId: UserId, limit = 10): Promise<Array<SessionSummary & { scenarioTitle: string }>> {
    const sessions = await this.query('list the sessions', (db) => listUserSessions(db, userId, limit));
    return sessions.map((s) => ({ ...s, scenarioTitle: this.deps.scenarios.find(s.scenarioKey)?.title ?? s.scenarioKey }));
  }

  private leakDetector(scenario: Scenario, difficulty: Difficulty): PromptLeakDetector {
    const key = `${scenario.key}:${difficulty}`;
    let detector = this.leakDetectors.get(key);
    if (!detector) {
      detector = new PromptLeakDetector(clientInstructionTexts(scenario, difficulty));
      this.leakDetectors.set(key, detector);
    }
    return detector;
  }

  private async replyAfter(training: ActiveTraining, messageId: number): Promise<StoredMessage | undefined> {
    const all = await this.query('read the dialogue', (db) => sessionMessages(db, training.session.id));
    return all.find((m) => m.id > messageId && m.role === 'assistant');
  }

  private async chatOf(session: TrainingSession): Promise<{ telegramId: number; languageCode: string | null } | undefined> {
    return this.query('find the trainee', (db) => getUser(db, session.userId));
  }

  /**
   * Every query of the training goes through here: it waits out a short PostgreSQL outage (a restart)
   * instead of failing the trainee's turn. Each query is idempotent; a write that is not says, with
   * `landed`, how to recognise that an attempt whose answer was lost did apply.
   */
  private query<T>(
    what: string,
    run: (db: Database) => Promise<T>,
    landed?: (db: Database) => Promise<T | undefined>,
  ): Promise<T> {
    const db = this.deps.db;
    return retryTransient(() => run(db), { logger: this.deps.logger, what, ...(landed ? { landed: () => landed(db) } : {}) });
  }

  private async lastMessageIf(db: Database, sessionId: TrainingSession['id'], test: (last: StoredMessage) => boolean) {
    const [last] = await lastMessageOfSessions(db, [sessionId]);
    return last && test(last) ? last : undefined;
  }

  /** The client's or the judge's knowledge; '' without a knowledge base or when the lookup fails. */
  private async knowledgeFor(ask: (knowledge: KnowledgeSource) => Promise<string>): Promise<string> {
    if (!this.deps.knowledge) return '';
    try {
      return await ask(this.deps.knowledge);
    } catch (error) {
      this.deps.metrics?.countError('knowledge-base');
      this.deps.logger.warn({ err: error }, 'knowledge lookup failed; answering without it');
      return '';
    }
  }
}

function recentText(history: readonly ChatMessage[], turns: number): string {
  return history
    .slice(-turns)
    .map((m) => m.content)
    .join('\n');
}
