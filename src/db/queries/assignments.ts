import { and, asc, eq, gte, inArray, isNull, lte, ne, sql } from 'drizzle-orm';
import { assignments, certifications } from '../assignments-schema.js';
import type { Database } from '../client.js';
import type { SessionId, UserId } from '../ids.js';
import { evaluations, sessions, users } from '../schema.js';

export type Assignment = typeof assignments.$inferSelect;
export type NewAssignment = Pick<
  typeof assignments.$inferInsert,
  'userId' | 'scenarioKey' | 'difficulty' | 'passMark' | 'dueAt' | 'assignedBy' | 'programKey' | 'cycle'
>;
export type Certification = typeof certifications.$inferSelect;

/** Stores assignments; a program's scenario already assigned in the same cycle is skipped (not returned). */
export async function insertAssignments(db: Database, rows: readonly NewAssignment[]): Promise<Assignment[]> {
  if (rows.length === 0) return [];
  return db
    .insert(assignments)
    .values([...rows])
    .onConflictDoNothing()
    .returning();
}

export async function getAssignment(db: Database, id: number): Promise<Assignment | undefined> {
  const [row] = await db.select().from(assignments).where(eq(assignments.id, id)).limit(1);
  return row;
}

/** A person's open assignments, the nearest deadline first. */
export async function openAssignments(db: Database, userId: UserId): Promise<Assignment[]> {
  return db
    .select()
    .from(assignments)
    .where(and(eq(assignments.userId, userId), eq(assignments.status, 'open')))
    .orderBy(asc(assignments.dueAt), asc(assignments.id));
}

/** The program's last cycle for a person (0: never assigned). */
export async function lastProgramCycle(db: Database, userId: UserId, programKey: string): Promise<number> {
  const [row] = await db
    .select({ cycle: sql<number>`coalesce(max(${assignments.cycle}), 0)::int` })
    .from(assignments)
    .where(and(eq(assignments.userId, userId), eq(assignments.programKey, programKey)));
  return row?.cycle ?? 0;
}

/** Whether the program's cycle is open for the person (some of its assignments not yet passed). */
export async function programCycleOpen(db: Database, userId: UserId, programKey: string, cycle: number): Promise<boolean> {
  const [row] = await db
    .select({ id: assignments.id })
    .from(assignments)
    .where(
      and(
        eq(assignments.userId, userId),
        eq(assignments.programKey, programKey),
        eq(assignments.cycle, cycle),
        eq(assignments.status, 'open'),
      ),
    )
    .limit(1);
  return row !== undefined;
}

export interface SessionOutcome {
  readonly assignment: Assignment;
  /** This session passed it now (false: it had passed it before, or it did not score enough). */
  readonly passedNow: boolean;
}

/**
 * What a finished session did to its person's assignments, in one transaction: the assignment it
 * counts for (same scenario, at the assigned difficulty or harder, started after the assignment was
 * made, open or already passed by this very session), marked passed when the score reaches the pass
 * mark. Undefined: the session counts toward nothing (practice). Safe to call again for the same session.
 */
export async function settleSession(
  db: Database,
  sessionId: SessionId,
  difficultyRank: (difficulty: string) => number,
): Promise<SessionOutcome | undefined> {
  return db.transaction(async (tx) => {
    const [session] = await tx
      .select({
        id: sessions.id,
        userId: sessions.userId,
        scenarioKey: sessions.scenarioKey,
        difficulty: sessions.difficulty,
        startedAt: sessions.startedAt,
        score: evaluations.totalScore,
      })
      .from(sessions)
      .innerJoin(evaluations, eq(evaluations.sessionId, sessions.id))
      .where(eq(sessions.id, sessionId))
      .limit(1);
    if (!session) return undefined;
    const candidates = await tx
      .select()
      .from(assignments)
      .where(
        and(
          eq(assignments.userId, session.userId),
          eq(assignments.scenarioKey, session.scenarioKey),
          lte(assignments.createdAt, session.startedAt),
          sql`(${assignments.status} = 'open' or ${assignments.passedSessionId} = ${sessionId})`,
        ),
      )
      .orderBy(asc(assignments.dueAt), asc(assignments.id))
      .for('update');
    const rank = difficultyRank(session.difficulty);
    const counting = candidates.filter((a) => difficultyRank(a.difficulty) <= rank);
    const already = counting.find((a) => a.passedSessionId === sessionId);
    if (already) return { assignment: already, passedNow: false };
    const assignment = counting[0];
    if (!assignment) return undefined;
    if (session.score < assignment.passMark) return { assignment, passedNow: false };
    const [passed] = await tx
      .update(assignments)
      .set({ status: 'passed', passedSessionId: sessionId, passedAt: sql`now()` })
      .where(and(eq(assignments.id, assignment.id), eq(assignments.status, 'open')))
      .returning();
    return { assignment: passed ?? assignment, passedNow: passed !== undefined };
  });
}

