import type { BotServices } from '../../src/bot/services.js';
import type { Assignment } from '../../src/db/queries/assignments.js';
import type { User } from '../../src/db/queries/users.js';
import { AssignmentService, type AssignRequest, type AssignResult, type SessionVerdict } from '../../src/services/assignments.js';
import { programCatalog } from '../../src/services/programs.js';
import { silentLogger } from '../support/database.js';
import { scenarioCatalog } from './fakes.js';

/**
 * Assignments for handler tests: deadlines read by the real service (they touch no database), the
 * rest scripted and recorded.
 */
export class FakeAssignments implements NonNullable<BotServices['assignments']> {
  readonly programs = programCatalog([
    { key: 'onboarding', title: 'Онбординг', items: [{ scenario: 'cold-call', difficulty: 'easy' }], renewalDays: 14 },
  ]);
  readonly assignCalls: AssignRequest[] = [];
  people: User[] = [];
  open: Assignment[] = [];
  verdict: SessionVerdict = { kind: 'practice' };
  assignResult: (request: AssignRequest) => Promise<AssignResult> = () =>
    Promise.resolve({ assigned: this.people.map((user) => ({ user, count: 1, inTraining: false })), alreadyAssigned: [] });
  private readonly real: AssignmentService;

  constructor(now: () => Date = () => new Date('2026-12-02T09:00:00Z')) {
    this.real = new AssignmentService({
      db: undefined as never,
      scenarios: scenarioCatalog(),
      programs: this.programs,
      config: {
        defaultPassMark: 80,
        reminderBeforeHours: 24,
        quietHours: { start: 21, end: 9 },
        digestWeekday: 1,
        digestHour: 9,
        timeZone: 'Europe/Moscow',
      },
      logger: silentLogger,
      now,
    });
  }

  passMarkOf = () => 80;
  parseDeadline = (text: string) => this.real.parseDeadline(text);
  assignable = () => Promise.resolve(this.people);
  assign = (request: AssignRequest) => {
    this.assignCalls.push(request);
    return this.assignResult(request);
  };
  openFor = () => Promise.resolve(this.open);
  find = (id: number) => Promise.resolve(this.open.find((a) => a.id === id));
  settle = () => Promise.resolve(this.verdict);
}

export function assignment(fields: Partial<Assignment> & Pick<Assignment, 'id' | 'userId' | 'scenarioKey'>): Assignment {
  return {
    difficulty: 'medium',
    passMark: 80,
    dueAt: new Date('2026-12-05T15:00:00Z'),
    assignedBy: null,
    programKey: null,
    cycle: 1,
    status: 'open',
    passedSessionId: null,
    passedAt: null,
    createdAt: new Date('2026-12-01T09:00:00Z'),
    ...fields,
  };
}
