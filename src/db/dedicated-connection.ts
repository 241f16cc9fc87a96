import postgres, { type Sql } from 'postgres';
import type { Database } from './client.js';

/** What a dedicated connection reports: PostgreSQL notifications and the connection's end. */
export interface DedicatedConnectionHooks {
  readonly onnotify?: (channel: string, payload: string) => void;
  readonly onclose?: () => void;
}

/**
 * One connection of its own, beside the pool, opened with the pool's parsed options (as postgres.js
 * opens its own LISTEN connection): for what must outlive a query, such as a session-level advisory
 * lock or LISTEN. No idle timeout and no lifetime limit: postgres.js's default lifetime (30–60 min)
 * would silently drop the lock or the subscription. `purpose` names it in pg_stat_activity.
 */
export function openDedicatedConnection(pool: Database, purpose: string, hooks: DedicatedConnectionHooks = {}): Sql {
  const { options } = poolClient(pool);
  return postgres({
    ...options,
    max: 1,
    idle_timeout: null,
    max_lifetime: null,
    fetch_types: false,
    connection: { ...options.connection, application_name: `sales-trainer-bot ${purpose}` },
    ...hooks,
  } as unknown as postgres.Options<Record<string, never>>);
}

/** drizzle keeps the postgres.js pool as `$client`; our Database alias leaves it out of the type. */
export function poolClient(db: Database): Sql {
  return (db as Database & { readonly $client: Sql }).$client;
}
