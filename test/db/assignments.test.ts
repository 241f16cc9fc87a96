import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certifications, notifications } from '../../src/db/assignments-schema.js';
import { asTelegramId, type UserId } from '../../src/db/ids.js';
import { storeEvaluationAndFinish } from '../../src/db/queries/evaluations.js';
import { startSession } from '../../src/db/queries/sessions.js';
import { getOrCreateUser, placeInTeam, setUserRole } from '../../src/db/queries/users.js';
import { AssignmentService, DeadlineError, NotInTeamError } from '../../src/services/assignments.js';
import { programCatalog } from '../../src/services/programs.js';
import { assignmentsTabRows, certificationsTabRows } from '../../src/services/sheets/assignments-tab.js';
import { loadScenarios, type ScenarioCatalog } from '../../src/services/scenarios.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let scenarios: ScenarioCatalog;
beforeAll(async () => {
  database = await createTestDatabase();
  scenarios = await loadScenarios('scenarios');
});
afterAll(async () => {
  await database.drop();
});

const onboarding = {
  key: 'onboarding',
  title: 'Онбординг',
  items: [
    { scenario: 'cold-call', difficulty: 'easy' as const },
    { scenario: 'upsell', difficulty: 'medium' as const, passMark: 70 },
  ],
  validDays: 365,
  renewalDays: 14,
};

// Wednesday 2 December 2026, 12:00 in Moscow.
const now = new Date('2026-12-02T09:00:00Z');

function service(clock: () => Date = () => now) {
  return new AssignmentService({
    db: database.db,
    scenarios,
    programs: programCatalog([onboarding]),
    config: {
      defaultPassMark: 80,
      reminderBeforeHours: 24,
      quietHours: { start: 21, end: 9 },
      digestWeekday: 1,
      digestHour: 9,
      timeZone: 'Europe/Moscow',
    },
    logger: silentLogger,
    now: clock,
  });
}

let nextTelegramId = 7_100_000_000;
async function person(name: string, managerId?: UserId) {
  const telegramId = asTelegramId(nextTelegramId++);
  const user = await getOrCreateUser(database.db, { telegramId, firstName: name });
  return managerId === undefined ? user : placeInTeam(database.db, telegramId, managerId);
}

async function team() {
  const manager = await person('Мария');
  await setUserRole(database.db, manager.id, 'manager');
  const ivan = await person('Иван', manager.id);
  const olga = await person('Ольга', manager.id);
  return { manager: { ...manager, role: 'manager' as const }, ivan, olga };
}

const evaluation = (score: number) => ({
  totalScore: score,
  criteria: [{ key: 'contact', title: 'Контакт', weight: 100, score, evidence: '', comment: '' }],
  strengths: [],
  mistakes: [],
  recommendations: [],
  summary: '',
  model: 'judge',
});

async function attempt(userId: UserId, scenarioKey: string, difficulty: string, score: number) {
  const session = await startSession(database.db, userId, scenarioKey, difficulty);
  await storeEvaluationAndFinish(database.db, session.id, evaluation(score));
  return session.id;
}

describe('deadlines', () => {
  it('reads days, a day and month, and a full date, at 18:00 Moscow time; refuses the past and nonsense', () => {
    const assignments = service();
    expect(assignments.parseDeadline('3').toISOString()).toBe('2026-12-05T15:00:00.000Z');
    expect(assignments.parseDeadline('15.12').toISOString()).toBe('2026-12-15T15:00:00.000Z');
    expect(assignments.parseDeadline('15.01').toISOString()).toBe('2027-01-15T15:00:00.000Z');
    expect(assignments.parseDeadline('15.12.2026').toISOString()).toBe('2026-12-15T15:00:00.000Z');
    expect(assignments.parseDeadline('0').toISOString()).toBe('2026-12-02T15:00:00.000Z');
    expect(() => assignments.parseDeadline('01.12.2026')).toThrow(DeadlineError);
    expect(() => assignments.parseDeadline('31.02')).toThrow(DeadlineError);
    expect(() => assignments.parseDeadline('завтра')).toThrow(DeadlineError);
  });
});

