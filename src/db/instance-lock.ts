import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { and, eq, sql } from 'drizzle-orm';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { Sql } from 'postgres';
import { StartupError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Database } from './client.js';
import { openDedicatedConnection } from './dedicated-connection.js';
import { isTransientDatabaseError } from './retry.js';
import { botInstances } from './schema.js';

/**
 * The advisory lock's key: one bot per database. Below 2^31, so pg_locks shows it as `objid` with
 * `classid` 0 and `objsubid` 1 (a bigint key).
 */
export const instanceLockKey = 0x424f5431; // "BOT1"

/** The process holding the lock, as it recorded itself; `host` is unknown when it has not (yet). */
export interface InstanceHolder {
  /** The PostgreSQL session holding the lock (what pg_terminate_backend takes). */
  readonly backendPid: number;
  readonly instanceId?: string;
  readonly host?: string;
  readonly pid?: number;
  readonly since?: Date;
}

export interface InstanceLockOptions {
  readonly logger: Logger;
  /** For the message to the operator: which database (host:port/name). */
  readonly databaseDescription: string;
  /**
   * Called once if the lock is lost for good: while this process's connection was down, another
   * process took it. The process must stop: two bots would answer trainees twice.
   */
  readonly onLost: (error: InstanceLockLostError) => void;
  /** How often the held lock is verified; a closed connection is noticed at once anyway. */
  readonly checkIntervalMs?: number;
  /** While the lock is gone (PostgreSQL unreachable): how often to try to take it again. */
  readonly retakeIntervalMs?: number;
  /** At start, how long to keep trying while another session holds the lock (see `acquire`). */
  readonly graceMs?: number;
}

/** Another process took the lock while this one's connection was down. */
export class InstanceLockLostError extends Error {
  constructor(readonly holder: InstanceHolder) {
    super(
      `Блокировка «один бот на базу» потеряна: пока соединение с PostgreSQL было разорвано, её взял другой процесс ` +
        `(${describeHolder(holder)}). Этот процесс останавливается, чтобы стажёрам не отвечали два бота.`,
    );
    this.name = 'InstanceLockLostError';
  }
}

/**
 * The process's claim to be the only bot on its database: a session-level `pg_try_advisory_lock`
 * on a connection of its own, held for the process's life. Not on the pool: a session lock belongs
 * to one connection, and the pool's connections come and go.
 *
 * When that connection drops, the server ends the session and the lock is gone. We re-take it
 * rather than stop: a PostgreSQL restart is an outage the bot waits out everywhere else (every
 * query retries through it), and stopping for it would turn a 2-second restart into a dead bot.
 * While PostgreSQL is down no second process can take the lock either; once it is back we take it
 * again at the first try. Only if another process got there first (it was started during the
 * outage) do we give up and stop (`onLost`). A session of our own that the server still keeps
 * (the drop was a network cut it has not noticed) is recognised by `instanceId` and terminated.
 */
export class InstanceLock {
  private state: 'held' | 'lost' | 'released' = 'held';
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private checkAgain = false;

  private constructor(
    private readonly client: Sql,
    private readonly db: PostgresJsDatabase,
    private readonly me: Required<Omit<InstanceHolder, 'backendPid'>>,
    private readonly options: InstanceLockOptions,
  ) {}

  /**
   * Takes the lock, or throws a StartupError naming its holder. A holder that just died (killed a
   * moment ago, its session not yet ended by the server) is given `graceMs` to go.
   */
  static async acquire(pool: Database, options: InstanceLockOptions): Promise<InstanceLock> {
    let lock: InstanceLock | undefined;
    const client = openDedicatedConnection(pool, 'instance lock', { onclose: () => lock?.connectionClosed() });
    const db = drizzle(client);
    const me = { instanceId: randomUUID(), host: hostname(), pid: process.pid, since: new Date() };
    try {
      const deadline = Date.now() + (options.graceMs ?? 2_000);
      for (;;) {
        if (await tryLock(db)) break;
        const holder = await readHolder(db);
        if (holder && Date.now() >= deadline) {
          throw new StartupError(
            `Другой процесс бота уже работает с базой ${options.databaseDescription}: ${describeHolder(holder)}. ` +
              `Второй ответил бы стажёрам повторно и отнимал бы у первого обновления Telegram, поэтому не запускается. ` +
              `Остановите первый процесс или, если его уже нет, завершите его сессию: select pg_terminate_backend(${holder.backendPid});`,
            1,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      lock = new InstanceLock(client, db, me, options);
      await lock.record();
    } catch (error) {
      await client.end({ timeout: 1 });
      throw error;
    }
    lock.schedule(options.checkIntervalMs ?? 10_000);
    options.logger.info({ host: me.host, pid: me.pid }, 'instance lock taken: this is the only bot on this database');
    return lock;
  }

  /** Gives the lock up (at shutdown, after polling stopped) and closes its connection. */
  async release(): Promise<void> {
    const held = this.state === 'held';
    this.state = 'released';
    clearTimeout(this.timer);
    try {
      if (held) {
        await this.db
          .delete(botInstances)
          .where(and(eq(botInstances.lockKey, instanceLockKey), eq(botInstances.instanceId, this.me.instanceId)));
        await this.db.execute(sql`select pg_advisory_unlock(${instanceLockKey}::bigint)`);
      }
    } finally {
      // Ending the session releases the lock in any case.
      await this.client.end({ timeout: 5 });
    }
  }

  private connectionClosed(): void {
    if (this.state !== 'held') return;
    this.state = 'lost';
    this.options.logger.warn("the instance lock's connection closed: the lock is gone until it is taken again");
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.state === 'released') return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), ms);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (this.checking) {
      this.checkAgain = true;
      return;
    }
    this.checking = true;
    try {
      await this.verifyOrRetake();
    } finally {
      this.checking = false;
    }
    if (this.checkAgain) {
      this.checkAgain = false;
      this.schedule(0);
    }
  }

