import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartupError } from '../../../src/errors.js';
import { startEmbeddedChroma } from '../../../src/services/knowledge-base/chroma-server.js';
import { createLogger, type Logger } from '../../../src/logger.js';
import { silentLogger } from '../../support/database.js';

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'embedded-chroma-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const glibcOptions = {};

function systemGlibc(): [number, number] | undefined {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  const match = /^(\d+)\.(\d+)/.exec(report.header?.glibcVersionRuntime ?? '');
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}
const glibc = systemGlibc();
const systemGlibcTooOld = glibc !== undefined && (glibc[0] < 2 || (glibc[0] === 2 && glibc[1] < 39));

describe('startEmbeddedChroma', () => {
  it('runs the chromadb package’s server with its data under DATA_DIR and stops it with SIGINT', async () => {
    const chroma = await startEmbeddedChroma(dataDir, silentLogger, glibcOptions);
    try {
      const heartbeat = await fetch(`${chroma.url}/api/v2/heartbeat`);
      expect(heartbeat.ok).toBe(true);
      expect(existsSync(path.join(dataDir, 'chroma'))).toBe(true);
      expect(existsSync(path.join(dataDir, 'chroma.pid'))).toBe(true);

      const second = await startEmbeddedChroma(dataDir, silentLogger, glibcOptions).catch((e: unknown) => e);
      expect(second).toBeInstanceOf(StartupError);
      expect((second as Error).message).toContain(`kill -INT ${chroma.pid}`);
    } finally {
      await chroma.stop();
    }
    expect(isAlive(chroma.pid)).toBe(false);
    expect(existsSync(path.join(dataDir, 'chroma.pid'))).toBe(false);
    await expect(fetch(`${chroma.url}/api/v2/heartbeat`)).rejects.toThrow();
  });

  it('says clearly that it cannot start, and how to use CHROMA_URL, when the server is missing', async () => {
    const error = await startEmbeddedChroma(dataDir, silentLogger, { cliPath: '/nonexistent/chromadb/dist/cli.mjs' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StartupError);
    const message = (error as Error).message;
    expect(message).toContain('Встроенная Chroma не может запуститься');
    expect(message).toContain('/nonexistent/chromadb/dist/cli.mjs');
    expect(message).toContain('CHROMA_URL');
    expect(message).toContain('chromadb/chroma');
  });

  it('quotes the server’s last words when it dies at start', async () => {
    const cliPath = path.join(dataDir, 'dying-server.mjs');
    await writeFile(cliPath, "console.error('bind: permission denied on the data folder'); process.exit(3);\n");
    const error = await startEmbeddedChroma(dataDir, silentLogger, { cliPath }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toContain('permission denied on the data folder');
    expect((error as Error).message).toContain('CHROMA_URL');
  });

  it.runIf(systemGlibcTooOld)('fetches a newer glibc on first start, says so in one line, and reuses it afterwards', async () => {
    const glibcDir = path.join(dataDir, 'fetched-glibc');
    const { logger, lines } = capturingLogger();
    const first = await startEmbeddedChroma(dataDir, logger, { glibcDir });
    await first.stop();
    expect(lines.filter((line) => line.includes('скачиваю glibc'))).toHaveLength(1);
    expect(existsSync(path.join(glibcDir, 'usr/lib/x86_64-linux-gnu/libc.so.6'))).toBe(true);

    const second = await startEmbeddedChroma(dataDir, logger, { glibcDir });
    expect((await fetch(`${second.url}/api/v2/heartbeat`)).ok).toBe(true);
    await second.stop();
    expect(lines.filter((line) => line.includes('скачиваю glibc'))).toHaveLength(1);
  });

  it.runIf(systemGlibcTooOld)('stops with a clear message when no newer glibc can be fetched', async () => {
    const noSources = await mkdtemp(path.join(tmpdir(), 'no-apt-sources-'));
    const error = await startEmbeddedChroma(dataDir, silentLogger, {
      glibcDir: path.join(dataDir, 'never-fetched'),
      glibcFetch: { aptDir: noSources },
    }).catch((e: unknown) => e);
    await rm(noSources, { recursive: true, force: true });
    expect(error).toBeInstanceOf(StartupError);
    const message = (error as Error).message;
    expect(message).toContain('не может работать на этой системе');
    expect(message).toContain('glibc 2.39');
    expect(message).toContain('в настройках apt не найден основной архив');
    expect(message).toContain('CHROMA_URL');
    expect(existsSync(path.join(dataDir, 'never-fetched'))).toBe(false);
  });
});

/** A logger whose messages are kept, to read what an operator would see. */
function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = { write: (line: string) => lines.push((JSON.parse(line) as { msg: string }).msg) };
  return { logger: createLogger({ level: 'info', destination }), lines };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
