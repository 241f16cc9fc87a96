import { and, asc, count, desc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { SessionId } from '../ids.js';
import { messages } from '../schema.js';
import { storable } from '../text.js';

export type StoredMessage = typeof messages.$inferSelect;
export type MessageRole = StoredMessage['role'];

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
  const [inserted] = await db
    .insert(messages)
    .values({
      sessionId,
      role,
      content: storable(content),
      telegramMessageId: options.telegramMessageId ?? null,
      promptTokens: options.promptTokens ?? null,
      completionTokens: options.completionTokens ?? null,
    })
    .onConflictDoNothing({ target: [messages.sessionId, messages.telegramMessageId] })
    .returning();
  if (inserted) return { message: inserted, duplicate: false };
  const [existing] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.telegramMessageId, options.telegramMessageId ?? -1)))
    .limit(1);
  if (!existing) throw new Error(`message insert for session ${sessionId} conflicted but found nothing`);
  return { message: existing, duplicate: true };
}

/** The last `limit` messages of a session, oldest first, as `{ role, content }`. */
export async function lastMessages(db: Database, sessionId: SessionId, limit: number): Promise<ChatMessage[]> {
  const rows = await db
    .select({ role: messages.role, content: messages.content })
    .from(messages)
    .where(eq(messages.sessionId, sessionId))
    .orderBy(desc(messages.id))
    .limit(limit);
  return rows.reverse();
}

/** The whole dialogue of a session, oldest first. */
export async function sessionMessages(db: Database, sessionId: SessionId): Promise<StoredMessage[]> {
  return db.select().from(messages).where(eq(messages.sessionId, sessionId)).orderBy(asc(messages.id));
}

export async function countMessages(db: Database, sessionId: SessionId, role?: MessageRole): Promise<number> {
  const where = role ? and(eq(messages.sessionId, sessionId), eq(messages.role, role)) : eq(messages.sessionId, sessionId);
  const [row] = await db.select({ n: count() }).from(messages).where(where);
  return row?.n ?? 0;
}

/** Telegram accepted the client's reply: it will not be sent again after a restart. */
export async function markMessageDelivered(db: Database, messageId: number): Promise<void> {
  await db.update(messages).set({ deliveredAt: new Date() }).where(eq(messages.id, messageId));
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
