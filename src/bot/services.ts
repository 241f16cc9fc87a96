import type { AccessService } from '../services/access.js';
import type { AssignmentService } from '../services/assignments.js';
import type { PersonErasure } from '../services/erase-person.js';
import type { HintService } from '../services/hints.js';
import type { ScenarioCatalog } from '../services/scenarios.js';
import type { TeamService } from '../services/team.js';
import type { ChartService } from '../services/charts/index.js';
import type { TextToSpeech } from '../services/text-to-speech.js';
import type { VoiceModeService } from '../services/voice-mode.js';
import type { TurnLimits } from './helpers/turn-limits.js';
import type { TrainingService } from '../services/training/index.js';

/**
 * What handlers use of the training domain. A structural slice of TrainingService (whose private
 * state would make the class itself nominal), so that handler tests can hand in a fake of just this.
 */
export type BotTraining = Pick<
  TrainingService,
  | 'start'
  | 'active'
  | 'abandon'
  | 'playTurn'
  | 'playSpokenTurn'
  | 'retrySpokenTurn'
  | 'markReplyDelivered'
  | 'finish'
  | 'markEvaluationDelivered'
  | 'pastEvaluation'
  | 'dialogueSoFar'
  | 'history'
>;

/** What handlers use of assignments: a structural slice, so that handler tests can hand in a fake. */
export type BotAssignments = Pick<
  AssignmentService,
  'programs' | 'passMarkOf' | 'parseDeadline' | 'assignable' | 'assign' | 'openFor' | 'find' | 'settle'
>;

/** The domain services handlers reach through `ctx.services`. */
export interface BotServices {
  readonly access: AccessService;
  readonly scenarios: ScenarioCatalog;
  readonly training: BotTraining;
  /** The client's voice, for trainees in voice mode. */
  readonly speech: TextToSpeech;
  /** Who hears the client (/voice, or the scenario's default). */
  readonly voiceMode: VoiceModeService;
  readonly team: TeamService;
  /** The pictures of /stats and /team (rendered in a thread of their own). */
  readonly charts: ChartService;
  /** Absent when the knowledge base is off. */
  readonly hints: HintService | undefined;
  /** Assignments, programs and certification (/assign, /tasks, the verdict under an evaluation). */
  readonly assignments: BotAssignments;
  /** Erasing a person (/erase, 152-ФЗ and GDPR). */
  readonly erase: PersonErasure;
  /** Per-user limits: the rate of turns and /finish, and the daily token budgets. */
  readonly limits: TurnLimits;
}
