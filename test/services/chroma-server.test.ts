import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartupError } from '../../src/errors.js';
import { startEmbeddedChroma } from '../../src/services/chroma-server.js';
import { silentLogger } from '../support/database.js';

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'embedded-chroma-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const glibcOptions = process.env.CHROMA_GLIBC_DIR ? { glibcDir: process.env.CHROMA_GLIBC_DIR } : {};

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

  it.runIf(systemGlibcTooOld)('explains that the system glibc is too old when no newer one is at hand', async () => {
    const error = await startEmbeddedChroma(dataDir, silentLogger, { glibcDir: '/nonexistent-glibc' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    const message = (error as Error).message;
    expect(message).toContain('не может работать на этой системе');
    expect(message).toContain('glibc 2.39');
    expect(message).toContain('scripts/fetch-chroma-glibc.sh');
    expect(message).toContain('CHROMA_URL');
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
