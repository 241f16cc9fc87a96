import { desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { TelegramId, UserId } from '../ids.js';
import { evaluations, sessions, users } from '../schema.js';

export interface ScoreStats {
  readonly count: number;
  readonly average: number;
  readonly best: number;
  readonly last: number;
}

const aggregates = {
  count: sql<number>`count(${evaluations.id})::int`,
  average: sql<number>`coalesce(round(avg(${evaluations.totalScore}))::int, 0)`,
  best: sql<number>`coalesce(max(${evaluations.totalScore}), 0)::int`,
  last: sql<number>`coalesce((array_agg(${evaluations.totalScore} order by ${evaluations.createdAt} desc))[1], 0)::int`,
};

/** A trainee's scored sessions: how many, average, best and last score. */
export async function userScoreStats(db: Database, userId: UserId): Promise<ScoreStats> {
  const [row] = await db
    .select(aggregates)
    .from(evaluations)
    .innerJoin(sessions, eq(sessions.id, evaluations.sessionId))
    .where(eq(sessions.userId, userId));
  return row ?? { count: 0, average: 0, best: 0, last: 0 };
}

/** The same per scenario and difficulty: an easy attempt and a hard one are different results. */
export async function userScoreStatsByDifficulty(
  db: Database,
  userId: UserId,
): Promise<Array<ScoreStats & { scenarioKey: string; difficulty: string }>> {
  // Easy, medium, hard in this order (not alphabetically); a level no scenario has, last.
  const level = sql`array_position(array['easy', 'medium', 'hard'], ${sessions.difficulty}) nulls last`;
  return db
    .select({ scenarioKey: sessions.scenarioKey, difficulty: sessions.difficulty, ...aggregates })
    .from(evaluations)
    .innerJoin(sessions, eq(sessions.id, evaluations.sessionId))
    .where(eq(sessions.userId, userId))
    .groupBy(sessions.scenarioKey, sessions.difficulty)
    .orderBy(sessions.scenarioKey, level, sessions.difficulty);
}

export interface TraineeResults extends ScoreStats {
  readonly userId: UserId;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly username: string | null;
  readonly telegramId: TelegramId;
}

/** Every user with at least one scored session, most recently active first. */
export async function teamResults(db: Database, limit = 50): Promise<TraineeResults[]> {
  return db
    .select({
      userId: users.id,
      firstName: users.firstName,
      lastName: users.lastName,
      username: users.username,
      telegramId: users.telegramId,
      ...aggregates,
    })
    .from(evaluations)
    .innerJoin(sessions, eq(sessions.id, evaluations.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .groupBy(users.id)
    .orderBy(desc(sql`max(${evaluations.createdAt})`))
    .limit(limit);
}
