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

/** Progress of trainees and the team, and invites: what managers work with. */
export interface TeamService {
  userStats(userId: UserId): Promise<ScoreStats & { byScenario: Array<ScoreStats & { scenarioKey: string }> }>;
  teamResults(): Promise<TraineeResults[]>;
  createInvite(input: { createdBy: UserId; role: UserRole; maxUses: number; days: number }): Promise<Invite>;
}

export function createTeamService(db: Database): TeamService {
  return {
    async userStats(userId) {
      const [overall, byScenario] = await Promise.all([userScoreStats(db, userId), userScoreStatsByScenario(db, userId)]);
      return { ...overall, byScenario };
    },
    teamResults: () => teamResults(db),
    createInvite: ({ createdBy, role, maxUses, days }) =>
      createInvite(db, { createdBy, role, maxUses, expiresAt: new Date(Date.now() + days * 86_400_000) }),
  };
}
