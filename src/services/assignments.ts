import type { Database } from '../db/client.js';
import type { SessionId, UserId } from '../db/ids.js';
import {
  assignablePeople,
  claimExpiredCertifications,
  getAssignment,
  getCertification,
  insertAssignments,
  insertCertification,
  lastProgramCycle,
  managersWithTeams,
  openAssignments,
  programAssigner,
  programCycleOpen,
  settleSession,
  weekDigest,
  withActiveSession,
  type Assignment,
  type Certification,
  type NewAssignment,
  type WeekDigest,
} from '../db/queries/assignments.js';
import { scheduleNotifications, type NewNotification, type Notification } from '../db/queries/notifications.js';
import { getUser, type User } from '../db/queries/users.js';
import type { Logger } from '../logger.js';
import { localTime, outsideQuietHours, zonedInstant, type QuietHours } from './notifications.js';
import type { Program, ProgramCatalog } from './programs.js';
import { difficultyLevels, type Difficulty, type ScenarioCatalog } from './scenarios.js';

export interface AssignmentsConfig {
  readonly defaultPassMark: number;
  readonly reminderBeforeHours: number;
  readonly quietHours: QuietHours;
  readonly digestWeekday: number;
  readonly digestHour: number;
  readonly timeZone: string;
}

/** A deadline the manager typed that cannot be used. */
export class DeadlineError extends Error {
  constructor(readonly reason: 'format' | 'past') {
    super(`deadline: ${reason}`);
    this.name = 'DeadlineError';
  }
}

/** A manager assigning to someone outside their team. */
export class NotInTeamError extends Error {
  constructor(readonly userId: UserId) {
    super(`user ${userId} is not in the assigner's team`);
    this.name = 'NotInTeamError';
  }
}

/** What is assigned: one scenario at a difficulty and pass mark, or a whole program. */
export type AssignedWork =
  | { readonly kind: 'scenario'; readonly scenarioKey: string; readonly difficulty: Difficulty; readonly passMark: number }
  | { readonly kind: 'program'; readonly programKey: string };

export interface AssignRequest {
  readonly assigner: Pick<User, 'id' | 'role'>;
  readonly work: AssignedWork;
  readonly dueAt: Date;
  /** One person, or everyone the assigner may assign to. */
  readonly to: UserId | 'team';
}

export interface AssignResult {
  readonly assigned: readonly { readonly user: User; readonly count: number; readonly inTraining: boolean }[];
  /** People who already had it (a program's cycle in progress): nothing new for them. */
  readonly alreadyAssigned: readonly User[];
}

/** How an evaluated session counted: it passed or failed its assignment, or it was practice. */
export type SessionVerdict =
  | { readonly kind: 'passed'; readonly passMark: number }
  | { readonly kind: 'failed'; readonly passMark: number }
  | { readonly kind: 'practice' };

/** What a due notice needs to be written; 'obsolete' when there is nothing left to say. */
export type NoticeContent =
  | { readonly kind: 'obsolete' }
  | {
      readonly kind: 'assigned' | 'reminder' | 'overdue';
      readonly recipient: User;
      readonly assignment: Assignment;
      readonly inTraining: boolean;
    }
  | { readonly kind: 'manager-overdue'; readonly recipient: User; readonly assignment: Assignment; readonly trainee: User }
  | {
      readonly kind: 'certified';
      readonly recipient: User;
      readonly program: Program | undefined;
      readonly programKey: string;
      readonly certification: Certification;
      /** Who was certified (the recipient, or the manager's trainee). */
      readonly trainee: User | undefined;
    }
  | {
      readonly kind: 'digest';
      readonly recipient: User;
      readonly digest: WeekDigest;
      readonly people: ReadonlyMap<UserId, User>;
    };

const rank = (difficulty: string) => difficultyLevels.indexOf(difficulty as Difficulty);
const dayMs = 24 * 60 * 60_000;
/** A deadline is a day; its hour, in the team's zone: the end of a working day. */
const deadlineHour = 18;

export interface AssignmentServiceDeps {
  readonly db: Database;
  readonly scenarios: ScenarioCatalog;
  readonly programs: ProgramCatalog;
  readonly config: AssignmentsConfig;
  readonly logger: Logger;
  /** A notice was scheduled: the worker looks at once. */
  readonly onScheduled?: () => void;
  /** Assignments changed: the sheet's «Задания» is written again. */
  readonly onSheetDataChanged?: () => void;
  readonly now?: () => Date;
}

