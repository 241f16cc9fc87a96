import type { SessionId, UserId } from '../../db/ids.js';
import {
  getEvaluation,
  markEvaluationDelivered,
  storeEvaluationAndFinish,
  type StoredEvaluation,
} from '../../db/queries/evaluations.js';
import { countMessages, sessionMessages, spokenTurns, type ChatMessage } from '../../db/queries/messages.js';
import { clearFinishRequested, getUserSession, markFinishRequested, type TrainingSession } from '../../db/queries/sessions.js';
import type { RunQuery } from '../../db/retry.js';
import { analyseDelivery } from '../delivery.js';
import { withUsage } from '../usage.js';
import type { Difficulty, Scenario } from '../scenarios.js';
import { lookUpKnowledge } from './knowledge-lookup.js';
import type { TrainingSessions } from './sessions.js';
import type { FinishResult, TrainingDeps } from './types.js';

type EvaluationDeps = Pick<TrainingDeps, 'judge' | 'knowledge' | 'metrics' | 'onEvaluationStored' | 'logger' | 'scenarios'>;

/** A session's stored evaluation, to be shown again; `scenario` is undefined once the scenario was removed. */
export interface PastEvaluation {
  readonly session: TrainingSession;
  readonly scenario: Scenario | undefined;
  readonly evaluation: StoredEvaluation;
}

/** /finish: the judge scores the dialogue, and the evaluation is stored with the session's end. */
export class TrainingEvaluation {
  constructor(
    private readonly deps: EvaluationDeps,
    private readonly query: RunQuery,
    private readonly sessions: TrainingSessions,
  ) {}

  /**
   * Scores the active session and finishes it. The evaluation is stored (with the session's end and
   * the sheet export) before it is returned; a failing judge leaves the session open for another try.
   */
  async finish(userId: UserId): Promise<FinishResult> {
    const training = await this.sessions.active(userId);
    if (!training) return { kind: 'no-session' };
    const { session, scenario } = training;
    if ((await this.query('count the trainee turns', (db) => countMessages(db, session.id, 'user'))) === 0)
      return { kind: 'nothing-said', training };
    await this.query('mark /finish requested', (db) => markFinishRequested(db, session.id));

    const transcript: ChatMessage[] = (await this.query('read the transcript', (db) => sessionMessages(db, session.id)))
      .filter((m) => m.content !== '')
      .map((m) => ({ role: m.role, content: m.content }));
    const traineeTurns = transcript.filter((m) => m.role === 'user').map((m) => m.content);
    const knowledge = await lookUpKnowledge(this.deps, (source) => source.forJudge(traineeTurns));
    const spoken = await this.query('read the spoken turns', (db) => spokenTurns(db, session.id));
    const delivery = analyseDelivery(spoken.map((turn) => ({ text: turn.content, seconds: turn.seconds })));
    let evaluation;
    try {
      // The judge runs even when the person's budget ran out mid-dialogue: the dialogue is paid for already.
      evaluation = await withUsage({ purpose: 'judge', userId, sessionId: session.id }, () =>
        this.deps.judge.scoreTranscript({
          scenario,
          difficulty: session.difficulty as Difficulty,
          transcript,
          knowledge,
          ...(delivery ? { delivery } : {}),
        }),
      );
    } catch (error) {
      await this.query('clear /finish requested', (db) => clearFinishRequested(db, session.id));
      throw error;
    }
    this.sessions.forget(userId);
    const stored = await this.query('store the evaluation', (db) => storeEvaluationAndFinish(db, session.id, evaluation));
    this.sessions.rememberNone(userId);
    this.deps.onEvaluationStored?.();
    return { kind: 'finished', training, evaluation: stored };
  }

  /**
   * The evaluation of one of the user's sessions; undefined when the session is not theirs (a forged
   * id) or has no evaluation (it was abandoned, or is still running).
   */
  async past(userId: UserId, sessionId: SessionId): Promise<PastEvaluation | undefined> {
    const session = await this.query('find the session of the user', (db) => getUserSession(db, userId, sessionId));
    if (!session) return undefined;
    const evaluation = await this.query('read the evaluation', (db) => getEvaluation(db, session.id));
    if (!evaluation) return undefined;
    return { session, scenario: this.deps.scenarios.find(session.scenarioKey), evaluation };
  }

  /** The trainee has seen the evaluation. */
  async markDelivered(sessionId: TrainingSession['id']): Promise<void> {
    await this.query('mark the evaluation delivered', (db) => markEvaluationDelivered(db, sessionId));
  }
}
