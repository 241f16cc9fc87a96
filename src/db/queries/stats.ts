import { and, asc, desc, eq, sql, type SQL } from 'drizzle-orm';
import { assignments } from '../assignments-schema.js';
import type { Database } from '../client.js';
import type { SessionId, TelegramId, UserId } from '../ids.js';
import { evaluationReviews, evaluations, sessions, users, type CriterionScoreRecord } from '../schema.js';

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

/** One scored session of a trainee, for the progress picture. */
export interface ScoredSession {
  readonly sessionId: SessionId;
  readonly scenarioKey: string;
  readonly difficulty: string;
  readonly score: number;
  readonly criteria: readonly CriterionScoreRecord[];
  readonly scoredAt: Date;
}

/** A trainee's scored sessions, oldest first (the last `limit` of them). */
export async function scoredSessions(db: Database, userId: UserId, limit = 200): Promise<ScoredSession[]> {
  const rows = await db
    .select({
      sessionId: sessions.id,
      scenarioKey: sessions.scenarioKey,
      difficulty: sessions.difficulty,
      score: evaluations.totalScore,
      criteria: evaluations.criteria,
      scoredAt: evaluations.createdAt,
    })
    .from(evaluations)
    .innerJoin(sessions, eq(sessions.id, evaluations.sessionId))
    .where(eq(sessions.userId, userId))
    .orderBy(desc(evaluations.createdAt), desc(evaluations.id))
    .limit(limit);
  return rows.reverse();
}

/** Whose team a manager's view covers: the people whose manager they are, or everybody (admins). */
export type TeamScope = { readonly kind: 'manager'; readonly managerId: UserId } | { readonly kind: 'everybody' };

function inScope(scope: TeamScope): SQL | undefined {
  switch (scope.kind) {
    case 'manager':
      return eq(users.managerId, scope.managerId);
    case 'everybody':
      return undefined;
    default: {
      const unreachable: never = scope;
      throw new Error(`unknown scope ${JSON.stringify(unreachable)}`);
    }
  }
}

/** A member of a team, whether they trained or not. */
export interface TeamMember {
  readonly userId: UserId;
  readonly telegramId: TelegramId;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly username: string | null;
  /** When they last started a training; null: never. */
  readonly lastTrainingAt: Date | null;
  /** Trainings started since `since` (the week's start). */
  readonly sessionsSince: number;
  readonly scored: number;
}

/** Everybody in the scope, those who never trained too: most recently trained first, then by name. */
export async function teamMembers(db: Database, scope: TeamScope, since: Date): Promise<TeamMember[]> {
  return db
    .select({
      userId: users.id,
      telegramId: users.telegramId,
      firstName: users.firstName,
      lastName: users.lastName,
      username: users.username,
      lastTrainingAt: sql<Date | null>`max(${sessions.startedAt})`.mapWith((v: string | Date | null) =>
        v === null ? null : new Date(v),
      ),
      sessionsSince: sql<number>`(count(${sessions.id}) filter (where ${sessions.startedAt} >= ${since.toISOString()}::timestamptz))::int`,
      scored: sql<number>`count(${evaluations.id})::int`,
    })
    .from(users)
    .leftJoin(sessions, eq(sessions.userId, users.id))
    .leftJoin(evaluations, eq(evaluations.sessionId, sessions.id))
    .where(inScope(scope))
    .groupBy(users.id)
    .orderBy(sql`max(${sessions.startedAt}) desc nulls last`, asc(users.firstName), asc(users.id));
}

/** A member's average score in one scenario (every level together). */
export interface MemberScenarioAverage {
  readonly userId: UserId;
  readonly scenarioKey: string;
  readonly average: number;
  readonly count: number;
}

export async function teamScenarioAverages(db: Database, scope: TeamScope): Promise<MemberScenarioAverage[]> {
  return db
    .select({
      userId: sessions.userId,
      scenarioKey: sessions.scenarioKey,
      average: sql<number>`round(avg(${evaluations.totalScore}))::int`,
      count: sql<number>`count(*)::int`,
    })
    .from(evaluations)
    .innerJoin(sessions, eq(sessions.id, evaluations.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(inScope(scope))
    .groupBy(sessions.userId, sessions.scenarioKey);
}

/** A member's assignments (engineer D's `assignments`): passed, open and not yet due, open past the due date. */
export interface MemberAssignments {
  readonly userId: UserId;
  readonly done: number;
  readonly open: number;
  readonly overdue: number;
}

export async function teamAssignmentCounts(db: Database, scope: TeamScope, now: Date): Promise<MemberAssignments[]> {
  const at = sql`${now.toISOString()}::timestamptz`;
  return db
    .select({
      userId: assignments.userId,
      done: sql<number>`(count(*) filter (where ${assignments.status} = 'passed'))::int`,
      open: sql<number>`(count(*) filter (where ${assignments.status} = 'open' and ${assignments.dueAt} >= ${at}))::int`,
      overdue: sql<number>`(count(*) filter (where ${assignments.status} = 'open' and ${assignments.dueAt} < ${at}))::int`,
    })
    .from(assignments)
    .innerJoin(users, eq(users.id, assignments.userId))
    .where(inScope(scope))
    .groupBy(assignments.userId);
}

/** The team's average per criterion (by its title, as the trainees saw it), weakest first. */
export async function teamCriterionAverages(
  db: Database,
  scope: TeamScope,
): Promise<Array<{ criterion: string; average: number; count: number }>> {
  const criterion = sql<string>`c.value->>'title'`;
  return db
    .select({
      criterion,
      average: sql<number>`round(avg((c.value->>'score')::numeric))::int`,
      count: sql<number>`count(*)::int`,
    })
    .from(evaluations)
    .innerJoin(sessions, eq(sessions.id, evaluations.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .crossJoinLateral(sql`jsonb_array_elements(${evaluations.criteria}) as c(value)`)
    .where(and(inScope(scope), sql`jsonb_typeof(c.value->'score') = 'number'`))
    .groupBy(criterion)
    .orderBy(sql`3 desc`, criterion)
    .limit(20);
}

/** A session of a member, as the manager's list shows it: with the AI's score and the manager's. */
export interface MemberSession {
  readonly id: SessionId;
  readonly scenarioKey: string;
  readonly difficulty: string;
  readonly status: 'active' | 'finished' | 'abandoned';
  readonly startedAt: Date;
  readonly totalScore: number | null;
  readonly reviewScore: number | null;
}

export async function memberSessions(db: Database, userId: UserId, limit = 10): Promise<MemberSession[]> {
  return db
    .select({
      id: sessions.id,
      scenarioKey: sessions.scenarioKey,
      difficulty: sessions.difficulty,
      status: sessions.status,
      startedAt: sessions.startedAt,
      totalScore: evaluations.totalScore,
      reviewScore: evaluationReviews.score,
    })
    .from(sessions)
    .leftJoin(evaluations, eq(evaluations.sessionId, sessions.id))
    .leftJoin(evaluationReviews, eq(evaluationReviews.sessionId, sessions.id))
    .where(eq(sessions.userId, userId))
    .orderBy(desc(sessions.startedAt), desc(sessions.id))
    .limit(limit);
}

/** Whether a person is in the scope (their manager is the viewer, or the viewer sees everybody). */
export async function isInScope(db: Database, scope: TeamScope, userId: UserId): Promise<boolean> {
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.id, userId), inScope(scope)))
    .limit(1);
  return row !== undefined;
}

/** Since when "this week" counts: the last seven days. */
export function weekAgo(now: Date): Date {
  return new Date(now.getTime() - 7 * 86_400_000);
}
