import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { env, pipeline } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartupError } from '../../../src/errors.js';
import {
  createEmbedder,
  EmbeddingModelLoadError,
  poolAndNormalize,
  poolingForModel,
  prefixesForModel,
  resolveModelSource,
  type Embedder,
} from '../../../src/services/knowledge-base/embeddings.js';
import { createTinyModel, type TinyModel } from '../../support/tiny-model.js';
import { silentLogger } from '../../support/database.js';
import { readSampleKnowledgeBase } from '../../support/knowledge-base.js';

const TEST_WORDS = 'ёлка елка мой мои тариф тарифы бизнес старт цена скидка';

let model: TinyModel;
let embedder: Embedder;
let sampleTexts: string[];

beforeAll(async () => {
  sampleTexts = await readSampleKnowledgeBase();
  // The real model's shape (384 random dimensions), so the timings below mean something.
  model = await createTinyModel({ texts: [...sampleTexts, TEST_WORDS], kind: 'random' });
  embedder = await createEmbedder({ model: model.path, modelsDir: '/nonexistent', logger: silentLogger });
});

afterAll(async () => {
  await embedder?.dispose();
  await model?.cleanup();
});

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);

describe('a local model folder', () => {
  it('loads offline through the real loader and reports its dimension', () => {
    expect(env.allowRemoteModels).toBe(false);
    expect(embedder.dimension).toBe(model.dimension);
    expect(embedder.modelId).toBe(model.path);
    expect(embedder.prefixes).toEqual({ query: '', passage: '' });
  });

  it('returns unit-length vectors', async () => {
    const vector = await embedder.embedQuery('Сколько стоит тариф «Бизнес» при оплате за год?');
    expect(vector).toHaveLength(model.dimension);
    expect(Math.sqrt(dot(vector, vector))).toBeCloseTo(1, 4);
  });

  it('pools exactly as transformers.js’s own mean pooling and normalisation do', async () => {
    const texts = ['Сколько стоит тариф «Бизнес»?', 'Короткий текст', 'Длинный текст про скидки при оплате за год и за полгода'];
    const reference = await pipeline('feature-extraction', model.path, { dtype: 'fp32', local_files_only: true });
    const expected = (await reference(texts, { pooling: 'mean', normalize: true })).tolist() as number[][];
    await reference.dispose();
    const actual = await embedder.embedPassages(texts);
    actual.forEach((vector, i) => vector.forEach((value, j) => expect(value).toBeCloseTo(expected[i]![j]!, 5)));
  });

  it('keeps й and ё apart from и and е', async () => {
    const [yolka, yelka, moy, moi] = await Promise.all(['ёлка', 'елка', 'мой', 'мои'].map((t) => embedder.embedQuery(t)));
    expect(dot(yolka!, yelka!)).toBeLessThan(0.5);
    expect(dot(moy!, moi!)).toBeLessThan(0.5);
    expect(dot(yolka!, await embedder.embedQuery('Ёлка'))).toBeCloseTo(1, 5);
  });

  it('batches concurrent queries into one inference call', async () => {
    const questions = Array.from({ length: 20 }, (_, i) => `вопрос ${i}: цена тарифа и скидка`);
    const before = embedder.stats().inferenceCalls;
    const vectors = await Promise.all(questions.map((q) => embedder.embedQuery(q)));
    expect(embedder.stats().inferenceCalls - before).toBe(1);
    // Batched (padded) and alone give the same vector.
    const alone = await embedder.embedQuery(questions[7]!);
    expect(dot(alone, vectors[7]!)).toBeCloseTo(1, 5);
  });

  it('embeds passages in slices and gives queries priority', async () => {
    const passages = sampleTexts.flatMap((text) => text.split(/\n\s*\n/)).slice(0, 40);
    const ingestion = embedder.embedPassages(passages);
    const query = embedder.embedQuery('тариф старт');
    let ingestionDone = false;
    void ingestion.then(() => (ingestionDone = true));
    await query;
    expect(ingestionDone).toBe(false);
    expect(await ingestion).toHaveLength(passages.length);
  });

  it('does not stall the event loop while embedding', async () => {
    const passages = sampleTexts.flatMap((text) => text.split(/\n\s*\n/));
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const started = performance.now();
    await Promise.all([
      embedder.embedPassages(passages),
      ...Array.from({ length: 50 }, (_, i) => embedder.embedQuery(`вопрос номер ${i} про тариф`)),
    ]);
    histogram.disable();
    const p99 = histogram.percentile(99) / 1e6;
    console.log(
      `event-loop delay while embedding ${passages.length} passages + 50 queries in ` +
        `${(performance.now() - started).toFixed(0)} ms: p50 ${(histogram.percentile(50) / 1e6).toFixed(1)} ms, ` +
        `p99 ${p99.toFixed(1)} ms, max ${(histogram.max / 1e6).toFixed(1)} ms`,
    );
    expect(p99).toBeLessThan(100);
  });

  it('refuses a folder that does not exist, naming it', async () => {
    const error = await createEmbedder({ model: '/nowhere/model', modelsDir: '/tmp', logger: silentLogger }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EmbeddingModelLoadError);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toContain('/nowhere/model');
  });
});

