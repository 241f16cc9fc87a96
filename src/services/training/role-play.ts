import {
  appendMessage,
  getMessage,
  lastMessageOfSessions,
  lastMessages,
  markMessageDelivered,
  sessionMessages,
  storeTranscript,
  storeTurnAndReadDialogue,
  type ChatMessage,
  type SpokenAudio,
  type StoredMessage,
} from '../../db/queries/messages.js';
import type { UserId } from '../../db/ids.js';
import type { RunQuery } from '../../db/retry.js';
import { storable } from '../../db/text.js';
import { storeHangUpReply } from '../../db/queries/sessions.js';
import {
  bareGoodbye,
  buildClientSystemPrompt,
  buildStayInCharacterPrompt,
  clientInstructions,
  parseClientReply,
  steadyLine,
  visibleDraft,
} from '../client-role.js';
import type { KnowledgeSource } from '../knowledge-base/prompt-knowledge.js';
import type { ChatReply } from '../llm.js';
import { lookUpKnowledge } from './knowledge-lookup.js';
import { withUsage } from '../usage.js';
import { ClientLeakDetector, type ClientLeak } from '../prompt-leak.js';
import type { Difficulty, Scenario } from '../scenarios.js';
import { TranscriptionUnavailableError, type AudioFile } from '../speech-to-text.js';
import { fitHistoryToBudget } from '../token-budget.js';
import type { TrainingSessions } from './sessions.js';
import { lastMessageIf } from './sessions.js';
import {
  SpokenTurnNotTranscribedError,
  type ActiveTraining,
  type AudioDownloader,
  type SpokenTurnHooks,
  type TrainingDeps,
  type TurnResult,
} from './types.js';

/** The longest dialogue the prompt ever considers; the token budget trims further. */
const historyWindow = 200;

type RolePlayDeps = Pick<
  TrainingDeps,
  'chat' | 'speechToText' | 'knowledge' | 'clientModel' | 'historyTokenBudget' | 'metrics' | 'logger'
>;

/**
 * The role-play: the trainee's turns, written or spoken, stored before anything else is asked, and
 * the AI client's answers, kept in character.
 */
export class RolePlay {
  private readonly leakDetectors = new Map<string, ClientLeakDetector>();

  constructor(
    private readonly deps: RolePlayDeps,
    private readonly query: RunQuery,
    private readonly sessions: TrainingSessions,
  ) {}

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

