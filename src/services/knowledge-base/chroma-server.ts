import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:fs';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePort, runningPidFrom } from '../../child-servers.js';
import { StartupError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import {
  chromaMinimumGlibc,
  fetchNewerGlibc,
  findNewerGlibc,
  glibcOlderThan,
  NewerGlibcUnavailableError,
  systemGlibcVersion,
  type FetchOptions,
  type NewerGlibc,
} from '../newer-glibc.js';

/** A running embedded Chroma server. */
export interface EmbeddedChromaHandle {
  readonly url: string;
  readonly pid: number;
  /** Stops the server with SIGINT (SIGKILL after a timeout). Never SIGTERM: see ChromaProcess.stop. */
  stop(): Promise<void>;
}

export interface EmbeddedChromaOptions {
  /** A free port when absent. */
  readonly port?: number;
  /** The `chroma` CLI of the chromadb package when absent. */
  readonly cliPath?: string;
  /**
   * Where a newer glibc is kept for the server (its native bindings need glibc ≥ 2.39; Debian 12 has
   * 2.36): fetched there on first need, reused afterwards. Default: `.cache/glibc` in the project, or
   * `DATA_DIR/glibc` where the project folder is read-only (the Docker image).
   */
  readonly glibcDir?: string;
  /** How the newer glibc is fetched (apt's configuration, the progress line). */
  readonly glibcFetch?: Omit<FetchOptions, 'progress'>;
  readonly startTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
}

const DOCKER_HINT =
  'Укажите CHROMA_URL на отдельный сервер Chroma, например запустите официальный образ: ' +
  '`docker run -d -p 8000:8000 -v chroma-data:/data chromadb/chroma` и задайте CHROMA_URL=http://localhost:8000.';

/**
 * Starts the Chroma server that ships with the `chromadb` package (`chroma run`) as a child process,
 * with its data in `dataDir/chroma`. Used when CHROMA_URL is unset. Where the server cannot run on
 * this system, throws a StartupError that says so and how to use an external Chroma instead.
 */
export async function startEmbeddedChroma(
  dataDir: string,
  logger: Logger,
  options: EmbeddedChromaOptions = {},
): Promise<EmbeddedChromaHandle> {
  const cliPath = options.cliPath ?? defaultCliPath();
  if (!existsSync(cliPath)) {
    throw new StartupError(
      `Встроенная Chroma не может запуститься: не найден её сервер (${cliPath}). ` +
        `Проверьте, что зависимости установлены (npm ci). ${DOCKER_HINT}`,
    );
  }
  const chromaDir = path.join(dataDir, 'chroma');
  await mkdir(chromaDir, { recursive: true });
  const pidFile = path.join(dataDir, 'chroma.pid');
  await refuseIfAlreadyRunning(pidFile, chromaDir);
  const port = options.port ?? (await findFreePort());
  const launch: ServerLaunch = { cliPath, chromaDir, port, startTimeoutMs: options.startTimeoutMs ?? 60_000 };

  const underNewerGlibc = async () => {
    const glibc = await newerGlibcForChroma(dataDir, options, logger);
    logger.info({ glibcDir: glibc.dir }, 'the system glibc is too old for Chroma: starting it under the newer glibc');
    return launchServer(loaderCommand(launch, glibc), launch, logger);
  };
  // Where the system glibc is known to be too old, the plain start is not even tried.
  let server = glibcOlderThan(systemGlibcVersion())
    ? await underNewerGlibc()
    : await launchServer(plainCommand(launch), launch, logger);
  if (server.kind === 'failed' && needsNewerGlibc(server.log) && !glibcOlderThan(systemGlibcVersion()))
    server = await underNewerGlibc();
  if (server.kind === 'failed') throw new StartupError(explainFailure(chromaDir, port, server.log), 1);

  const running = server.server;
  await writeFile(pidFile, `${running.pid}\n`);
  logger.info({ chromaDir, port, pid: running.pid }, 'embedded Chroma started');
  return {
    url: `http://127.0.0.1:${port}`,
    pid: running.pid,
    stop: async () => {
      await running.stop(options.stopTimeoutMs ?? 10_000);
      await rm(pidFile, { force: true });
      logger.info('embedded Chroma stopped');
    },
  };
}

interface ServerLaunch {
  readonly cliPath: string;
  readonly chromaDir: string;
  readonly port: number;
  readonly startTimeoutMs: number;
}

interface Command {
  readonly file: string;
  readonly args: readonly string[];
}

type LaunchResult =
  { readonly kind: 'ready'; readonly server: ChromaProcess } | { readonly kind: 'failed'; readonly log: string };

function serverArgs(launch: ServerLaunch): string[] {
  return [launch.cliPath, 'run', '--path', launch.chromaDir, '--host', '127.0.0.1', '--port', String(launch.port)];
}

function plainCommand(launch: ServerLaunch): Command {
  return { file: process.execPath, args: serverArgs(launch) };
}

/** Node itself, run by the newer glibc's loader with that glibc's libraries. */
function loaderCommand(launch: ServerLaunch, glibc: NewerGlibc): Command {
  return { file: glibc.loader, args: ['--library-path', glibc.libraryPath, process.execPath, ...serverArgs(launch)] };
}

/**
 * A newer glibc already at hand (the project's `.cache/glibc`, then `DATA_DIR/glibc`), or fetched
 * now into the first of them that can be written. Where no glibc can be fetched, the start stops
 * with a message that says why and how to use an external Chroma.
 */
async function newerGlibcForChroma(dataDir: string, options: EmbeddedChromaOptions, logger: Logger): Promise<NewerGlibc> {
  const projectCache = path.join(projectRoot(), '.cache', 'glibc');
  const candidates = options.glibcDir ? [options.glibcDir] : [projectCache, path.join(dataDir, 'glibc')];
  for (const dir of candidates) {
    const found = findNewerGlibc(dir);
    if (found) return found;
  }
  const target =
    options.glibcDir ?? ((await canWriteInto(path.dirname(projectCache))) ? projectCache : path.join(dataDir, 'glibc'));
  try {
    return await fetchNewerGlibc(target, { ...options.glibcFetch, progress: (line) => logger.info(`Chroma: ${line}`) });
  } catch (error) {
    if (!(error instanceof NewerGlibcUnavailableError)) throw error;
    throw new StartupError(explainOldGlibc(error.message), 1, { cause: error });
  }
}

async function canWriteInto(dir: string): Promise<boolean> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Spawns the server and waits for its heartbeat, or for it to die. */
async function launchServer(command: Command, launch: ServerLaunch, logger: Logger): Promise<LaunchResult> {
  const server = new ChromaProcess(command, logger);
  const deadline = Date.now() + launch.startTimeoutMs;
  while (!server.exited && Date.now() < deadline) {
    if (await heartbeat(launch.port)) {
      server.markReady();
      return { kind: 'ready', server };
    }
    await sleep(100);
  }
  if (!server.exited) {
    server.log.push(`no heartbeat after ${launch.startTimeoutMs} ms`);
    await server.stop(5_000);
  }
  return { kind: 'failed', log: server.log.text() };
}

/** The server's child process: its output, its end, and how to stop it. */
class ChromaProcess {
  readonly log = new RecentLines(40);
  private readonly child: ChildProcess;
  private readonly exit: Promise<void>;
  private ready = false;
  private stopping = false;
  exited = false;

  constructor(command: Command, logger: Logger) {
    this.child = spawn(command.file, command.args, {
      // Its own process group: a Ctrl+C at the terminal reaches the bot, which stops Chroma last.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    // Should the bot exit without stopping it, the server goes too.
    const onParentExit = () => this.child.kill('SIGINT');
    process.once('exit', onParentExit);
    this.child.stdout?.on('data', (chunk: Buffer) => this.log.add(chunk, (line) => logger.trace({ chroma: line }, 'chroma')));
    this.child.stderr?.on('data', (chunk: Buffer) => this.log.add(chunk, (line) => logger.debug({ chroma: line }, 'chroma')));
    this.child.once('error', (error) => this.log.push(`spawn error: ${error.message}`));
    this.exit = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exited = true;
        process.removeListener('exit', onParentExit);
        if (this.ready && !this.stopping) {
          logger.error({ code, signal, log: this.log.tail(10) }, 'embedded Chroma exited unexpectedly');
        }
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  markReady(): void {
    this.ready = true;
  }

  /**
   * SIGINT, then SIGKILL after `timeoutMs`. Never SIGTERM: on SIGTERM this server stops serving but
   * never exits, and spins a core.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    this.child.kill('SIGINT');
    const stopped = await Promise.race([this.exit.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!stopped) {
      this.child.kill('SIGKILL');
      await this.exit;
    }
  }
}

async function heartbeat(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/api/v2/heartbeat`, { signal: AbortSignal.timeout(1_000) });
    return response.ok;
  } catch {
    return false; // not listening yet
  }
}

function needsNewerGlibc(log: string): boolean {
  return /GLIBC_\d+\.\d+' not found|GLIBCXX_\d+\.\d+(\.\d+)?' not found/.test(log);
}

function explainOldGlibc(reason: string): string {
  return (
    `Встроенная Chroma не может работать на этой системе: её сервер требует glibc ${chromaMinimumGlibc} или новее, ` +
    `а здесь ${systemGlibcVersion() ?? 'более старая'}, и новую скачать не удалось: ${reason}. ` +
    `Используйте внешний сервер Chroma. ${DOCKER_HINT}`
  );
}

function explainFailure(chromaDir: string, port: number, log: string): string {
  const lastLines = log.trim().split('\n').slice(-8).join('\n');
  if (/address already in use/i.test(log)) {
    return `Встроенная Chroma не запустилась: порт ${port} занят. Запустите бота ещё раз. ${DOCKER_HINT}`;
  }
  return `Встроенная Chroma не запустилась (данные: ${chromaDir}). Журнал сервера:\n${lastLines || '(пусто)'}\n${DOCKER_HINT}`;
}

async function refuseIfAlreadyRunning(pidFile: string, chromaDir: string): Promise<void> {
  const pid = await runningPidFrom(pidFile);
  if (pid !== undefined) {
    throw new StartupError(
      `Встроенная Chroma уже запущена (процесс ${pid}) с данными в ${chromaDir}. ` +
        `Скорее всего, это прошлый запуск бота: остановите его (kill -INT ${pid}) или укажите другой DATA_DIR.`,
    );
  }
}

/** The CLI of the installed chromadb package (its exports hide it, so it is found from the main entry). */
function defaultCliPath(): string {
  const entry = createRequire(import.meta.url).resolve('chromadb');
  let dir = path.dirname(entry);
  while (path.basename(dir) !== 'chromadb' && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist', 'cli.mjs');
}

/** The folder whose node_modules holds chromadb. */
function projectRoot(): string {
  const packageDir = path.dirname(path.dirname(defaultCliPath()));
  return path.dirname(path.dirname(packageDir));
}

/** The last lines a child printed, without colour codes, for error messages. */
class RecentLines {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly limit: number) {}

  add(chunk: Buffer, each: (line: string) => void): void {
    const text = this.partial + chunk.toString('utf8');
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const raw of parts) {
      // eslint-disable-next-line no-control-regex
      const line = raw.replace(/\u001b\[[0-9;]*m/g, '').trimEnd();
      if (line.trim() === '') continue;
      this.push(line);
      each(line);
    }
  }

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.limit) this.lines.shift();
  }

  text(): string {
    return [...this.lines, this.partial].join('\n');
  }

  tail(count: number): string {
    return [...this.lines.slice(-count), this.partial].join('\n').trim();
  }
}