  private async verifyOrRetake(): Promise<void> {
    const { logger } = this.options;
    const retakeMs = this.options.retakeIntervalMs ?? 1_000;
    try {
      if (await holdsLock(this.db)) {
        this.schedule(this.options.checkIntervalMs ?? 10_000);
        return;
      }
      if (this.state === 'held') {
        this.state = 'lost';
        logger.warn('the instance lock is no longer held (its session was replaced); taking it again');
      }
      if (await tryLock(this.db)) {
        await this.record();
        if (this.state !== 'lost') return; // released meanwhile
        this.state = 'held';
        logger.info('instance lock taken again');
        this.schedule(this.options.checkIntervalMs ?? 10_000);
        return;
      }
      const holder = await readHolder(this.db);
      if (holder?.instanceId === this.me.instanceId) {
        logger.warn({ backendPid: holder.backendPid }, 'the instance lock is held by our own earlier session; ending it');
        await this.db.execute(sql`select pg_terminate_backend(${holder.backendPid}::int)`);
        this.schedule(0);
      } else if (holder) {
        if (this.state === 'released') return;
        this.state = 'released';
        clearTimeout(this.timer);
        this.options.onLost(new InstanceLockLostError(holder));
      } else {
        this.schedule(0); // released between our two queries
      }
    } catch (error) {
      if (this.state === 'held') {
        this.state = 'lost';
        logger.warn({ err: error }, 'the instance lock could not be verified; taking it again once PostgreSQL answers');
      } else if (!isTransientDatabaseError(error)) {
        logger.error({ err: error }, 'the instance lock could not be taken again');
      }
      this.schedule(retakeMs);
    }
  }

  /** Who we are, for a process refused at start; written on the lock's own connection. */
  private async record(): Promise<void> {
    const holder = { ...this.me, backendPid: sql`pg_backend_pid()` };
    await this.db
      .insert(botInstances)
      .values({ lockKey: instanceLockKey, ...holder })
      .onConflictDoUpdate({ target: botInstances.lockKey, set: holder });
  }
}

async function tryLock(db: PostgresJsDatabase): Promise<boolean> {
  const [row] = await db.execute<{ took: boolean }>(sql`select pg_try_advisory_lock(${instanceLockKey}::bigint) as took`);
  return row?.took === true;
}

const lockRows = sql`l.locktype = 'advisory' and l.granted and l.classid = 0 and l.objid = ${instanceLockKey} and l.objsubid = 1
  and l.database = (select oid from pg_database where datname = current_database())`;

async function holdsLock(db: PostgresJsDatabase): Promise<boolean> {
  const [row] = await db.execute<{ held: boolean }>(
    sql`select exists (select 1 from pg_locks l where ${lockRows} and l.pid = pg_backend_pid()) as held`,
  );
  return row?.held === true;
}

async function readHolder(db: PostgresJsDatabase): Promise<InstanceHolder | undefined> {
  const [row] = await db.execute<{
    backend_pid: number;
    instance_id: string | null;
    host: string | null;
    pid: number | null;
    since_ms: number | null;
  }>(sql`
    select l.pid as backend_pid, i.instance_id, i.host, i.pid, (extract(epoch from i.since) * 1000)::float8 as since_ms
    from pg_locks l
    left join ${botInstances} i on i.lock_key = ${instanceLockKey} and i.backend_pid = l.pid
    where ${lockRows}
    limit 1`);
  if (!row) return undefined;
  return {
    backendPid: row.backend_pid,
    ...(row.instance_id !== null ? { instanceId: row.instance_id } : {}),
    ...(row.host !== null ? { host: row.host } : {}),
    ...(row.pid !== null ? { pid: row.pid } : {}),
    ...(row.since_ms !== null ? { since: new Date(row.since_ms) } : {}),
  };
}

function describeHolder(holder: InstanceHolder): string {
  if (holder.host === undefined) return `процесс не назвал себя (сессия PostgreSQL ${holder.backendPid})`;
  const since = holder.since ? `, работает с ${holder.since.toISOString().replace('T', ' ').slice(0, 19)} UTC` : '';
  return `хост ${holder.host}, pid ${holder.pid ?? '?'}${since}`;
}
