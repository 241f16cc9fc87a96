import { eq } from 'drizzle-orm';
import type { Database } from '../client.js';
import { conversationStates } from '../schema.js';

/** Key-value storage in Postgres in the shape @grammyjs/conversations wants for its adapter. */
export interface ConversationStore<T = unknown> {
  read(key: string): Promise<T | undefined>;
  write(key: string, value: T): Promise<void>;
  delete(key: string): Promise<void>;
}

export function createConversationStore<T>(db: Database): ConversationStore<T> {
  return {
    async read(key) {
      const [row] = await db.select({ value: conversationStates.value }).from(conversationStates).where(eq(conversationStates.key, key));
      return row?.value as T | undefined;
    },
    async write(key, value) {
      await db
        .insert(conversationStates)
        .values({ key, value, updatedAt: new Date() })
        .onConflictDoUpdate({ target: conversationStates.key, set: { value, updatedAt: new Date() } });
    },
    async delete(key) {
      await db.delete(conversationStates).where(eq(conversationStates.key, key));
    },
  };
}