/** Records the certification once; undefined when it was already recorded. */
export async function insertCertification(
  db: Database,
  row: { userId: UserId; programKey: string; cycle: number; expiresAt: Date | null },
): Promise<Certification | undefined> {
  const [created] = await db.insert(certifications).values(row).onConflictDoNothing().returning();
  return created;
}

export async function getCertification(
  db: Database,
  userId: UserId,
  programKey: string,
  cycle: number,
): Promise<Certification | undefined> {
  const [row] = await db
    .select()
    .from(certifications)
    .where(and(eq(certifications.userId, userId), eq(certifications.programKey, programKey), eq(certifications.cycle, cycle)))
    .limit(1);
  return row;
}

/** Certifications past their expiry whose next cycle is not assigned yet, claimed (marked renewed) in the same statement. */
export async function claimExpiredCertifications(db: Database, now: Date): Promise<Certification[]> {
  return db
    .update(certifications)
    .set({ renewedAt: now })
    .where(and(isNull(certifications.renewedAt), lte(certifications.expiresAt, now)))
    .returning();
}

/** Who assigned the person's last assignment of a program (for a renewal); null when unknown. */
export async function programAssigner(db: Database, userId: UserId, programKey: string): Promise<UserId | null> {
  const [row] = await db
    .select({ assignedBy: assignments.assignedBy })
    .from(assignments)
    .where(and(eq(assignments.userId, userId), eq(assignments.programKey, programKey)))
    .orderBy(sql`${assignments.cycle} desc`)
    .limit(1);
  return row?.assignedBy ?? null;
}

/** A manager's team: the people whose manager_id is theirs (an admin's choice: everyone else). */
export async function assignablePeople(db: Database, viewer: { id: UserId; role: string }) {
  const where = viewer.role === 'admin' ? ne(users.id, viewer.id) : eq(users.managerId, viewer.id);
  return db.select().from(users).where(where).orderBy(asc(users.firstName), asc(users.id));
}

/** The people among `userIds` with a training running right now. */
export async function withActiveSession(db: Database, userIds: readonly UserId[]): Promise<Set<UserId>> {
  if (userIds.length === 0) return new Set();
  const rows = await db
    .select({ userId: sessions.userId })
    .from(sessions)
    .where(and(inArray(sessions.userId, [...userIds]), eq(sessions.status, 'active')));
  return new Set(rows.map((row) => row.userId));
}

export interface WeekDigest {
  readonly trained: readonly { userId: UserId; sessions: number }[];
  readonly passed: readonly { userId: UserId; scenarioKey: string }[];
  /** Open assignments with no attempt since they were made. */
  readonly notStarted: readonly { userId: UserId; scenarioKey: string; dueAt: Date }[];
  /** The criterion with the lowest average over the team's evaluations of the week. */
  readonly weakest: { title: string; average: number } | undefined;
}

/** A manager's week: who trained, who passed, who has not started, the team's weakest criterion. */
export async function weekDigest(db: Database, managerId: UserId, since: Date): Promise<WeekDigest> {
  const team = db.select({ id: users.id }).from(users).where(eq(users.managerId, managerId));
  const trained = await db
    .select({ userId: sessions.userId, sessions: sql<number>`count(*)::int` })
    .from(sessions)
    .where(and(inArray(sessions.userId, team), gte(sessions.startedAt, since)))
    .groupBy(sessions.userId);
  const passed = await db
    .select({ userId: assignments.userId, scenarioKey: assignments.scenarioKey })
    .from(assignments)
    .where(and(inArray(assignments.userId, team), eq(assignments.status, 'passed'), gte(assignments.passedAt, since)));
  const notStarted = await db
    .select({ userId: assignments.userId, scenarioKey: assignments.scenarioKey, dueAt: assignments.dueAt })
    .from(assignments)
    .where(
      and(
        inArray(assignments.userId, team),
        eq(assignments.status, 'open'),
        sql`not exists (select 1 from ${sessions} s where s.user_id = ${assignments.userId}
          and s.scenario_key = ${assignments.scenarioKey} and s.started_at >= ${assignments.createdAt})`,
      ),
    )
    .orderBy(asc(assignments.dueAt));
  const weakestRows = await db.execute<{ title: string; average: number }>(sql`
    select c->>'title' as title, round(avg((c->>'score')::numeric))::int as average
    from ${evaluations} e join ${sessions} s on s.id = e.session_id,
         jsonb_array_elements(e.criteria) c
    where s.user_id in (select id from ${users} where manager_id = ${managerId}) and e.created_at >= ${since.toISOString()}::timestamptz
    group by c->>'title' order by average asc, title asc limit 1`);
  const weakest = [...weakestRows][0];
  return { trained, passed, notStarted, weakest };
}

/** Managers (and admins) with at least one person in their team: who gets a weekly digest. */
export async function managersWithTeams(db: Database): Promise<UserId[]> {
  const rows = await db.execute<{ id: UserId }>(
    sql`select distinct m.id from ${users} m join ${users} t on t.manager_id = m.id where m.role in ('manager', 'admin')`,
  );
  return [...rows].map((row) => row.id);
}
