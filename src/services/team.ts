import type { Database } from '../db/client.js';
import type { UserId } from '../db/ids.js';
import { createInvite, type Invite } from '../db/queries/invites.js';
import {
  teamResults,
  userScoreStats,
  userScoreStatsByDifficulty,
  type ScoreStats,
  type TraineeResults,
} from '../db/queries/stats.js';
import type { UserRole } from '../db/queries/users.js';
import { resilientQueries } from '../db/retry.js';
import type { Logger } from '../logger.js';

/** One scenario at one difficulty, as a trainee played it. */
export type DifficultyStats = ScoreStats & { readonly scenarioKey: string; readonly difficulty: string };

/** A trainee's progress: over all scored sessions, and per scenario and difficulty. */
export type TraineeStats = ScoreStats & { readonly byDifficulty: readonly DifficultyStats[] };

/** Progress of trainees and the team, and invites: what managers work with. */
export interface TeamService {
  /** A trainee's scored sessions: overall, and per scenario and difficulty (an easy and a hard attempt apart). */
  userStats(userId: UserId): Promise<TraineeStats>;
  teamResults(): Promise<TraineeResults[]>;
  createInvite(input: { createdBy: UserId; role: UserRole; maxUses: number; days: number }): Promise<Invite>;
}

export function createTeamService(db: Database, logger: Logger): TeamService {
  const query = resilientQueries(db, logger);
  return {
    async userStats(userId) {
      const [overall, byDifficulty] = await Promise.all([
        query('read the trainee stats', (db) => userScoreStats(db, userId)),
        query('read the trainee stats by difficulty', (db) => userScoreStatsByDifficulty(db, userId)),
      ]);
      return { ...overall, byDifficulty };
    },
    teamResults: () => query('read the team results', (db) => teamResults(db)),
    // Not retried: an invite created on an attempt whose answer was lost would be a second invite.
    createInvite: ({ createdBy, role, maxUses, days }) =>
      createInvite(db, { createdBy, role, maxUses, expiresAt: new Date(Date.now() + days * 86_400_000) }),
  };
}
