import { fileURLToPath } from 'node:url';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Logger } from '../logger.js';
import { StartupError } from '../errors.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import * as schema from './schema.js';

export type Database = PostgresJsDatabase<typeof schema>;

/**
 * The postgres.js client under a database opened by `connect`, for the few statements drizzle
 * cannot prepare (a data-modifying CTE). A transaction's database has none: such statements run outside one.
 */
export function postgresClientOf(db: Database): postgres.Sql {
  const client = (db as Database & { readonly $client?: postgres.Sql }).$client;
  if (!client) throw new Error('this database handle has no postgres.js client (a transaction?)');
  return client;
}

export interface DatabaseHandle {
  readonly db: Database;
  /** Where the data lives, for the start-up line: never contains the password. */
  readonly description: string;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** Opens DATABASE_URL, or starts the embedded PostgreSQL when it is unset; then applies migrations. */
export async function openDatabase(
  options: { readonly databaseUrl: string | undefined; readonly dataDir: string; readonly databasePoolSize?: number },
  logger: Logger,
): Promise<DatabaseHandle> {
  const embedded = options.databaseUrl ? undefined : await startEmbeddedPostgres(options.dataDir, logger);
  const url = options.databaseUrl ?? embedded!.url;
  try {
    const handle = await connect(url, logger, options.databasePoolSize);
    await applyMigrations(handle.db, url, logger);
    return {
      ...handle,
      description: embedded ? `embedded (${options.dataDir})` : describeUrl(url),
      close: async () => {
        await handle.close();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

/** Connects to a PostgreSQL URL and proves the connection with one query. */
export async function connect(url: string, logger: Logger, poolSize = 10): Promise<Omit<DatabaseHandle, 'description'>> {
  const sql = postgres(url, {
    max: poolSize,
    connect_timeout: 10,
    // postgres.js waits up to 20 s before reconnecting after failed connects (the count is shared by
    // the pool), and queries queued on such a connection wait with it: a 2-second restart left turns
    // unanswered for 10–17 s. Our callers retry an outage themselves; reconnect within a second.
    backoff: reconnectDelaySeconds,
    onnotice: (notice) => logger.debug({ notice: notice.message }, 'postgres notice'),
  });
  try {
    await sql`select 1`;
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw new StartupError(explainConnectFailure(url, error), 1, { cause: error });
  }
  return {
    db: drizzle(sql, { schema }),
    ping: async () => {
      try {
        await sql`select 1`;
        return true;
      } catch {
        return false;
      }
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

/** 50 ms, 100 ms, 200 ms … at most 1 s after the `failures`-th failed connect, with jitter. */
export function reconnectDelaySeconds(failures: number): number {
  return Math.min(0.05 * 2 ** failures, 1) * (0.5 + Math.random() / 2);
}

async function applyMigrations(db: Database, url: string, logger: Logger): Promise<void> {
  try {
    await migrate(db, { migrationsFolder });
  } catch (error) {
    throw new StartupError(`Не удалось применить миграции к базе ${describeUrl(url)}: ${(error as Error).message}`, 1, {
      cause: error,
    });
  }
  logger.debug('database migrations are up to date');
}

function explainConnectFailure(url: string, error: unknown): string {
  const where = describeUrl(url);
  const code = (error as { code?: string }).code ?? '';
  const reason = (error as Error).message ?? String(error);
  switch (code) {
    case 'ECONNREFUSED':
      return `PostgreSQL по адресу ${where} не принимает подключения. Проверьте, что сервер запущен и DATABASE_URL верна.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `Хост PostgreSQL из DATABASE_URL не найден (${where}). Проверьте имя хоста.`;
    case 'CONNECT_TIMEOUT':
      return `PostgreSQL по адресу ${where} не ответил за 10 секунд. Проверьте сеть и DATABASE_URL.`;
    case '28P01':
    case '28000':
      return `PostgreSQL по адресу ${where} отклонил пользователя или пароль. Проверьте DATABASE_URL.`;
    case '3D000':
      return `Базы из DATABASE_URL нет на сервере ${where}. Создайте её или исправьте имя.`;
    default:
      return `Не удалось подключиться к PostgreSQL ${where}: ${reason}`;
  }
}

/** host:port/database, without user and password. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return '(неверный адрес)';
  }
}
