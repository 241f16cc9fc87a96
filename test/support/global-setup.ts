import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/db/embedded-postgres.js';
import { createLogger } from '../../src/logger.js';
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

export async function teardown(): Promise<void> {
  await tinyModel?.cleanup();
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