  private async storeAndAnswer(input: Parameters<RolePlay['playTurn']>[0]): Promise<TurnResult> {
    const training = await this.sessions.active(input.userId);
    if (!training) return { kind: 'no-session' };
    if (hungUp(training)) return { kind: 'hung-up' };
    // The client's knowledge for this line is searched while the line is stored.
    this.deps.knowledge?.searchAhead(storable(input.text));
    // One statement stores the turn and reads the dialogue it ends: the common case.
    const turn = await this.query('store the trainee message', (db) =>
      storeTurnAndReadDialogue(db, training.session.id, input.text, input.telegramMessageId, historyWindow),
    );
    if (turn) return this.answer(training, input.onText, turn.dialogue);
    // Stored before: a redelivered update (or a retry whose first attempt landed).
    const stored = await this.query('store the trainee message', (db) =>
      appendMessage(db, training.session.id, 'user', input.text, { telegramMessageId: input.telegramMessageId }),
    );
    if (stored.duplicate) {
      const reply = await this.replyAfter(training, stored.message.id);
      if (reply?.deliveredAt) return { kind: 'already-answered' };
      if (reply) return storedAnswer(training, reply);
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
      const training = await this.sessions.active(input.userId);
      if (!training) return { kind: 'no-session' };
      // Not downloaded, transcribed or stored: nobody is on the line any more.
      if (hungUp(training)) return { kind: 'hung-up' };
      const stored = await this.query('store the spoken turn', (db) =>
        appendMessage(db, training.session.id, 'user', '', { telegramMessageId: input.telegramMessageId, spoken: input.audio }),
      );
      const message = stored.message;
      if (stored.duplicate && message.transcribedAt !== null) {
        if (message.content === '') return { kind: 'not-heard' };
        const reply = await this.replyAfter(training, message.id);
        if (reply?.deliveredAt) return { kind: 'already-answered' };
        if (reply) return storedAnswer(training, reply);
        return this.answer(training, input.onText);
      }
      return this.transcribeAndAnswer(training, message, input);
    });
  }

  /** Tries a stored spoken turn once more (its transcription had failed), while it is still the latest word. */
  async retrySpokenTurn(input: SpokenTurnHooks & { readonly userId: UserId; readonly messageId: number }): Promise<TurnResult> {
    return this.counted(async () => {
      const training = await this.sessions.active(input.userId);
      if (!training) return { kind: 'no-session' };
      if (hungUp(training)) return { kind: 'hung-up' };
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
    const bill = { purpose: 'transcription', userId: training.session.userId, sessionId: training.session.id } as const;
    const transcript = await withUsage(bill, () => this.transcribe(message, hooks.download));
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

  /**
   * The client's answer to the dialogue as it stands (its last word being the trainee's), in
   * character (`inCharacterReply`). A reply that hangs up is stored with the hang-up, in one statement.
   * `dialogue`: the dialogue when the caller has just read it (with the turn it stored).
   */
  async answer(
    training: ActiveTraining,
    onText?: (textSoFar: string) => void,
    dialogue?: readonly ChatMessage[],
  ): Promise<TurnResult> {
    if (hungUp(training)) return { kind: 'hung-up' };
    const { session } = training;
    const history = dialogue ?? (await this.query('read the dialogue', (db) => lastMessages(db, session.id, historyWindow)));
    const reply = await this.inCharacterReply(training, history, onText);
    const tokens = tokensOf(reply.asked);
    // Two replies of the client in a row never happen otherwise: the trainee's turn comes between.
    const landed = (db: Parameters<typeof lastMessageIf>[0]) =>
      lastMessageIf(db, session.id, (last) => last.role === 'assistant' && last.content === storable(reply.text));
    if (reply.hungUp) {
      const replyId = await this.query(
        'store the client hanging up',
        (db) => storeHangUpReply(db, session.id, { content: reply.text, ...tokens }),
        async (db) => (await landed(db))?.id,
      );
      // The cached session still says the line is open.
      this.sessions.forget(session.userId);
      return { kind: 'answered', reply: reply.text, replyId, clientHungUp: true };
    }
    const stored = await this.query(
      'store the client reply',
      async (db) => (await appendMessage(db, session.id, 'assistant', reply.text, tokens)).message,
      landed,
    );
    return { kind: 'answered', reply: reply.text, replyId: stored.id, clientHungUp: false };
  }

  /**
   * What the client says: the draft streams without the hang-up marker, and stops at the first sign
   * of breaking character. An answer that breaks character is neither shown nor kept: the model is
   * asked once more, in character, not streamed; only if that answer breaks it too does the
   * persona's steady line stand in. `asked`: every answer the model gave (their tokens count).
   */
  private async inCharacterReply(
    training: ActiveTraining,
    history: readonly ChatMessage[],
    onText?: (textSoFar: string) => void,
  ): Promise<{ readonly text: string; readonly hungUp: boolean; readonly asked: readonly ChatReply[] }> {
    const { session, scenario } = training;
    const difficulty = session.difficulty as Difficulty;
    const leaks = this.leakDetector(scenario, difficulty);
    const systemPrompt = buildClientSystemPrompt(scenario, difficulty, await this.knowledgeFor(history));
    const dialogue = fitHistoryToBudget(history, this.deps.historyTokenBudget);
    const ask = (system: string, stream?: (textSoFar: string) => void) =>
      this.deps.chat.streamChat({
        model: this.deps.clientModel,
        messages: [{ role: 'system', content: system }, ...dialogue],
        usage: { purpose: 'client', userId: session.userId, sessionId: session.id },
        ...(stream ? { onText: stream } : {}),
      });

    let draftLeaked = false;
    const first = await ask(systemPrompt, (textSoFar) => {
      const visible = visibleDraft(textSoFar);
      draftLeaked ||= leaks.leaks(visible);
      if (!draftLeaked && visible !== '') onText?.(visible);
    });
    const asked = [first];
    let reply = parseClientReply(first.text);
    let leak = leaks.find(reply.text);
    if (leak) {
      this.brokeCharacter(session.id, leak, first.text.length, 'asking again');
      const second = await ask(buildStayInCharacterPrompt(systemPrompt));
      asked.push(second);
      reply = parseClientReply(second.text);
      leak = leaks.find(reply.text);
      if (leak) {
        this.brokeCharacter(session.id, leak, second.text.length, 'the persona speaks instead');
        reply = { text: steadyLine(scenario, history.length), hungUp: false };
      }
      this.deps.metrics?.countOutOfCharacter(leak ? 'persona-line' : 'asked-again');
    }
    return { text: reply.text === '' ? bareGoodbye : reply.text, hungUp: reply.hungUp, asked };
  }

  /** One warning per answer out of character: ids, what gave it away and its length, never the text (it is dialogue). */
  private brokeCharacter(sessionId: ActiveTraining['session']['id'], leak: ClientLeak, chars: number, then: string): void {
    this.deps.logger.warn({ sessionId, leak, chars }, `the client model broke character; ${then}`);
  }

  /** Telegram accepted the reply. */
  async markReplyDelivered(replyId: number): Promise<void> {
    await this.query('mark the reply delivered', (db) => markMessageDelivered(db, replyId));
  }

  private leakDetector(scenario: Scenario, difficulty: Difficulty): ClientLeakDetector {
    const key = `${scenario.key}:${difficulty}`;
    let detector = this.leakDetectors.get(key);
    if (!detector) {
      detector = new ClientLeakDetector(clientInstructions(scenario, difficulty));
      this.leakDetectors.set(key, detector);
    }
    return detector;
  }

  private async replyAfter(training: ActiveTraining, messageId: number): Promise<StoredMessage | undefined> {
    const all = await this.query('read the dialogue', (db) => sessionMessages(db, training.session.id));
    return all.find((m) => m.id > messageId && m.role === 'assistant');
  }

  /** What the client may know of the company for this dialogue; '' without a knowledge base or when the lookup fails. */
  private knowledgeFor(history: Parameters<KnowledgeSource['forClient']>[0]): Promise<string> {
    return lookUpKnowledge(this.deps, (source) => source.forClient(history));
  }
}

/** The client hung up in this session: nobody answers any more. */
function hungUp(training: ActiveTraining): boolean {
  return training.session.clientHungUpAt !== null;
}

/** A reply stored before (a redelivered turn), as the turn's answer. */
function storedAnswer(training: ActiveTraining, reply: StoredMessage): TurnResult {
  return { kind: 'answered', reply: reply.content, replyId: reply.id, clientHungUp: hungUp(training) };
}

/** The tokens of every answer the reply took (a second request included), as far as the endpoint reported them. */
function tokensOf(asked: readonly ChatReply[]): { promptTokens?: number; completionTokens?: number } {
  const total = (counts: ReadonlyArray<number | undefined>) => {
    const known = counts.filter((n): n is number => n !== undefined);
    return known.length === 0 ? undefined : known.reduce((a, b) => a + b, 0);
  };
  const promptTokens = total(asked.map((r) => r.promptTokens));
  const completionTokens = total(asked.map((r) => r.completionTokens));
  return {
    ...(promptTokens !== undefined ? { promptTokens } : {}),
    ...(completionTokens !== undefined ? { completionTokens } : {}),
  };
}
