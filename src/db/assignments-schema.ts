import { sql } from 'drizzle-orm';
import { bigserial, index, integer, pgEnum, pgTable, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { SessionId, UserId } from './ids.js';
import { sessions, users } from './schema.js';

/** An assignment is open until an attempt at its difficulty or harder scores its pass mark. */
export const assignmentStatus = pgEnum('assignment_status', ['open', 'passed']);

/** What a durable notice tells: the trainee (assigned, reminder, overdue, certified) or the manager (overdue, digest). */
export const notificationKind = pgEnum('notification_kind', [
  'assigned',
  'reminder',
  'overdue',
  'manager-overdue',
  'certified',
  'digest',
]);

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

/**
 * A scenario a manager gave a trainee, with its difficulty, pass mark and deadline; `program_key` and
 * `cycle` when it is part of a program (a new cycle when an expired certification assigns it again).
 */
export const assignments = pgTable(
  'assignments',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' })
      .$type<UserId>(),
    scenarioKey: text('scenario_key').notNull(),
    difficulty: text('difficulty').notNull(),
    passMark: integer('pass_mark').notNull(),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    /** Null once the manager was erased, or when an expired certification assigned it again. */
    assignedBy: integer('assigned_by')
      .references(() => users.id, { onDelete: 'set null' })
      .$type<UserId>(),
    programKey: text('program_key'),
    cycle: integer('cycle').notNull().default(1),
    status: assignmentStatus('status').notNull().default('open'),
    /** The attempt that passed it; only attempts started after the assignment count. */
    passedSessionId: integer('passed_session_id')
      .references(() => sessions.id, { onDelete: 'set null' })
      .$type<SessionId>(),
    passedAt: timestamp('passed_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [
    index('assignments_user_status').on(table.userId, table.status),
    // A program's scenario once per person and cycle: assigning a program twice adds nothing.
    uniqueIndex('assignments_program_item')
      .on(table.userId, table.programKey, table.cycle, table.scenarioKey)
      .where(sql`${table.programKey} is not null`),
  ],
);

/**
 * Durable outbox of notices. `dedupe_key` is unique, so the same notice is never scheduled twice;
 * a worker claims due rows with FOR UPDATE SKIP LOCKED and a lease, so two workers never both send.
 */
export const notifications = pgTable(
  'notifications',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: notificationKind('kind').notNull(),
    recipientId: integer('recipient_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' })
      .$type<UserId>(),
    assignmentId: integer('assignment_id').references(() => assignments.id, { onDelete: 'cascade' }),
    programKey: text('program_key'),
    cycle: integer('cycle'),
    dedupeKey: text('dedupe_key').notNull().unique(),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    leasedUntil: timestamp('leased_until', { withTimezone: true }),
    attempts: integer('attempts').notNull().default(0),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    /** Given up: the person blocked the bot, or too many failures. */
    failedAt: timestamp('failed_at', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: createdAt(),
  },
  (table) => [
    index('notifications_due')
      .on(table.dueAt)
      .where(sql`${table.sentAt} is null and ${table.failedAt} is null`),
  ],
);

/** A trainee passed every assignment of a program's cycle. */
export const certifications = pgTable(
  'certifications',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' })
      .$type<UserId>(),
    programKey: text('program_key').notNull(),
    cycle: integer('cycle').notNull(),
    certifiedAt: timestamp('certified_at', { withTimezone: true }).notNull().defaultNow(),
    /** After it the program is assigned again (the next cycle); null: never expires. */
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    /** When the next cycle was assigned after expiry. */
    renewedAt: timestamp('renewed_at', { withTimezone: true }),
  },
  (table) => [uniqueIndex('certifications_user_program_cycle').on(table.userId, table.programKey, table.cycle)],
);