describe('assigning', () => {
  it('assigns to the whole team, refuses someone outside it and a deadline in the past', async () => {
    const { manager, ivan, olga } = await team();
    const stranger = await person('Чужой');
    const assignments = service();
    const work = { kind: 'scenario' as const, scenarioKey: 'cold-call', difficulty: 'medium' as const, passMark: 80 };
    const dueAt = assignments.parseDeadline('3');
    const result = await assignments.assign({ assigner: manager, work, dueAt, to: 'team' });
    expect(result.assigned.map((row) => row.user.id).sort()).toEqual([ivan.id, olga.id].sort());
    await expect(assignments.assign({ assigner: manager, work, dueAt, to: stranger.id })).rejects.toBeInstanceOf(NotInTeamError);
    await expect(
      assignments.assign({ assigner: manager, work, dueAt: new Date(now.getTime() - 1), to: ivan.id }),
    ).rejects.toBeInstanceOf(DeadlineError);
    expect((await assignments.openFor(ivan.id)).map((a) => a.scenarioKey)).toEqual(['cold-call']);
  });

  it('says who is in a training right now, and still assigns to them', async () => {
    const { manager, ivan } = await team();
    await startSession(database.db, ivan.id, 'upsell', 'easy');
    const result = await service().assign({
      assigner: manager,
      work: { kind: 'scenario', scenarioKey: 'cold-call', difficulty: 'easy', passMark: 80 },
      dueAt: new Date(now.getTime() + 3 * 86_400_000),
      to: ivan.id,
    });
    expect(result.assigned).toEqual([expect.objectContaining({ inTraining: true, count: 1 })]);
  });

  it('schedules the notice, the reminder and both overdue notices once each, out of quiet hours', async () => {
    const { manager, ivan } = await team();
    const assignments = service();
    await assignments.assign({
      assigner: manager,
      work: { kind: 'scenario', scenarioKey: 'cold-call', difficulty: 'easy', passMark: 80 },
      // 23:30 Moscow on 5 December: quiet hours.
      dueAt: new Date('2026-12-05T20:30:00Z'),
      to: ivan.id,
    });
    const [assignment] = await assignments.openFor(ivan.id);
    const mine = await database.db.select().from(notifications).where(eq(notifications.assignmentId, assignment!.id));
    const byKind = Object.fromEntries(mine.map((row) => [row.kind, row.dueAt.toISOString()]));
    expect(byKind).toEqual({
      assigned: now.toISOString(),
      // 23:30 the day before, moved to 9:00 in the morning.
      reminder: '2026-12-05T06:00:00.000Z',
      overdue: '2026-12-06T06:00:00.000Z',
      'manager-overdue': '2026-12-06T06:00:00.000Z',
    });
  });
});

