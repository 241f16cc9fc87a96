import { eq } from 'drizzle-orm';
import type { Logger } from '../../logger.js';
import type { Database } from '../client.js';
import { resilientQueries } from '../retry.js';
import { conversationStates } from '../schema.js';

/** Key-value storage in Postgres in the shape @grammyjs/conversations wants for its adapter. */
export interface ConversationStore<T = unknown> {
  read(key: string): Promise<T | undefined>;
  write(key: string, value: T): Promise<void>;
  delete(key: string): Promise<void>;
}

/** The store's cache, for an erasure done elsewhere (another process deleted the row). */
export interface CachedConversationStore<T = unknown> extends ConversationStore<T> {
  /** Drops the cached state of one key: the next read asks PostgreSQL. */
  forget(key: string): void;
  /** Drops every cached state (erasures may have been missed). */
  forgetAll(): void;
}

/**
 * Postgres is the truth; a write-through cache spares the read the plugin makes on every update.
 * Sound because one process polls Telegram at a time (getUpdates allows a single consumer), and a
 * row deleted behind its back (an erasure by `npm run user:erase`) is announced so it can `forget`.
 * Reads and writes are idempotent, so a short PostgreSQL outage is waited out.
 */
export function createConversationStore<T>(db: Database, logger: Logger, cacheSize = 10_000): CachedConversationStore<T> {
  const query = resilientQueries(db, logger);
  const cache = new Map<string, T | undefined>();
  const remember = (key: string, value: T | undefined) => {
    cache.delete(key);
    cache.set(key, value);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
  };
  return {
    async read(key) {
      if (cache.has(key)) return cache.get(key);
      const [row] = await query('read a conversation state', (db) =>
        db.select({ value: conversationStates.value }).from(conversationStates).where(eq(conversationStates.key, key)),
      );
      const value = row?.value as T | undefined;
      remember(key, value);
      return value;
    },
    async write(key, value) {
      cache.delete(key);
      await query('write a conversation state', (db) =>
        db
          .insert(conversationStates)
          .values({ key, value, updatedAt: new Date() })
          .onConflictDoUpdate({ target: conversationStates.key, set: { value, updatedAt: new Date() } }),
      );
      remember(key, value);
    },
    async delete(key) {
      cache.delete(key);
      await query('delete a conversation state', (db) => db.delete(conversationStates).where(eq(conversationStates.key, key)));
      remember(key, undefined);
    },
    forget(key) {
      cache.delete(key);
    },
    forgetAll() {
      cache.clear();
    },
  };
}