describe('model families and sources', () => {
  it('pools by family: [CLS] for BGE and LaBSE, the mean for the rest', () => {
    expect(poolingForModel('Xenova/bge-m3')).toBe('cls');
    expect(poolingForModel('Xenova/LaBSE')).toBe('cls');
    expect(poolingForModel('Xenova/multilingual-e5-small')).toBe('mean');
    expect(poolingForModel('/tmp/tiny-bow')).toBe('mean');
  });

  it('means over unmasked tokens only, or takes the first token, then normalises', () => {
    // batch 2 × sequence 2 × dimension 2; the second text's second token is padding.
    const hidden = Float32Array.from([1, 0, 0, 1, 3, 4, 100, 100]);
    const rounded = (vectors: number[][]) => vectors.map((v) => v.map((x) => Number(x.toFixed(6))));
    expect(rounded(poolAndNormalize(hidden, [2, 2, 2], [1, 1, 1, 0], 'mean'))).toEqual([
      [0.707107, 0.707107],
      [0.6, 0.8],
    ]);
    expect(rounded(poolAndNormalize(hidden, [2, 2, 2], [1, 1, 1, 0], 'cls'))).toEqual([
      [1, 0],
      [0.6, 0.8],
    ]);
  });

  it('applies the e5 prefixes only to e5 models', () => {
    expect(prefixesForModel('Xenova/multilingual-e5-small')).toEqual({ query: 'query: ', passage: 'passage: ' });
    expect(prefixesForModel('/srv/models/multilingual-e5-base')).toEqual({ query: 'query: ', passage: 'passage: ' });
    expect(prefixesForModel('intfloat/multilingual-e5-large-instruct').passage).toBe('');
    expect(prefixesForModel('intfloat/multilingual-e5-large-instruct').query).toMatch(/^Instruct: .*\nQuery: $/s);
    expect(prefixesForModel('nomic-ai/nomic-embed-text-v1.5')).toEqual({ query: 'search_query: ', passage: 'search_document: ' });
    expect(prefixesForModel('Xenova/bge-m3')).toEqual({ query: '', passage: '' });
    expect(prefixesForModel('Xenova/paraphrase-multilingual-MiniLM-L12-v2')).toEqual({ query: '', passage: '' });
    expect(prefixesForModel('/tmp/tiny-bow')).toEqual({ query: '', passage: '' });
  });

  it('treats a path as local and anything else as a hub id', () => {
    expect(resolveModelSource('/srv/model', '/data/models')).toEqual({ kind: 'local', path: '/srv/model' });
    expect(resolveModelSource('./model', '/data/models')).toEqual({ kind: 'local', path: path.resolve('model') });
    expect(resolveModelSource('Xenova/multilingual-e5-small', './data/models')).toEqual({
      kind: 'hub',
      id: 'Xenova/multilingual-e5-small',
      cacheDir: path.resolve('data/models'),
    });
  });
});

describe('a hub model id', () => {
  let modelsDir: string;
  beforeAll(async () => {
    modelsDir = await mkdtemp(path.join(tmpdir(), 'models-'));
  });
  afterAll(async () => {
    await rm(modelsDir, { recursive: true, force: true });
  });

  it('is downloaded once into MODELS_DIR, then loads from there with the hub gone', async () => {
    const hub = await serveModelFolder(model.path, 'test-org/tiny-e5-small');
    let downloaded: Embedder;
    try {
      downloaded = await createEmbedder({
        model: 'test-org/tiny-e5-small',
        modelsDir,
        logger: silentLogger,
        remoteHost: hub.url,
      });
    } finally {
      await hub.close();
    }
    expect(env.allowRemoteModels).toBe(true);
    expect(env.cacheDir).toBe(modelsDir);
    expect(hub.requests.some((r) => r.endsWith('/onnx/model.onnx'))).toBe(true);
    expect(existsSync(path.join(modelsDir, 'test-org/tiny-e5-small/onnx/model.onnx'))).toBe(true);
    expect(downloaded.prefixes).toEqual({ query: 'query: ', passage: 'passage: ' });
    await downloaded.dispose();

    const cached = await createEmbedder({
      model: 'test-org/tiny-e5-small',
      modelsDir,
      logger: silentLogger,
      remoteHost: hub.url,
    });
    expect(cached.dimension).toBe(model.dimension);
    await cached.dispose();
  });

  it('fails with a clear message when the hub cannot be reached', async () => {
    const closedPort = await freePort();
    const error = await createEmbedder({
      model: 'Xenova/multilingual-e5-small',
      modelsDir,
      logger: silentLogger,
      remoteHost: `http://127.0.0.1:${closedPort}/`,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingModelLoadError);
    const message = (error as Error).message;
    expect(message).toContain('Xenova/multilingual-e5-small');
    expect(message).toContain('нет связи');
    expect(message).toContain('EMBEDDING_MODEL');
    expect(message).toContain(modelsDir);
  });
});

/** A loopback stand-in for the hub: `/{id}/resolve/main/{file}` from a local folder. */
async function serveModelFolder(folder: string, id: string) {
  const requests: string[] = [];
  const files = new Set(await listFiles(folder));
  const server = http.createServer((request, response) => {
    const url = decodeURIComponent(request.url ?? '');
    requests.push(url);
    const prefix = `/${id}/resolve/main/`;
    const file = url.startsWith(prefix) ? url.slice(prefix.length) : '';
    if (!files.has(file)) {
      response.writeHead(404).end();
      return;
    }
    readFile(path.join(folder, file)).then(
      (body) => response.writeHead(200, { 'content-length': body.length }).end(body),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function listFiles(folder: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(path.join(folder, prefix), { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory() ? listFiles(folder, path.join(prefix, entry.name)) : Promise.resolve([path.join(prefix, entry.name)]),
    ),
  );
  return nested.flat();
}

function freePort(): Promise<number> {
  const server = http.createServer();
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    }),
  );
}
