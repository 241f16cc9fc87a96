import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  real,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { SessionId, TelegramFileId, TelegramId, UserId } from './ids.js';

export const userRole = pgEnum('user_role', ['trainee', 'manager', 'admin']);
export const sessionStatus = pgEnum('session_status', ['active', 'finished', 'abandoned']);
export const messageRole = pgEnum('message_role', ['user', 'assistant', 'system']);
export const exportStatus = pgEnum('export_status', ['pending', 'done']);
/** How a trainee's turn came: typed, or spoken (a voice note, an audio file, a round video note). */
export const messageKind = pgEnum('message_kind', ['text', 'voice', 'audio', 'video_note']);
/** A trainee's choice of how the client answers; null follows the scenario's default. */
export const voiceReplies = pgEnum('voice_replies', ['on', 'off']);
/** How a person was let in: an admin's /allow (or the «Допустить» button), or an invite they redeemed. */
export const accessGrantSource = pgEnum('access_grant_source', ['admin', 'invite']);
/** What a model call was for: the counted tokens of a person's day and of the team's. */
export const modelUsagePurpose = pgEnum('model_usage_purpose', ['client', 'judge', 'hint', 'transcription', 'speech']);

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const users = pgTable('users', {
  id: serial('id').primaryKey().$type<UserId>(),
  telegramId: bigint('telegram_id', { mode: 'number' }).notNull().unique().$type<TelegramId>(),
  username: text('username'),
  firstName: text('first_name'),
  lastName: text('last_name'),
  languageCode: text('language_code'),
  role: userRole('role').notNull().default('trainee'),
  /** /voice: the client answers with voice notes ('on'), in text ('off'), or as the scenario says (null). */
  voiceReplies: voiceReplies('voice_replies'),
  /**
   * The manager whose team this person is in: the one whose invite they redeemed, or the one an admin
   * placed them with. Null: in no team (admins see them all the same).
   */
  managerId: integer('manager_id')
    .references((): AnyPgColumn => users.id, { onDelete: 'set null' })
    .$type<UserId>(),
  createdAt: createdAt(),
});