describe('attempts and certification', () => {
  it('counts an attempt at the difficulty or harder, marks practice, passes at the pass mark, certifies once', async () => {
    const { manager, ivan } = await team();
    const assignments = service();
    const dueAt = new Date(now.getTime() + 7 * 86_400_000);
    const assigned = await assignments.assign({
      assigner: manager,
      work: { kind: 'program', programKey: 'onboarding' },
      dueAt,
      to: ivan.id,
    });
    expect(assigned.assigned[0]?.count).toBe(2);
    // The same program again while it is in progress: nothing new.
    const again = await assignments.assign({
      assigner: manager,
      work: { kind: 'program', programKey: 'onboarding' },
      dueAt,
      to: ivan.id,
    });
    expect(again.alreadyAssigned.map((user) => user.id)).toEqual([ivan.id]);

    expect(await assignments.settle(await attempt(ivan.id, 'needs-discovery', 'hard', 95))).toEqual({ kind: 'practice' });
    // Easier than assigned: practice.
    expect(await assignments.settle(await attempt(ivan.id, 'upsell', 'easy', 95))).toEqual({ kind: 'practice' });
    expect(await assignments.settle(await attempt(ivan.id, 'upsell', 'hard', 60))).toEqual({ kind: 'failed', passMark: 70 });
    const upsell = await attempt(ivan.id, 'upsell', 'medium', 70);
    expect(await assignments.settle(upsell)).toEqual({ kind: 'passed', passMark: 70 });
    // Shown again after a restart: the same verdict, nothing counted twice.
    expect(await assignments.settle(upsell)).toEqual({ kind: 'passed', passMark: 70 });
    expect(await database.db.select().from(certifications).where(eq(certifications.userId, ivan.id))).toEqual([]);

    const coldCall = await attempt(ivan.id, 'cold-call', 'medium', 85);
    expect(await assignments.settle(coldCall)).toEqual({ kind: 'passed', passMark: 80 });
    expect(await assignments.settle(coldCall)).toEqual({ kind: 'passed', passMark: 80 });
    const certified = await database.db.select().from(certifications).where(eq(certifications.userId, ivan.id));
    expect(certified).toEqual([expect.objectContaining({ programKey: 'onboarding', cycle: 1 })]);
    expect(certified[0]?.expiresAt?.toISOString()).toBe(new Date(now.getTime() + 365 * 86_400_000).toISOString());
    const notices = await database.db.select().from(notifications).where(eq(notifications.kind, 'certified'));
    expect(notices.map((n) => n.recipientId).sort()).toEqual([ivan.id, manager.id].sort());
    expect(await assignments.openFor(ivan.id)).toEqual([]);

    // A year later the certification expires: the program is assigned again, once.
    const later = new Date(now.getTime() + 366 * 86_400_000);
    const renewing = service(() => later);
    await renewing.renewExpired(later);
    await renewing.renewExpired(later);
    const open = await renewing.openFor(ivan.id);
    expect(open.map((a) => [a.scenarioKey, a.cycle]).sort()).toEqual([
      ['cold-call', 2],
      ['upsell', 2],
    ]);
  });

  it('a digest names who trained, who passed, who has not started and the weakest criterion', async () => {
    const { manager, ivan, olga } = await team();
    const assignments = service();
    const dueAt = new Date(now.getTime() + 7 * 86_400_000);
    const work = { kind: 'scenario' as const, scenarioKey: 'price-objection', difficulty: 'easy' as const, passMark: 80 };
    await assignments.assign({ assigner: manager, work, dueAt, to: 'team' });
    await assignments.settle(await attempt(ivan.id, 'price-objection', 'easy', 90));
    await assignments.scheduleDigests(now);
    await assignments.scheduleDigests(now);
    const digests = (await database.db.select().from(notifications).where(eq(notifications.kind, 'digest'))).filter(
      (row) => row.recipientId === manager.id,
    );
    // Monday 7 December, 9:00 Moscow; scheduled once.
    expect(digests.map((row) => row.dueAt.toISOString())).toEqual(['2026-12-07T06:00:00.000Z']);
    const content = await service(() => new Date()).noticeContent(digests[0]!);
    if (content.kind !== 'digest') throw new Error(content.kind);
    expect(content.digest.trained).toEqual([{ userId: ivan.id, sessions: 1 }]);
    expect(content.digest.passed).toEqual([{ userId: ivan.id, scenarioKey: 'price-objection' }]);
    expect(content.digest.notStarted.map((row) => row.userId)).toEqual([olga.id]);
    expect(content.digest.weakest).toEqual({ title: 'Контакт', average: 90 });
  });
});

describe('the sheet', () => {
  it('«Задания» mirrors each assignment and its status; «Сертификаты» has a row per certification', async () => {
    const rows = await assignmentsTabRows(
      database.db,
      { scenarios, programs: programCatalog([onboarding]) },
      'Europe/Moscow',
      now,
    );
    const statuses = new Set(rows.map((row) => row[6]));
    expect(statuses).toEqual(new Set(['зачтено', 'в работе']));
    expect(rows.find((row) => row[8] === 'Онбординг' && row[6] === 'зачтено')?.slice(2, 5)).toEqual([
      'Холодный звонок',
      'Лёгкий',
      80,
    ]);
    const certified = await certificationsTabRows(database.db, programCatalog([onboarding]), 'Europe/Moscow');
    expect(certified.map((row) => [row[0], row[2], row[3]])).toEqual([['Иван', 'Онбординг', 1]]);
  });
});
