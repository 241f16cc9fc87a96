import { and, asc, count, desc, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import { postgresClientOf, type Database } from '../client.js';
import type { SessionId, TelegramFileId } from '../ids.js';
import { messages } from '../schema.js';
import { storable } from '../text.js';

export type StoredMessage = typeof messages.$inferSelect;
export type MessageRole = StoredMessage['role'];
export type MessageKind = StoredMessage['kind'];
/** How a spoken turn came: anything but typed text. */
export type SpokenKind = Exclude<MessageKind, 'text'>;

/** A spoken turn as Telegram described it, stored before it is transcribed. */
export interface SpokenAudio {
  readonly kind: SpokenKind;
  readonly seconds: number;
  readonly telegramFileId: TelegramFileId;
}

/** A message in the shape chat-completion APIs take. */
export interface ChatMessage {
  readonly role: MessageRole;
  readonly content: string;
}

export interface AppendMessageOptions {
  /** For a trainee's turn: a redelivered Telegram update is then stored once. */
  readonly telegramMessageId?: number;
  readonly promptTokens?: number;
  readonly completionTokens?: number;
  /** A voice note, audio file or video note: stored with no text until it is transcribed. */
  readonly spoken?: SpokenAudio;
}

/**
 * The statements every turn runs, built once per database and prepared on the server: drizzle
 * skips building the SQL and PostgreSQL skips parsing and planning it (docs/performance.md).
 */
function preparePerTurnQueries(db: Database) {
  return {
    appendText: db
      .insert(messages)
      .values({
        sessionId: sql.placeholder('sessionId'),
        role: sql.placeholder('role'),
        content: sql.placeholder('content'),
        telegramMessageId: sql.placeholder('telegramMessageId'),
        promptTokens: sql.placeholder('promptTokens'),
        completionTokens: sql.placeholder('completionTokens'),
      })
      .onConflictDoNothing({ target: [messages.sessionId, messages.telegramMessageId] })
      .returning()
      .prepare('append_text_message'),
    lastMessages: db
      .select({ role: messages.role, content: messages.content })
      .from(messages)
      .where(and(eq(messages.sessionId, sql.placeholder('sessionId')), ne(messages.content, '')))
      .orderBy(desc(messages.id))
      .limit(sql.placeholder('limit'))
      .prepare('last_messages'),
    markDelivered: db
      .update(messages)
      .set({ deliveredAt: sql`now()` })
      .where(eq(messages.id, sql.placeholder('messageId')))
      .prepare('mark_message_delivered'),
  };
}

const perTurnQueries = new WeakMap<Database, ReturnType<typeof preparePerTurnQueries>>();

function perTurn(db: Database): ReturnType<typeof preparePerTurnQueries> {
  let queries = perTurnQueries.get(db);
  if (!queries) {
    queries = preparePerTurnQueries(db);
    perTurnQueries.set(db, queries);
  }
  return queries;
}

/**
 * Appends a message to a session. Returns `{ duplicate: true }` when the same Telegram message
 * was stored before (the update was delivered again after a restart).
 */
export async function appendMessage(
  db: Database,
  sessionId: SessionId,
  role: MessageRole,
  content: string,
  options: AppendMessageOptions = {},
): Promise<{ readonly message: StoredMessage; readonly duplicate: boolean }> {
  const values = {
    sessionId,
    role,
    content: storable(content),
    telegramMessageId: options.telegramMessageId ?? null,
    promptTokens: options.promptTokens ?? null,
    completionTokens: options.completionTokens ?? null,
  };
  const [inserted] = options.spoken
    ? await db
        .insert(messages)
        .values({
          ...values,
          kind: options.spoken.kind,
          audioSeconds: options.spoken.seconds,
          telegramFileId: options.spoken.telegramFileId,
        })
        .onConflictDoNothing({ target: [messages.sessionId, messages.telegramMessageId] })
        .returning()
    : await perTurn(db).appendText.execute(values);
  if (inserted) return { message: inserted, duplicate: false };
  const [existing] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.telegramMessageId, options.telegramMessageId ?? -1)))
    .limit(1);
  if (!existing) throw new Error(`message insert for session ${sessionId} conflicted but found nothing`);
  return { message: existing, duplicate: true };
}

/**
 * The last `limit` messages of a session, oldest first, as `{ role, content }`. A spoken turn with no
 * words (not transcribed yet, or nothing was heard) is not part of the dialogue.
 */