export const sessions = pgTable(
  'sessions',
  {
    id: serial('id').primaryKey().$type<SessionId>(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' })
      .$type<UserId>(),
    scenarioKey: text('scenario_key').notNull(),
    difficulty: text('difficulty').notNull(),
    status: sessionStatus('status').notNull().default('active'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    /** Set when /finish starts: a judge interrupted by a crash is run again at the next start. */
    finishRequestedAt: timestamp('finish_requested_at', { withTimezone: true }),
    /** When RETENTION_DAYS deleted the dialogue (src/services/retention.ts); the evaluation stays. */
    transcriptDeletedAt: timestamp('transcript_deleted_at', { withTimezone: true }),
    /** When the AI client hung up (src/services/client-role.ts): later turns are not answered; /finish still scores. */
    clientHungUpAt: timestamp('client_hung_up_at', { withTimezone: true }),
  },
  (table) => [
    // The database, not the handler, guarantees one active session per user.
    uniqueIndex('sessions_one_active_per_user')
      .on(table.userId)
      .where(sql`${table.status} = 'active'`),
    index('sessions_user_started').on(table.userId, table.startedAt.desc()),
    index('sessions_finished_at').on(table.finishedAt),
  ],
);

export const messages = pgTable(
  'messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sessionId: integer('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' })
      .$type<SessionId>(),
    role: messageRole('role').notNull(),
    /** For a spoken turn, its transcript ('' until it is transcribed, or when nothing was heard). */
    content: text('content').notNull(),
    kind: messageKind('kind').notNull().default('text'),
    /** A spoken turn's length as Telegram gives it, whole seconds (0 for a note under a second). */
    audioSeconds: integer('audio_seconds'),
    /** A spoken turn's Telegram file: a transcription that failed is retried from it, nothing is lost. */
    telegramFileId: text('telegram_file_id').$type<TelegramFileId>(),
    /** When a spoken turn was transcribed; null means "transcribe it" (after a failure or a crash). */
    transcribedAt: timestamp('transcribed_at', { withTimezone: true }),
    /** The Telegram message a trainee's turn came from: a redelivered update is stored once. */
    telegramMessageId: bigint('telegram_message_id', { mode: 'number' }),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    /** For the client's replies: when Telegram accepted it. Null after a crash means "send it again". */
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [
    index('messages_session_id').on(table.sessionId, table.id),
    uniqueIndex('messages_session_telegram_message').on(table.sessionId, table.telegramMessageId),
  ],
);

export interface CriterionScoreRecord {
  readonly key: string;
  readonly title: string;
  readonly weight: number;
  readonly score: number;
  readonly evidence: string;
  readonly comment: string;
  /** The judge's quote was not found in the dialogue and was removed (absent in evaluations before 0007). */
  readonly quoteDropped?: boolean;
}

/** A wrong figure the trainee gave (a price, a term, a limit), as the judge checked it against the knowledge base. */
export interface FactRecord {
  /** The trainee's words, quoted (checked to occur in what the trainee said). */
  readonly claim: string;
  /** What the knowledge base says. */
  readonly correct: string;
  /** The knowledge-base passage it says so in (`catalog.md › Тарифы › Тариф «Бизнес»`), '' when not known. */
  readonly source: string;
}

/** How the trainee sounded over a session's voice turns (src/services/delivery.ts). */
export interface DeliveryRecord {
  readonly voiceTurns: number;
  readonly spokenSeconds: number;
  readonly words: number;
  /** Null when the notes were too short to tell (under a few seconds in all). */
  readonly wordsPerMinute: number | null;
  readonly fillers: ReadonlyArray<{ readonly word: string; readonly count: number }>;
  /** Voice turns longer than the monologue threshold, and the longest turn, seconds. */
  readonly longMonologues: number;
  readonly longestSeconds: number;
}

export const evaluations = pgTable(
  'evaluations',
  {
    id: serial('id').primaryKey(),
    sessionId: integer('session_id')
      .notNull()
      .unique()
      .references(() => sessions.id, { onDelete: 'cascade' })
      .$type<SessionId>(),
    totalScore: integer('total_score').notNull(),
    criteria: jsonb('criteria').notNull().$type<readonly CriterionScoreRecord[]>(),
    strengths: jsonb('strengths').notNull().$type<readonly string[]>(),
    mistakes: jsonb('mistakes').notNull().$type<readonly string[]>(),
    recommendations: jsonb('recommendations').notNull().$type<readonly string[]>(),
    summary: text('summary').notNull().default(''),
    model: text('model').notNull(),
    /** Messages from the middle of a long dialogue the judge had no room to see. */
    omittedMessages: integer('omitted_messages').notNull().default(0),
    /** How the spoken turns sounded (rate, filler words, monologues); null when nothing was spoken. */
    delivery: jsonb('delivery').$type<DeliveryRecord>(),
    /** Each wrong figure the trainee gave, with what the knowledge base says and where. */
    facts: jsonb('facts').notNull().default([]).$type<readonly FactRecord[]>(),
    /** Which criteria it was scored on (a hash of keys, titles, weights, descriptions, anchors); null before 0007. */
    rubricVersion: text('rubric_version'),
    /** Which judge prompt scored it (src/services/judge.ts); null before 0007. */
    promptVersion: text('prompt_version'),
    /** The temperature the judge was asked for; null: the model's default (or before 0007). */
    judgeTemperature: real('judge_temperature'),
    /** When the trainee was shown the evaluation; null after a crash means "show it again". */
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [check('evaluations_total_score_range', sql`${table.totalScore} between 0 and 100`)],
);

/** A manager's second opinion on an evaluation: kept beside the AI's score, both exported. */
export const evaluationReviews = pgTable(
  'evaluation_reviews',
  {
    sessionId: integer('session_id')
      .primaryKey()
      .references(() => sessions.id, { onDelete: 'cascade' })
      .$type<SessionId>(),
    /** Null once the reviewer was erased; the corrected score stays. */
    reviewerId: integer('reviewer_id')
      .references(() => users.id, { onDelete: 'set null' })
      .$type<UserId>(),
    score: integer('score').notNull(),
    comment: text('comment').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [check('evaluation_reviews_score_range', sql`${table.score} between 0 and 100`)],
);

/** A trainee's dispute of an evaluation, with their reason; the manager is told, and answers with a review. */
export const evaluationDisputes = pgTable('evaluation_disputes', {
  sessionId: integer('session_id')
    .primaryKey()
    .references(() => sessions.id, { onDelete: 'cascade' })
    .$type<SessionId>(),
  reason: text('reason').notNull(),
  createdAt: createdAt(),
  /** When the manager was told; null: still to tell (after a crash too). */
  managerNotifiedAt: timestamp('manager_notified_at', { withTimezone: true }),
  /** When a review answered it. */
  resolvedAt: timestamp('resolved_at', { withTimezone: true }),
});

export const invites = pgTable(
  'invites',
  {
    code: text('code').primaryKey(),
    /**
     * Null once the creator was erased: the invite stays (closed) so that the people it admitted keep
     * their redemption, and with it their access in invite mode.
     */
    createdBy: integer('created_by')
      .references(() => users.id, { onDelete: 'set null' })
      .$type<UserId>(),
    role: userRole('role').notNull().default('trainee'),
    maxUses: integer('max_uses').notNull(),
    uses: integer('uses').notNull().default(0),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (table) => [check('invites_uses_within_limit', sql`${table.uses} <= ${table.maxUses}`)],
);

/** Which invite admitted which user: an invite is spent once per person. */
export const inviteRedemptions = pgTable(
  'invite_redemptions',
  {
    code: text('code')
      .notNull()
      .references(() => invites.code, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' })
      .$type<UserId>(),
    /** When the invite's creator was told that this person joined; null: still to tell (after a crash too). */
    inviterNotifiedAt: timestamp('inviter_notified_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.code, table.userId] })],
);

/**
 * The allowlist kept in PostgreSQL, beside ALLOWED_USER_IDS: one row per person let in by /allow, by
 * the «Допустить» button, or by redeeming an invite (in every access mode). A revoked row stays, with
 * `revoked_at`, so that /revoke also shuts out someone ALLOWED_USER_IDS or an old invite would let in;
 * a later /allow clears it.
 */
export const accessGrants = pgTable('access_grants', {
  telegramId: bigint('telegram_id', { mode: 'number' }).primaryKey().$type<TelegramId>(),
  source: accessGrantSource('source').notNull(),
  /** Who let them in (the admin, or the invite's creator); null once that person was erased. */
  grantedBy: integer('granted_by')
    .references(() => users.id, { onDelete: 'set null' })
    .$type<UserId>(),
  inviteCode: text('invite_code').references(() => invites.code, { onDelete: 'set null' }),
  grantedAt: timestamp('granted_at', { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  revokedBy: integer('revoked_by')
    .references(() => users.id, { onDelete: 'set null' })
    .$type<UserId>(),
});

/**
 * People the gate refused, so that an admin (or the inviter whose expired or used-up link they
 * followed) can let them in with a button. Not employees: never in «Сотрудники» or /team.
 */
export const accessRequests = pgTable('access_requests', {
  telegramId: bigint('telegram_id', { mode: 'number' }).primaryKey().$type<TelegramId>(),
  username: text('username'),
  firstName: text('first_name'),
  lastName: text('last_name'),
  languageCode: text('language_code'),
  /** The invite they tried, when that is why they were refused (expired, used up). */
  inviteCode: text('invite_code').references(() => invites.code, { onDelete: 'set null' }),
  lastRefusedAt: timestamp('last_refused_at', { withTimezone: true }).notNull().defaultNow(),
  /** When admins (or the inviter) were last told; at most once a day per person. */
  notifiedAt: timestamp('notified_at', { withTimezone: true }),
  createdAt: createdAt(),
});

/**
 * Every model call's tokens, for the daily budgets (USER_DAILY_TOKENS, TEAM_DAILY_TOKENS) and the
 * cost per session in /metrics and the sheet. `user_id` null: the person was erased, the team's day
 * still counts it.
 */
export const modelUsage = pgTable(
  'model_usage',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: integer('user_id')
      .references(() => users.id, { onDelete: 'set null' })
      .$type<UserId>(),
    sessionId: integer('session_id')
      .references(() => sessions.id, { onDelete: 'set null' })
      .$type<SessionId>(),
    purpose: modelUsagePurpose('purpose').notNull(),
    model: text('model').notNull(),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    /** Estimated from MODEL_PRICE_PER_1K_INPUT / _OUTPUT at the time of the call. */
    costUsd: real('cost_usd').notNull().default(0),
    createdAt: createdAt(),
  },
  (table) => [
    index('model_usage_user_created').on(table.userId, table.createdAt),
    index('model_usage_created').on(table.createdAt),
    index('model_usage_session').on(table.sessionId),
  ],
);

/** Outbox of the managers' sheet: one row per finished session, written with its evaluation. */
export const sheetExports = pgTable(
  'sheet_exports',
  {
    sessionId: integer('session_id')
      .primaryKey()
      .references(() => sessions.id, { onDelete: 'cascade' })
      .$type<SessionId>(),
    status: exportStatus('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastError: text('last_error'),
    createdAt: createdAt(),
    exportedAt: timestamp('exported_at', { withTimezone: true }),
  },
  (table) => [index('sheet_exports_due').on(table.status, table.nextAttemptAt)],
);

/**
 * Outbox of erasures in the managers' sheet (src/services/sheets/sheet-erasure.ts): the rows of an
 * erased person's sessions still to be deleted there. The database part of an erasure is already
 * done when a row is written; the row goes once the sheet holds nothing of the person.
 */
export const sheetErasures = pgTable(
  'sheet_erasures',
  {
    id: serial('id').primaryKey(),
    /** Whom the rows were about, until they are deleted (the last look, below, needs no name). */
    telegramId: bigint('telegram_id', { mode: 'number' }).$type<TelegramId>(),
    sessionIds: integer('session_ids').array().notNull().$type<SessionId[]>(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    /**
     * Until then a write begun before the erasure may still land (an export's append, a rewrite of
     * «Сотрудники» from data read before): the sheet is looked at once more after it.
     */
    settleUntil: timestamp('settle_until', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: createdAt(),
  },
  (table) => [index('sheet_erasures_due').on(table.nextAttemptAt), index('sheet_erasures_telegram_id').on(table.telegramId)],
);

/**
 * Background jobs shared by every process on the database (the retention job, the sheet's row
 * deletions): a lease so that one process runs a job at a time, and when it last completed.
 */
export const jobRuns = pgTable('job_runs', {
  name: text('name').primaryKey(),
  lastRunAt: timestamp('last_run_at', { withTimezone: true }),
  leasedUntil: timestamp('leased_until', { withTimezone: true }),
  leaseHolder: text('lease_holder'),
});

/** Storage of @grammyjs/conversations: multi-step flows survive restarts. */
export const conversationStates = pgTable('conversation_states', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Who holds the bot's instance lock (src/db/instance-lock.ts), so that a second process can name it.
 * A row is trusted only while its `backend_pid` still holds the advisory lock: one left by a process
 * that died is simply overwritten by the next holder.
 */
export const botInstances = pgTable('bot_instances', {
  lockKey: bigint('lock_key', { mode: 'number' }).primaryKey(),
  /** Random per process: tells a process its own lost session from another process's. */
  instanceId: text('instance_id').notNull(),
  host: text('host').notNull(),
  pid: integer('pid').notNull(),
  /** When this process first took the lock. */
  since: timestamp('since', { withTimezone: true }).notNull(),
  /** The PostgreSQL session (pg_backend_pid) that holds the lock now. */
  backendPid: integer('backend_pid').notNull(),
});
