import { execFile } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedderInWorker } from '../../../src/services/knowledge-base/embedding-thread.js';
import { EmbeddingModelLoadError, type Embedder } from '../../../src/services/knowledge-base/embeddings.js';
import { silentLogger } from '../../support/database.js';
import { readSampleKnowledgeBase } from '../../support/knowledge-base.js';
import { createTinyModel, type TinyModel } from '../../support/tiny-model.js';

let model: TinyModel;
let inWorker: Embedder;
let texts: string[];

beforeAll(async () => {
  const documents = await readSampleKnowledgeBase();
  model = await createTinyModel({ texts: documents, kind: 'random', dimension: 384 });
  texts = documents
    .flatMap((doc) => doc.split(/\n\n+/))
    .filter((t) => t.trim().length > 40)
    .slice(0, 200);
  inWorker = await createEmbedderInWorker({ model: model.path, modelsDir: '/nonexistent', logger: silentLogger });
});
afterAll(async () => {
  await inWorker?.dispose();
  await model?.cleanup();
});

describe('the embedder in its own thread', () => {
  it('embeds passages and queries with the model', async () => {
    const [passage] = await inWorker.embedPassages(texts.slice(0, 1));
    expect(passage).toHaveLength(384);
    expect(Math.hypot(...passage!)).toBeCloseTo(1, 5);
    expect(await inWorker.embedQuery('тариф Бизнес')).toHaveLength(384);
  });

  it('keeps the main event loop free while it embeds', async () => {
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    await Promise.all([inWorker.embedPassages(texts), ...texts.slice(0, 50).map((t) => inWorker.embedQuery(t))]);
    delay.disable();
    const p99 = delay.percentile(99) / 1e6;
    console.log(`event-loop delay p99 while the worker embedded ${texts.length} passages and 50 queries: ${p99.toFixed(1)} ms`);
    expect(p99).toBeLessThan(30);
    expect(inWorker.stats().passagesEmbedded).toBeGreaterThanOrEqual(texts.length);
  });

  it('reports a model that cannot load as a start-up error', async () => {
    await expect(
      createEmbedderInWorker({ model: '/nonexistent/model', modelsDir: '/nonexistent', logger: silentLogger }),
    ).rejects.toBeInstanceOf(EmbeddingModelLoadError);
  });

  it('can be started and stopped again and again in one process without corrupting memory', async () => {
    // onnxruntime-node 1.21 aborted the process ("free(): invalid pointer") within two or three such cycles.
    const script = fileURLToPath(new URL('../../support/embedding-thread-cycles.ts', import.meta.url));
    const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, model.path, '6'], {
      timeout: 50_000,
    }).catch((error: { code?: number; signal?: string; stderr?: string }) => error);
    expect(run, JSON.stringify(run).slice(0, 500)).toMatchObject({ stdout: '6 cycles\n' });
  });
});