export async function lastMessages(db: Database, sessionId: SessionId, limit: number): Promise<ChatMessage[]> {
  const rows = await perTurn(db).lastMessages.execute({ sessionId, limit });
  return rows.reverse();
}

/**
 * A trainee's typed turn stored, and the dialogue it ends read back (the last `limit` messages with
 * words, oldest first, the turn last), in one statement: a data-modifying CTE, prepared. Undefined
 * when this Telegram message was stored before (a redelivered update): nothing was written, and the
 * caller takes the duplicate's path (`appendMessage` finds the stored row).
 */
export async function storeTurnAndReadDialogue(
  db: Database,
  sessionId: SessionId,
  content: string,
  telegramMessageId: number,
  limit: number,
): Promise<{ readonly messageId: number; readonly dialogue: ChatMessage[] } | undefined> {
  // The CTE's insert is invisible to the select beside it (one snapshot), so the new row joins the
  // older ones by union; the older ones are cut one short of the limit.
  const rows = await postgresClientOf(db).unsafe<Array<{ id: string; role: MessageRole; content: string; inserted: boolean }>>(
    `with inserted as (
       insert into messages (session_id, role, content, telegram_message_id)
       values ($1, 'user', $2, $3)
       on conflict (session_id, telegram_message_id) do nothing
       returning id, role, content
     )
     select id, role, content, true as inserted from inserted where content <> ''
     union all
     (select id, role, content, false from messages where session_id = $1 and content <> '' order by id desc limit $4)
     order by id desc
     limit $4`,
    [sessionId, storable(content), telegramMessageId, limit],
    { prepare: true },
  );
  const own = rows.find((row) => row.inserted);
  if (!own) return undefined;
  return { messageId: Number(own.id), dialogue: rows.reverse().map(({ role, content: text }) => ({ role, content: text })) };
}

/** The whole dialogue of a session, oldest first. */
export async function sessionMessages(db: Database, sessionId: SessionId): Promise<StoredMessage[]> {
  return db.select().from(messages).where(eq(messages.sessionId, sessionId)).orderBy(asc(messages.id));
}

/** How many messages of a session have words (a spoken turn with none is not counted). */
export async function countMessages(db: Database, sessionId: SessionId, role?: MessageRole): Promise<number> {
  const spoken = and(eq(messages.sessionId, sessionId), ne(messages.content, ''));
  const where = role ? and(spoken, eq(messages.role, role)) : spoken;
  const [row] = await db.select({ n: count() }).from(messages).where(where);
  return row?.n ?? 0;
}

/** Telegram accepted the client's reply: it will not be sent again after a restart. */
export async function markMessageDelivered(db: Database, messageId: number): Promise<void> {
  await perTurn(db).markDelivered.execute({ messageId });
}

/** The newest message of each of the given sessions. */
export async function lastMessageOfSessions(db: Database, sessionIds: readonly SessionId[]): Promise<StoredMessage[]> {
  if (sessionIds.length === 0) return [];
  return db
    .selectDistinctOn([messages.sessionId])
    .from(messages)
    .where(inArray(messages.sessionId, [...sessionIds]))
    .orderBy(messages.sessionId, desc(messages.id));
}

export async function getMessage(db: Database, messageId: number): Promise<StoredMessage | undefined> {
  const [row] = await db.select().from(messages).where(eq(messages.id, messageId)).limit(1);
  return row;
}

/**
 * Stores a spoken turn's transcript. Only once: a second transcription of the same note (a retry that
 * raced a recovery) leaves the first; the stored row is returned either way.
 */
export async function storeTranscript(db: Database, messageId: number, transcript: string): Promise<StoredMessage> {
  const [updated] = await db
    .update(messages)
    .set({ content: storable(transcript), transcribedAt: new Date() })
    .where(and(eq(messages.id, messageId), isNull(messages.transcribedAt)))
    .returning();
  if (updated) return updated;
  const existing = await getMessage(db, messageId);
  if (!existing) throw new Error(`message ${messageId} to transcribe is gone`);
  return existing;
}

/** A session's spoken turns that were transcribed, oldest first: what its delivery is judged on. */
export async function spokenTurns(db: Database, sessionId: SessionId): Promise<Array<{ content: string; seconds: number }>> {
  const rows = await db
    .select({ content: messages.content, seconds: messages.audioSeconds })
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.role, 'user'), ne(messages.kind, 'text'), ne(messages.content, '')))
    .orderBy(asc(messages.id));
  return rows.map((row) => ({ content: row.content, seconds: row.seconds ?? 0 }));
}
