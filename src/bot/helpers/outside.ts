import type { Conversation } from '@grammyjs/conversations';
import type { BotContext, ConversationContext } from '../context.js';

/** Errors thrown by tasks outside a conversation, until the conversation rethrows them. */
const thrown = new Map<number, unknown>();
let nextKey = 0;

interface StoredError {
  readonly key: number;
  readonly message: string;
}

/**
 * `conversation.external` that rethrows a failed task's error as it was thrown. On its own the
 * plugin keeps the error in the replay log and rethrows a structured clone, which is a plain Error
 * without its class or `code`: a database outage or a missing scenario would reach the error
 * boundary as "handler failed" and the user would get the generic apology. The live error is handed
 * over in memory; only a failure replayed after a restart is rebuilt from its message.
 */
export function outside<R>(
  conversation: Conversation<BotContext, ConversationContext>,
  task: (outer: BotContext) => R | Promise<R>,
): Promise<R> {
  return conversation.external<R>({
    task,
    beforeStoreError: (error: unknown): StoredError => {
      const key = nextKey++;
      thrown.set(key, error);
      return { key, message: error instanceof Error ? error.message : String(error) };
    },
    afterLoadError: (stored: StoredError): unknown => {
      const error = thrown.get(stored.key);
      thrown.delete(stored.key);
      return error ?? new Error(stored.message);
    },
  });
}
