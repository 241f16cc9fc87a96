import type { UserId } from '../../db/ids.js';
import type { StoredMessage } from '../../db/queries/messages.js';
import type { TrainingSession } from '../../db/queries/sessions.js';
import { resilientQueries } from '../../db/retry.js';
import type { Difficulty } from '../scenarios.js';
import { TrainingEvaluation, type PastEvaluation } from './evaluation.js';
import { findInterruptedWork } from './recovery.js';
import { RolePlay } from './role-play.js';
import { TrainingSessions } from './sessions.js';
import type { ActiveTraining, FinishResult, InterruptedWork, SpokenTurnHooks, TrainingDeps, TurnResult } from './types.js';

export * from './types.js';
export type { PastEvaluation } from './evaluation.js';

/**
 * The training domain, one entry point over its parts: sessions (start, find, leave, look back),
 * the role-play (turns and the client's answers), the evaluation (/finish) and start-up recovery.
 * Knows nothing of Telegram. Every query goes through one resilient runner (db/retry.ts).
 */
export class TrainingService {
  private readonly sessions: TrainingSessions;
  private readonly rolePlay: RolePlay;
  private readonly evaluation: TrainingEvaluation;
  private readonly findInterrupted: () => Promise<InterruptedWork>;

  constructor(deps: TrainingDeps) {
    const query = resilientQueries(deps.db, deps.logger);
    this.sessions = new TrainingSessions(query, deps.scenarios);
    this.rolePlay = new RolePlay(deps, query, this.sessions);
    this.evaluation = new TrainingEvaluation(deps, query, this.sessions);
    this.findInterrupted = () => findInterruptedWork(query, deps.scenarios);
  }

  start(userId: UserId, scenarioKey: string, difficulty: Difficulty): ReturnType<TrainingSessions['start']> {
    return this.sessions.start(userId, scenarioKey, difficulty);
  }

  active(userId: UserId): Promise<ActiveTraining | undefined> {
    return this.sessions.active(userId);
  }

  /** Abandons the user's active session, if any; true when one was abandoned. */
  abandon(userId: UserId): Promise<boolean> {
    return this.sessions.abandon(userId);
  }

  /** Forgets what is cached of a user (they were erased, here or by another process). */
  forget(userId: UserId): void {
    this.sessions.forget(userId);
  }

  /** Forgets every cached session (erasures may have been missed). */
  forgetAll(): void {
    this.sessions.forgetAll();
  }

  playTurn(input: Parameters<RolePlay['playTurn']>[0]): Promise<TurnResult> {
    return this.rolePlay.playTurn(input);
  }

  playSpokenTurn(input: Parameters<RolePlay['playSpokenTurn']>[0]): Promise<TurnResult> {
    return this.rolePlay.playSpokenTurn(input);
  }

  retrySpokenTurn(input: Parameters<RolePlay['retrySpokenTurn']>[0]): Promise<TurnResult> {
    return this.rolePlay.retrySpokenTurn(input);
  }

  /** Start-up recovery: transcribes and answers a spoken turn a crash (or a failure) left without words. */
  resumeSpokenTurn(training: ActiveTraining, message: StoredMessage, hooks: SpokenTurnHooks): Promise<TurnResult> {
    return this.rolePlay.resumeSpokenTurn(training, message, hooks);
  }

  /** The client's answer to the dialogue as it stands (its last word being the trainee's). */
  answer(training: ActiveTraining, onText?: (textSoFar: string) => void): Promise<TurnResult> {
    return this.rolePlay.answer(training, onText);
  }

  /** Telegram accepted the reply. */
  markReplyDelivered(replyId: number): Promise<void> {
    return this.rolePlay.markReplyDelivered(replyId);
  }

  finish(userId: UserId): Promise<FinishResult> {
    return this.evaluation.finish(userId);
  }

  /** The trainee has seen the evaluation. */
  markEvaluationDelivered(sessionId: TrainingSession['id']): Promise<void> {
    return this.evaluation.markDelivered(sessionId);
  }

  /** A past evaluation of the user's own session (/history); undefined for another user's session or an unscored one. */
  pastEvaluation(userId: UserId, sessionId: TrainingSession['id']): Promise<PastEvaluation | undefined> {
    return this.evaluation.past(userId, sessionId);
  }

  /** Turns, /finish calls and evaluations that a crash left half done. */
  interruptedWork(): Promise<InterruptedWork> {
    return this.findInterrupted();
  }

  dialogueSoFar(sessionId: TrainingSession['id'], turns?: number): ReturnType<TrainingSessions['dialogueSoFar']> {
    return this.sessions.dialogueSoFar(sessionId, turns);
  }

  history(userId: UserId, limit?: number): ReturnType<TrainingSessions['history']> {
    return this.sessions.history(userId, limit);
  }
}
