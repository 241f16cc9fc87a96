import type { AccessService } from '../services/access.js';
import type { HintService } from '../services/hints.js';
import type { ScenarioCatalog } from '../services/scenarios.js';
import type { TeamService } from '../services/team.js';
import type { TrainingService } from '../services/training.js';

/** The domain services handlers reach through `ctx.services`. */
export interface BotServices {
  readonly access: AccessService;
  readonly scenarios: ScenarioCatalog;
  readonly training: TrainingService;
  readonly team: TeamService;
  /** Absent when the knowledge base is off. */
  readonly hints: HintService | undefined;
}