export class AssignmentService {
  private readonly now: () => Date;
  /** Called when a notice was scheduled; main.ts points it at the worker (built after the bot). */
  onScheduled: () => void;
  constructor(private readonly deps: AssignmentServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.onScheduled = deps.onScheduled ?? (() => undefined);
  }

  get programs(): ProgramCatalog {
    return this.deps.programs;
  }

  /** The pass mark of a scenario assigned on its own: its passMark, or DEFAULT_PASS_MARK. */
  passMarkOf(scenarioKey: string): number {
    return this.deps.scenarios.find(scenarioKey)?.passMark ?? this.deps.config.defaultPassMark;
  }

  /** «3» (days from today), «15.12» (the next 15 December) or «15.12.2026», at 18:00 in the team's zone. */
  parseDeadline(text: string): Date {
    const { timeZone } = this.deps.config;
    const today = localTime(this.now(), timeZone);
    const input = text.trim();
    let due: Date;
    if (/^\d{1,3}$/.test(input)) {
      due = zonedInstant(timeZone, today.year, today.month, today.day + Number(input), deadlineHour);
    } else {
      const match = /^(\d{1,2})\.(\d{1,2})(?:\.(\d{2}|\d{4}))?$/.exec(input);
      if (!match) throw new DeadlineError('format');
      const [day, month] = [Number(match[1]), Number(match[2])];
      const year = match[3] === undefined ? today.year : Number(match[3].length === 2 ? `20${match[3]}` : match[3]);
      const valid = new Date(Date.UTC(year, month - 1, day));
      if (valid.getUTCMonth() !== month - 1 || valid.getUTCDate() !== day) throw new DeadlineError('format');
      due = zonedInstant(timeZone, year, month, day, deadlineHour);
      // «15.01» typed in December is next January's.
      if (match[3] === undefined && due.getTime() <= this.now().getTime()) {
        due = zonedInstant(timeZone, year + 1, month, day, deadlineHour);
      }
    }
    if (due.getTime() <= this.now().getTime()) throw new DeadlineError('past');
    return due;
  }

  /** Whom the assigner may assign to: their team (an admin: everyone). */
  async assignable(assigner: Pick<User, 'id' | 'role'>): Promise<User[]> {
    return assignablePeople(this.deps.db, assigner);
  }

  /** Creates the assignments and schedules their notices; checks the deadline and the team first. */
  async assign(request: AssignRequest): Promise<AssignResult> {
    const { db } = this.deps;
    if (request.dueAt.getTime() <= this.now().getTime()) throw new DeadlineError('past');
    const allowed = await this.assignable(request.assigner);
    const targets = request.to === 'team' ? allowed : allowed.filter((person) => person.id === request.to);
    if (request.to !== 'team' && targets.length === 0) throw new NotInTeamError(request.to);
    const inTraining = await withActiveSession(
      db,
      targets.map((person) => person.id),
    );
    const assigned: { user: User; count: number; inTraining: boolean }[] = [];
    const alreadyAssigned: User[] = [];
    for (const person of targets) {
      const created = await this.createFor(person.id, request.assigner.id, request.work, request.dueAt);
      if (created.length === 0) alreadyAssigned.push(person);
      else assigned.push({ user: person, count: created.length, inTraining: inTraining.has(person.id) });
    }
    return { assigned, alreadyAssigned };
  }

  private async createFor(userId: UserId, assignedBy: UserId | null, work: AssignedWork, dueAt: Date): Promise<Assignment[]> {
    const { db } = this.deps;
    let rows: NewAssignment[];
    if (work.kind === 'scenario') {
      rows = [{ userId, assignedBy, dueAt, scenarioKey: work.scenarioKey, difficulty: work.difficulty, passMark: work.passMark }];
    } else {
      const program = this.deps.programs.find(work.programKey);
      if (!program) return [];
      const last = await lastProgramCycle(db, userId, program.key);
      // A cycle still open is not assigned again; a certified one starts the next cycle.
      if (last > 0 && (await programCycleOpen(db, userId, program.key, last))) return [];
      rows = program.items.map((item) => ({
        userId,
        assignedBy,
        dueAt,
        scenarioKey: item.scenario,
        difficulty: item.difficulty,
        passMark: item.passMark ?? this.passMarkOf(item.scenario),
        programKey: program.key,
        cycle: last + 1,
      }));
    }
    const created = await insertAssignments(db, rows);
    await this.schedule(created.flatMap((assignment) => this.noticesOf(assignment)));
    return created;
  }

