import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TelegramFake } from './telegram-fake.js';

const root = path.resolve(import.meta.dirname, '../..');

export interface BotProcess {
  readonly child: ChildProcess;
  /** Everything the process printed (JSON log lines and stderr). */
  output(): string;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited(): Promise<number | null>;
}

export interface BotProcessOptions {
  readonly env: Record<string, string>;
  /** `tsx src/main.ts` (default) or the production build `node dist/main.js`. */
  readonly entry?: 'source' | 'build';
  /**
   * Also wait until the knowledge base's indexing at start has ended (it runs beside polling), so a
   * test's first turn finds the passages. Default true; false to watch the bot poll while it indexes.
   */
  readonly waitForIndex?: boolean;
  /** Options for node itself, before the entry (`--cpu-prof`, say: NODE_OPTIONS refuses it). */
  readonly nodeArgs?: readonly string[];
}

/** The one line the bot logs when indexing at start has ended, whatever the outcome. */
export const indexingEnded = /"msg":"knowledge base (indexed|not indexed|indexing failed)/;

/**
 * The real bot as a separate process, configured only through its environment, not waited for: a
 * test that expects it to refuse to start reads its exit code and output.
 */
export function spawnBotProcess(telegram: TelegramFake, options: BotProcessOptions): BotProcess {
  // One process either way: the tsx CLI would run the bot in a child of its own, which a SIGKILL
  // sent to the CLI leaves running.
  const args = [
    ...(options.nodeArgs ?? []),
    ...(options.entry === 'build' ? [path.join(root, 'dist/main.js')] : ['--import', 'tsx', path.join(root, 'src/main.ts')]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      NODE_ENV: 'production',
      LOG_LEVEL: 'debug',
      HEALTH_PORT: '0',
      TELEGRAM_API_ROOT: telegram.apiRoot,
      BOT_TOKEN: telegram.token,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited: () => exit,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exit;
    },
  };
}

/** The line the bot logs once it polls; its first getUpdates can reach Telegram before the line is written. */
const pollingStarted = /"msg":"bot is polling for updates"/;

/**
 * The real bot as a separate process, once it polls and has said so (and, unless told, once its
 * indexing at start has ended).
 */
export async function startBotProcess(telegram: TelegramFake, options: BotProcessOptions): Promise<BotProcess> {
  const pollsBefore = telegram.callsOf('getUpdates').length;
  const bot = spawnBotProcess(telegram, options);
  const polling = telegram.waitUntil(() => (telegram.callsOf('getUpdates').length > pollsBefore ? true : undefined), 30_000);
  const outcome = await Promise.race([polling.then(() => 'polling' as const), bot.exited().then(() => 'exited' as const)]);
  if (outcome === 'exited') throw new Error(`the bot exited during start-up:\n${bot.output()}`);
  await waitForOutput(bot, pollingStarted, 10_000);
  if (options.waitForIndex !== false) await waitForOutput(bot, indexingEnded, 60_000);
  return bot;
}

async function waitForOutput(bot: BotProcess, line: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!line.test(bot.output()) && bot.child.exitCode === null && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
}
