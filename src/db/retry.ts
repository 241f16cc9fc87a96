import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import type { Database } from './client.js';

/** Errors after which the same statement may well succeed: the connection, not the data, failed. */
const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01', // admin_shutdown: the server is restarting
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up
  '53300', // too_many_connections: another client (kb:index, a second service) holds the free slots
  '08000',
  '08003',
  '08006',
]);

export function isTransientDatabaseError(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && transientCodes.has(code)) return true;
  }
  return false;
}

/**
 * Runs a database operation, retrying through a short outage (a PostgreSQL restart) so that a
 * trainee's message is not lost to it. Gives up after `maxWaitMs`.
 *
 * A failed attempt may still have landed: PostgreSQL committed, and only the answer was lost with
 * the connection. An operation that must not apply twice passes `landed`, asked before every retry:
 * what it returns (anything but undefined) is taken as the operation's result.
 */
export async function retryTransient<T>(
  operation: () => Promise<T>,
  options: {
    readonly logger: Logger;
    readonly what: string;
    readonly maxWaitMs?: number;
    readonly landed?: () => Promise<T | undefined>;
  },
): Promise<T> {
  const deadline = Date.now() + (options.maxWaitMs ?? 30_000);
  for (let attempt = 1; ; attempt++) {
    try {
      if (attempt > 1 && options.landed) {
        const result = await options.landed();
        if (result !== undefined) return result;
      }
      return await operation();
    } catch (error) {
      if (!isTransientDatabaseError(error) || Date.now() >= deadline) throw error;
      const delay = Math.min(2_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
      options.logger.warn({ err: error, attempt, what: options.what }, 'database unavailable; retrying');
      await sleep(delay);
    }
  }
}

/**
 * The one way services run a query: through a short PostgreSQL outage (`retryTransient`), logged
 * under `what`. Each query is idempotent; a write that is not says, with `landed`, how to recognise
 * that an attempt whose answer was lost did apply.
 */
export type RunQuery = <T>(
  what: string,
  run: (db: Database) => Promise<T>,
  landed?: (db: Database) => Promise<T | undefined>,
) => Promise<T>;

export function resilientQueries(db: Database, logger: Logger): RunQuery {
  return (what, run, landed) => retryTransient(() => run(db), { logger, what, ...(landed ? { landed: () => landed(db) } : {}) });
}
