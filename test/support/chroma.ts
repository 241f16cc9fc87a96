import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmbeddedChroma, type EmbeddedChromaHandle } from '../../src/services/knowledge-base/chroma-server.js';
import { createLogger } from '../../src/logger.js';

/** A real Chroma server of a test file's own, on a fixed port for its whole life. */
export interface TestChroma {
  readonly url: string;
  /** SIGINT: the server goes down, its data stays. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

/**
 * Starts Chroma the way the bot does (the chromadb package's own server; under the newer glibc in
 * `.cache/glibc`, fetched by the global set-up, where the system's is too old). Takes about a second.
 */
export async function startTestChroma(): Promise<TestChroma> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bot-test-chroma-'));
  // Silent unless asked: tests kill the server on purpose, and its 'exited unexpectedly' is expected.
  const logger = createLogger({ level: process.env.TEST_CHROMA_LOG === '1' ? 'debug' : 'silent', pretty: false });
  const options = {};
  let server: EmbeddedChromaHandle | undefined = await startEmbeddedChroma(dataDir, logger, options);
  const port = Number(new URL(server.url).port);

  const stop = async () => {
    await server?.stop();
    server = undefined;
  };
  return {
    url: server.url,
    stop,
    kill: async () => {
      if (!server) return;
      const { pid } = server;
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(20);
      server = undefined;
    },
    restart: async () => {
      await stop();
      server = await startEmbeddedChroma(dataDir, logger, { ...options, port });
    },
    dispose: async () => {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