  /** The trainee's notices of an assignment and the manager's overdue notice, each under its own key. */
  private noticesOf(assignment: Assignment): NewNotification[] {
    const { reminderBeforeHours } = this.deps.config;
    const reminderAt = new Date(assignment.dueAt.getTime() - reminderBeforeHours * 60 * 60_000);
    const base = { assignmentId: assignment.id, programKey: assignment.programKey, cycle: assignment.cycle };
    const notices: NewNotification[] = [
      { ...base, kind: 'assigned', recipientId: assignment.userId, dedupeKey: `assigned:${assignment.id}`, dueAt: this.now() },
      {
        ...base,
        kind: 'overdue',
        recipientId: assignment.userId,
        dedupeKey: `overdue:${assignment.id}`,
        dueAt: assignment.dueAt,
      },
    ];
    // A deadline closer than the reminder's lead: the assignment notice is the reminder.
    if (reminderAt.getTime() > this.now().getTime()) {
      notices.push({
        ...base,
        kind: 'reminder',
        recipientId: assignment.userId,
        dedupeKey: `reminder:${assignment.id}`,
        dueAt: reminderAt,
      });
    }
    if (assignment.assignedBy !== null) {
      notices.push({
        ...base,
        kind: 'manager-overdue',
        recipientId: assignment.assignedBy,
        dedupeKey: `manager-overdue:${assignment.id}`,
        dueAt: assignment.dueAt,
      });
    }
    return notices;
  }

  private async schedule(notices: readonly NewNotification[]): Promise<void> {
    const { quietHours, timeZone } = this.deps.config;
    const placed = notices.map((notice) => ({ ...notice, dueAt: outsideQuietHours(notice.dueAt, quietHours, timeZone) }));
    if ((await scheduleNotifications(this.deps.db, placed)) > 0) this.onScheduled();
    this.deps.onSheetDataChanged?.();
  }

  /** A person's open assignments, the nearest deadline first. */
  async openFor(userId: UserId): Promise<Assignment[]> {
    return openAssignments(this.deps.db, userId);
  }

  async find(id: number): Promise<Assignment | undefined> {
    return getAssignment(this.deps.db, id);
  }

  /**
   * How an evaluated session counts, recording a pass (and a certification, when it was a program's
   * last open assignment). Called when the evaluation is shown, again after a crash: the same answer.
   */
  async settle(sessionId: SessionId): Promise<SessionVerdict> {
    const outcome = await settleSession(this.deps.db, sessionId, rank);
    if (!outcome) return { kind: 'practice' };
    const { assignment } = outcome;
    const passed = assignment.status === 'passed' && assignment.passedSessionId === sessionId;
    if (passed && assignment.programKey !== null)
      await this.certifyIfComplete(assignment.userId, assignment.programKey, assignment.cycle);
    return passed ? { kind: 'passed', passMark: assignment.passMark } : { kind: 'failed', passMark: assignment.passMark };
  }

  private async certifyIfComplete(userId: UserId, programKey: string, cycle: number): Promise<void> {
    const { db } = this.deps;
    if (await programCycleOpen(db, userId, programKey, cycle)) return;
    const program = this.deps.programs.find(programKey);
    const expiresAt = program?.validDays ? new Date(this.now().getTime() + program.validDays * dayMs) : null;
    await insertCertification(db, { userId, programKey, cycle, expiresAt });
    // Scheduled even when the row was there already: a crash between the two must not lose the message.
    const base = { kind: 'certified' as const, programKey, cycle, assignmentId: null, dueAt: this.now() };
    const notices: NewNotification[] = [
      { ...base, recipientId: userId, dedupeKey: `certified:${userId}:${programKey}:${cycle}` },
    ];
    const assigner = await programAssigner(db, userId, programKey);
    if (assigner !== null)
      notices.push({ ...base, recipientId: assigner, dedupeKey: `certified-manager:${userId}:${programKey}:${cycle}` });
    await this.schedule(notices);
  }

