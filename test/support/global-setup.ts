import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/db/embedded-postgres.js';
import { createLogger } from '../../src/logger.js';
import { fetchNewerGlibc, glibcOlderThan, systemGlibcVersion } from '../../src/services/newer-glibc.js';
import { readSampleKnowledgeBase } from './knowledge-base.js';
import { createTinyModel, type TinyModel } from './tiny-model.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL server for the suite: each test file makes its own database on it. */
    postgresUrl: string;
    /** A tiny embedding model over the sample knowledge base's words: what EMBEDDING_MODEL holds in tests. */
    tinyModelPath: string;
  }
}

let server: EmbeddedPostgresHandle | undefined;
let dataDir: string | undefined;
let tinyModel: TinyModel | undefined;

/** One real PostgreSQL for the whole suite, unless TEST_DATABASE_URL names one. */
export async function setup(project: TestProject): Promise<void> {
  await fetchGlibcForChroma();
  tinyModel = await createTinyModel({ texts: await readSampleKnowledgeBase(), kind: 'one-hot', name: 'tiny-bot-model' });
  project.provide('tinyModelPath', tinyModel.path);
  if (process.env.TEST_DATABASE_URL) {
    project.provide('postgresUrl', process.env.TEST_DATABASE_URL);
    return;
  }
  dataDir = await mkdtemp(path.join(tmpdir(), 'bot-test-pg-'));
  server = await startEmbeddedPostgres(dataDir, createLogger({ level: 'warn', pretty: false }));
  project.provide('postgresUrl', server.url);
}

/**
 * Where the system glibc is too old for Chroma's server (Debian 12), the glibc the bot would fetch on
 * its first start is fetched once here, into the project's `.cache/glibc` that the bot looks in too:
 * otherwise every test file's bot would fetch its own.
 */
async function fetchGlibcForChroma(): Promise<void> {
  if (!glibcOlderThan(systemGlibcVersion())) return;
  await fetchNewerGlibc(path.resolve('.cache/glibc'), { progress: (line) => console.log(`test set-up: ${line}`) });
}

export async function teardown(): Promise<void> {
  await tinyModel?.cleanup();
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
