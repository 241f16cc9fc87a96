import { setTimeout as sleep } from 'node:timers/promises';
import { createRunner, createSource, type RunnerHandle, type UpdateSink, type UpdateSupplier } from '@grammyjs/runner';
import { Context, GrammyError, type Bot } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../logger.js';
import type { BotContext } from './context.js';
import { chatKey, PerChatQueue } from './helpers/per-chat-queue.js';

/** How many chats are answered at once: the runner's default window, now counted in chats. */
export const chatsAtOnce = 500;
/**
 * How many fetched updates may wait in the chats' lines before getUpdates pauses. Far above what one
 * chat sends in one go (650 forwarded texts), so that a backlog never keeps another chat's update in
 * Telegram; past it, the order of getUpdates leaves no way around waiting (some 2 KB per update).
 */
export const maxWaitingUpdates = 10_000;

const allowedUpdates = ['message', 'edited_message', 'callback_query'] as const;
/** A 409 or a failing getUpdates is tried again after 0.5 s, 1 s, 2 s … at most 30 s. */
const firstRetryMs = 500;
const maxRetryMs = 30_000;

/** The chats' lines that fetched updates wait in; start-up recovery holds a chat's line while it runs. */
export function createUpdateQueue(bot: Bot<BotContext>, logger: Logger): PerChatQueue<Update> {
  return new PerChatQueue<Update>({
    chatsAtOnce,
    run: (update) => handleUpdate(bot, update),
    // handleUpdate already gave the failure to the bot's error handler; this is that handler failing.
    onError: (error, update) => logger.error({ err: error, updateId: update.update_id }, 'the error handler failed'),
  });
}

export interface Polling {
  /** Stops fetching; what was fetched goes on in the chats' lines (see `size`). */
  stop(): Promise<void>;
  /** Updates fetched and not yet handled, plus other work in the chats' lines. */
  size(): number;
  /** Fetching, and not waiting out a conflict with another poller of this token. */
  isReceiving(): boolean;
}

/**
 * Long polling through @grammyjs/runner's source and runner, with two parts of our own:
 * - the sink puts every update in its chat's line (PerChatQueue), so one chat's backlog never holds
 *   up another chat;
 * - the supplier waits out a 409 Conflict (another poller with this token) and other failures of
 *   getUpdates with backoff, one log line per episode. The runner's own fetcher stops on a 409, and
 *   its task's rejection, unhandled, ended the process.
 * `onFatal` hears what cannot be waited out: Telegram refusing the token (401).
 */
export function startPolling(
  bot: Bot<BotContext>,
  queue: PerChatQueue<Update>,
  options: { readonly logger: Logger; readonly onFatal: (error: unknown) => void },
): Polling {
  const { logger } = options;
  const supplier = createSupplier(bot, logger);
  const sink: UpdateSink<Update> = {
    handle: (updates) => {
      for (const update of updates) queue.push(keyOf(bot, update), update);
      return queue.roomBelow(maxWaitingUpdates);
    },
    size: () => queue.size(),
    snapshot: () => queue.items(),
  };
  const runner: RunnerHandle = createRunner(createSource(supplier), sink);
  runner.start();
  runner.task()?.then(
    () => undefined,
    (error: unknown) => options.onFatal(error),
  );
  return {
    stop: () => runner.stop(),
    size: () => queue.size(),
    isReceiving: () => runner.isRunning() && !supplier.inTrouble(),
  };
}

/** Runs one update as grammY's runner does: a failure goes to the bot's error handler. */
async function handleUpdate(bot: Bot<BotContext>, update: Update): Promise<void> {
  try {
    await bot.handleUpdate(update);
  } catch (error) {
    await bot.errorHandler(error as Parameters<typeof bot.errorHandler>[0]);
  }
}

/** An update without a chat or sender gets a line of its own: nothing to keep it in order with. */
function keyOf(bot: Bot<BotContext>, update: Update): string {
  return chatKey(new Context(update, bot.api, bot.botInfo)) ?? `update:${update.update_id}`;
}

type Trouble = 'conflict' | 'failing';

function createSupplier(bot: Bot<BotContext>, logger: Logger): UpdateSupplier<Update> & { inTrouble(): boolean } {
  let offset = 0;
  let trouble: Trouble | undefined;
  let troubleSince = 0;
  let retries = 0;
  return {
    inTrouble: () => trouble !== undefined,
    async supply(batchSize, runnerSignal) {
      // The runner types its signal with an AbortController shim; at runtime it is the standard one.
      const signal = runnerSignal as unknown as AbortSignal;
      for (;;) {
        try {
          const updates = await bot.api.getUpdates(
            { offset, limit: Math.max(1, Math.min(batchSize, 100)), timeout: 30, allowed_updates: allowedUpdates },
            runnerSignal,
          );
          if (trouble !== undefined) {
            logger.info({ trouble, waitedMs: Date.now() - troubleSince, retries }, 'receiving updates again');
            trouble = undefined;
          }
          const last = updates.at(-1);
          if (last) offset = last.update_id + 1;
          return updates;
        } catch (error) {
          if (signal.aborted) throw error;
          if (error instanceof GrammyError && error.error_code === 401) throw error;
          const kind: Trouble = error instanceof GrammyError && error.error_code === 409 ? 'conflict' : 'failing';
          if (trouble !== kind) {
            // One line per episode: the retries of a conflict that lasts an hour are not news.
            if (kind === 'conflict') {
              logger.warn(
                { err: error },
                'Telegram answered 409 Conflict: another process polls with this token; waiting until it stops',
              );
            } else {
              logger.warn({ err: error }, 'getUpdates failed; retrying with backoff');
            }
            if (trouble === undefined) {
              troubleSince = Date.now();
              retries = 0;
            }
            trouble = kind;
          }
          const delay = Math.min(maxRetryMs, firstRetryMs * 2 ** Math.min(retries, 16));
          retries++;
          await sleep(delay * (0.75 + Math.random() / 2), undefined, { signal });
        }
      }
    },
  };
}