  /** Everything a due notice needs to be written, read when it is sent (so it says how things are now). */
  async noticeContent(notification: Notification): Promise<NoticeContent> {
    const { db } = this.deps;
    const recipient = await getUser(db, notification.recipientId);
    if (!recipient) return { kind: 'obsolete' };
    switch (notification.kind) {
      case 'assigned':
      case 'reminder':
      case 'overdue': {
        const assignment = notification.assignmentId === null ? undefined : await getAssignment(db, notification.assignmentId);
        if (!assignment || assignment.status !== 'open') return { kind: 'obsolete' };
        const inTraining = (await withActiveSession(db, [recipient.id])).has(recipient.id);
        return { kind: notification.kind, recipient, assignment, inTraining };
      }
      case 'manager-overdue': {
        const assignment = notification.assignmentId === null ? undefined : await getAssignment(db, notification.assignmentId);
        if (!assignment || assignment.status !== 'open') return { kind: 'obsolete' };
        const trainee = await getUser(db, assignment.userId);
        return trainee ? { kind: 'manager-overdue', recipient, assignment, trainee } : { kind: 'obsolete' };
      }
      case 'certified': {
        if (notification.programKey === null || notification.cycle === null) return { kind: 'obsolete' };
        const traineeId = Number(notification.dedupeKey.split(':')[1]) as UserId;
        const certification = await getCertification(db, traineeId, notification.programKey, notification.cycle);
        if (!certification) return { kind: 'obsolete' };
        return {
          kind: 'certified',
          recipient,
          program: this.deps.programs.find(notification.programKey),
          programKey: notification.programKey,
          certification,
          trainee: await getUser(db, traineeId),
        };
      }
      case 'digest': {
        const digest = await weekDigest(db, recipient.id, new Date(this.now().getTime() - 7 * dayMs));
        const ids = new Set([...digest.trained, ...digest.passed, ...digest.notStarted].map((row) => row.userId));
        const people = new Map<UserId, User>();
        for (const id of ids) {
          const person = await getUser(db, id);
          if (person) people.set(id, person);
        }
        return { kind: 'digest', recipient, digest, people };
      }
      default: {
        const unreachable: never = notification.kind;
        throw new Error(`unknown notice ${String(unreachable)}`);
      }
    }
  }

  /** Before each round of the worker: next week's digests, and the renewal of expired certifications. */
  async housekeeping(now: Date): Promise<void> {
    await this.scheduleDigests(now);
    await this.renewExpired(now);
  }

  /** The next weekly digest of every manager with a team (keyed by its date: scheduled once). */
  async scheduleDigests(now: Date): Promise<void> {
    const { digestWeekday, digestHour, timeZone } = this.deps.config;
    const local = localTime(now, timeZone);
    let ahead = (digestWeekday - local.weekday + 7) % 7;
    let dueAt = zonedInstant(timeZone, local.year, local.month, local.day + ahead, digestHour);
    if (dueAt.getTime() <= now.getTime() - 60 * 60_000) {
      ahead += 7;
      dueAt = zonedInstant(timeZone, local.year, local.month, local.day + ahead, digestHour);
    }
    const day = localTime(dueAt, timeZone);
    const date = `${day.year}-${day.month}-${day.day}`;
    const managers = await managersWithTeams(this.deps.db);
    await this.schedule(
      managers.map((id) => ({
        kind: 'digest' as const,
        recipientId: id,
        assignmentId: null,
        programKey: null,
        cycle: null,
        dedupeKey: `digest:${id}:${date}`,
        dueAt,
      })),
    );
  }

  /** A certification past its expiry: the program is assigned again (the next cycle), once. */
  async renewExpired(now: Date): Promise<void> {
    for (const expired of await claimExpiredCertifications(this.deps.db, now)) {
      const program = this.deps.programs.find(expired.programKey);
      if (!program) continue;
      const assigner = await programAssigner(this.deps.db, expired.userId, program.key);
      const dueAt = new Date(now.getTime() + program.renewalDays * dayMs);
      await this.createFor(expired.userId, assigner, { kind: 'program', programKey: program.key }, dueAt);
      this.deps.logger.info({ userId: expired.userId, program: program.key }, 'certification expired: program assigned again');
    }
  }
}
