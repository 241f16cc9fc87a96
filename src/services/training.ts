import type { Database } from '../db/client.js';
import type { UserId } from '../db/ids.js';
import { storeEvaluationAndFinish, type StoredEvaluation } from '../db/queries/evaluations.js';
import { appendMessage, countMessages, lastMessages, sessionMessages, type ChatMessage } from '../db/queries/messages.js';
import {
  abandonSession,
  getActiveSession,
  listUserSessions,
  startSession,
  type SessionSummary,
  type TrainingSession,
} from '../db/queries/sessions.js';
import type { Logger } from '../logger.js';
import { buildClientSystemPrompt } from './client-role.js';
import type { Judge } from './judge.js';
import type { ChatModel } from './llm.js';
import type { Difficulty, Scenario, ScenarioCatalog } from './scenarios.js';
import { fitHistoryToBudget } from './token-budget.js';

/** The company's knowledge as prompt text; '' when nothing relevant (or the store is down). */
export interface KnowledgeSource {
  contextFor(query: string, limit: number): Promise<string>;
}

export interface TrainingDeps {
  readonly db: Database;
  readonly scenarios: ScenarioCatalog;
  readonly chat: ChatModel;
  readonly judge: Judge;
  readonly knowledge?: KnowledgeSource;
  readonly clientModel: string;
  readonly historyTokenBudget: number;
  readonly logger: Logger;
}

export interface ActiveTraining {
  readonly session: TrainingSession;
  readonly scenario: Scenario;
}

export type TurnResult =
  | { readonly kind: 'no-session' }
  | { readonly kind: 'already-answered' }
  | { readonly kind: 'answered'; readonly reply: string };

export type FinishResult =
  | { readonly kind: 'no-session' }
  | { readonly kind: 'nothing-said'; readonly training: ActiveTraining }
  | { readonly kind: 'finished'; readonly training: ActiveTraining; readonly evaluation: StoredEvaluation };

/** The longest dialogue the prompt ever considers; the token budget trims further. */
const historyWindow = 200;
const passagesForClient = 3;
const passagesForJudge = 5;

/** The training domain: sessions, role-play turns and the final evaluation. Knows nothing of Telegram. */
export class TrainingService {
  constructor(private readonly deps: TrainingDeps) {}

  /** Starts a session; the client's opening line is stored as its first message. */
  async start(userId: UserId, scenarioKey: string, difficulty: Difficulty): Promise<ActiveTraining & { openingLine: string }> {
    const scenario = this.deps.scenarios.get(scenarioKey);
    const session = await startSession(this.deps.db, userId, scenario.key, difficulty);
    const openingLine = scenario.persona.openingLine;
    await appendMessage(this.deps.db, session.id, 'assistant', openingLine);
    return { session, scenario, openingLine };
  }

  async active(userId: UserId): Promise<ActiveTraining | undefined> {
    const session = await getActiveSession(this.deps.db, userId);
    if (!session) return undefined;
    return { session, scenario: this.deps.scenarios.get(session.scenarioKey) };
  }

  /** Abandons the user's active session, if any; true when one was abandoned. */
  async abandon(userId: UserId): Promise<boolean> {
    const session = await getActiveSession(this.deps.db, userId);
    return session ? abandonSession(this.deps.db, session.id, userId) : false;
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
    const training = await this.active(input.userId);
    if (!training) return { kind: 'no-session' };
    const { session, scenario } = training;
    const stored = await appendMessage(this.deps.db, session.id, 'user', input.text, {
      telegramMessageId: input.telegramMessageId,
    });
    if (stored.duplicate && (await this.wasAnsweredAfter(training, stored.message.id))) {
      return { kind: 'already-answered' };
    }

    const history = await lastMessages(this.deps.db, session.id, historyWindow);
    const knowledge = await this.knowledgeFor(recentText(history, 4), passagesForClient);
    const difficulty = session.difficulty as Difficulty;
    const reply = await this.deps.chat.streamChat({
      model: this.deps.clientModel,
      messages: [
        { role: 'system', content: buildClientSystemPrompt(scenario, difficulty, knowledge) },
        ...fitHistoryToBudget(history, this.deps.historyTokenBudget),
      ],
      ...(input.onText ? { onText: input.onText } : {}),
    });
    await appendMessage(this.deps.db, session.id, 'assistant', reply.text, {
      ...(reply.promptTokens !== undefined ? { promptTokens: reply.promptTokens } : {}),
      ...(reply.completionTokens !== undefined ? { completionTokens: reply.completionTokens } : {}),
    });
    return { kind: 'answered', reply: reply.text };
  }

  /**
   * Scores the active session and finishes it. The evaluation is stored (with the session's end and
   * the sheet export) before it is returned; a failing judge leaves the session open for another try.
   */
  async finish(userId: UserId): Promise<FinishResult> {
    const training = await this.active(userId);
    if (!training) return { kind: 'no-session' };
    const { session, scenario } = training;
    if ((await countMessages(this.deps.db, session.id, 'user')) === 0) return { kind: 'nothing-said', training };

    const transcript: ChatMessage[] = (await sessionMessages(this.deps.db, session.id)).map((m) => ({
      role: m.role,
      content: m.content,
    }));
    const traineeWords = transcript.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
    const knowledge = await this.knowledgeFor(traineeWords, passagesForJudge);
    const evaluation = await this.deps.judge.scoreTranscript({
      scenario,
      difficulty: session.difficulty as Difficulty,
      transcript,
      knowledge,
    });
    const stored = await storeEvaluationAndFinish(this.deps.db, session.id, evaluation);
    return { kind: 'finished', training, evaluation: stored };
  }

  /** The last few lines of a session's dialogue as one text: what /hint looks up. */
  async recentDialogue(sessionId: TrainingSession['id'], turns = 4): Promise<string> {
    return recentText(await lastMessages(this.deps.db, sessionId, turns), turns);
  }

  /** The user's last sessions with scores, newest first. */
  async history(userId: UserId, limit = 10): Promise<Array<SessionSummary & { scenarioTitle: string }>> {
    const sessions = await listUserSessions(this.deps.db, userId, limit);
    return sessions.map((s) => ({ ...s, scenarioTitle: this.deps.scenarios.find(s.scenarioKey)?.title ?? s.scenarioKey }));
  }

  private async wasAnsweredAfter(training: ActiveTraining, messageId: number): Promise<boolean> {
    const all = await sessionMessages(this.deps.db, training.session.id);
    return all.some((m) => m.id > messageId && m.role === 'assistant');
  }

  private async knowledgeFor(query: string, limit: number): Promise<string> {
    if (!this.deps.knowledge || !query.trim()) return '';
    try {
      return await this.deps.knowledge.contextFor(query, limit);
    } catch (error) {
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
