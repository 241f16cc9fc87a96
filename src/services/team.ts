import type { Database } from '../db/client.js';
import type { UserId } from '../db/ids.js';
import { createInvite, type Invite } from '../db/queries/invites.js';
import {
  teamResults,
  userScoreStats,
  userScoreStatsByScenario,
  type ScoreStats,
  type TraineeResults,
} from '../db/queries/stats.js';
import type { UserRole } from '../db/queries/users.js';
import { resilientQueries } from '../db/retry.js';
import type { Logger } from '../logger.js';

/** Progress of trainees and the team, and invites: what managers work with. */
export interface TeamService {
  userStats(userId: UserId): Promise<ScoreStats & { byScenario: Array<ScoreStats & { scenarioKey: string }> }>;
  teamResults(): Promise<TraineeResults[]>;
  createInvite(input: { createdBy: UserId; role: UserRole; maxUses: number; days: number }): Promise<Invite>;
}

export function createTeamService(db: Database, logger: Logger): TeamService {
  const query = resilientQueries(db, logger);
  return {
    async userStats(userId) {
      const [overall, byScenario] = await Promise.all([
        query('read the trainee stats', (db) => userScoreStats(db, userId)),
        query('read the trainee stats by scenario', (db) => userScoreStatsByScenario(db, userId)),
      ]);
      return { ...overall, byScenario };
    },
    teamResults: () => query('read the team results', (db) => teamResults(db)),
    // Not retried: an invite created on an attempt whose answer was lost would be a second invite.
    createInvite: ({ createdBy, role, maxUses, days }) =>
      createInvite(db, { createdBy, role, maxUses, expiresAt: new Date(Date.now() + days * 86_400_000) }),
  };
}
