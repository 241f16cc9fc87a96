import { hostname } from 'node:os';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StartupError } from '../../src/errors.js';
import {
  InstanceLock,
  instanceLockKey,
  type InstanceLockLostError,
  type InstanceLockOptions,
} from '../../src/db/instance-lock.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/database.js';
import { captureLogs } from '../support/log-capture.js';

let database: TestDatabase;
/** A connection of the test's own: what another process (or an operator) does to the lock. */
let other: postgres.Sql;
const locks: InstanceLock[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  other = postgres(database.url, { max: 2, onnotice: () => undefined });
});
afterEach(async () => {
  for (const lock of locks.splice(0)) await lock.release();
});
afterAll(async () => {
  await other.end();
  await database.drop();
});

const fast = { checkIntervalMs: 100, retakeIntervalMs: 50, graceMs: 0 } as const;

async function acquire(options: Partial<InstanceLockOptions> = {}): Promise<InstanceLock> {
  const lock = await InstanceLock.acquire(database.db, {
    logger: silentLogger,
    databaseDescription: 'test',
    onLost: () => undefined,
    ...fast,
    ...options,
  });
  locks.push(lock);
  return lock;
}

/** The PostgreSQL sessions holding the lock now. */
async function holders(): Promise<number[]> {
  const rows = await other<{ pid: number }[]>`
    select pid from pg_locks where locktype = 'advisory' and granted and classid = 0 and objid = ${instanceLockKey} and objsubid = 1
      and database = (select oid from pg_database where datname = current_database())`;
  return rows.map((row) => row.pid);
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the instance lock', () => {
  it('is held by one session of its own, which records who holds it', async () => {
    await acquire();
    const [backendPid] = await holders();
    expect(backendPid).toBeDefined();
    const [row] = await other<
      { host: string; pid: number; backend_pid: number }[]
    >`select host, pid, backend_pid from bot_instances`;
    expect(row).toEqual({ host: hostname(), pid: process.pid, backend_pid: backendPid });
  });

  it('refuses a second taker, naming the holder and its session', async () => {
    await acquire();
    const [backendPid] = await holders();
    const refused = await acquire().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(StartupError);
    const { message, exitCode } = refused as StartupError;
    expect(exitCode).toBe(1);
    expect(message).toContain(`хост ${hostname()}, pid ${process.pid}, работает с `);
    expect(message).toContain(`pg_terminate_backend(${backendPid})`);
  });

  it('is taken again on a new connection when its session is killed', async () => {
    const { logger, records } = captureLogs();
    await acquire({ logger });
    const [before] = await holders();
    await other`select pg_terminate_backend(${before!})`;
    const after = await eventually(async () => (await holders()).find((pid) => pid !== before));
    // The lock is taken first and the holder recorded right after it: wait for the record.
    const row = await eventually(async () => {
      const [recorded] = await other<{ backend_pid: number }[]>`select backend_pid from bot_instances`;
      return recorded?.backend_pid === before ? undefined : recorded;
    });
    expect(row.backend_pid).toBe(after);
    await eventually(async () => (records().some((r) => r.msg === 'instance lock taken again') ? true : undefined));
    expect(records().map((r) => r.msg)).toContain('instance lock taken again');
  });

  it('reports the loss when another process took the lock while the connection was down', async () => {
    let lost: InstanceLockLostError | undefined;
    await acquire({ onLost: (error) => (lost = error) });
    const [victim] = await holders();
    // The other process waits in the lock's queue, so it is granted the moment the session ends.
    const taker = await other.reserve();
    const takerPid = (await taker<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid;
    const granted = taker`select pg_advisory_lock(${instanceLockKey}::bigint)`.execute();
    await eventually(async () =>
      (await other`select 1 from pg_locks where pid = ${takerPid} and not granted`).length > 0 ? true : undefined,
    );
    await other`select pg_terminate_backend(${victim!})`;
    await granted;
    await eventually(async () => lost);
    expect(lost!.holder.backendPid).toBe(takerPid);
    expect(lost!.message).toContain('её взял другой процесс');
    await taker`select pg_advisory_unlock_all()`;
    taker.release();
  });

  it('is free for the next process once released', async () => {
    const lock = await acquire();
    await lock.release();
    locks.splice(locks.indexOf(lock), 1);
    expect(await holders()).toEqual([]);
    await acquire();
    expect(await holders()).toHaveLength(1);
  });
});
