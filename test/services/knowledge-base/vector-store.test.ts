import { ChromaClient } from 'chromadb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collectionNameFor,
  createVectorStore,
  VectorStoreUnavailableError,
  type ChunkToStore,
} from '../../../src/services/knowledge-base/vector-store.js';
import { startTestChroma, type TestChroma } from '../../support/chroma.js';
import { silentLogger } from '../../support/database.js';

const unit = (dimension: number, index: number) => Array.from({ length: dimension }, (_, i) => (i === index ? 1 : 0));
const chunk = (
  position: number,
  embedding: number[],
  text = `фрагмент ${position}`,
  audience: ChunkToStore['audience'] = 'public',
): ChunkToStore => ({
  text,
  headingPath: ['Тарифы', `Раздел ${position}`],
  position,
  audience,
  embedding,
});

describe('collectionNameFor', () => {
  it('derives one valid collection name per model', () => {
    expect(collectionNameFor('Xenova/multilingual-e5-small')).toBe('kb__xenova_multilingual-e5-small');
    expect(collectionNameFor('intfloat/multilingual-e5-base')).toBe('kb__intfloat_multilingual-e5-base');
    const local = collectionNameFor('/srv/models/Мой e5 (v2)');
    expect(local).toMatch(/^kb__local_e5_v2_[0-9a-f]{8}$/);
    expect(collectionNameFor('/other/models/Мой e5 (v2)')).not.toBe(local);
    const long = collectionNameFor(`org/${'x'.repeat(300)}`);
    expect(long.length).toBeLessThanOrEqual(64);
    for (const name of [local, long]) expect(name).toMatch(/^[a-z0-9][a-z0-9._-]{1,510}[a-z0-9]$/);
  });
});

describe('the vector store on a real Chroma', () => {
  let chroma: TestChroma;
  beforeAll(async () => {
    chroma = await startTestChroma();
  });
  afterAll(async () => {
    await chroma?.dispose();
  });

  it('keeps the vectors of different models apart', async () => {
    const small = createVectorStore({ url: chroma.url, modelId: 'org/model-a', logger: silentLogger });
    const large = createVectorStore({ url: chroma.url, modelId: 'org/model-b', logger: silentLogger });
    await small.replaceFile('a.md', 'hash-a', [chunk(0, unit(4, 0))]);
    await large.replaceFile('a.md', 'hash-a', [chunk(0, unit(8, 0)), chunk(1, unit(8, 1))]);
    expect(await small.count()).toBe(1);
    expect(await large.count()).toBe(2);
  });

  it('replaces a file’s chunks, lists file hashes, deletes by file and queries nearest first', async () => {
    const store = createVectorStore({ url: chroma.url, modelId: 'org/model-c', logger: silentLogger });
    await store.replaceFile('a.md', 'v1', [chunk(0, unit(4, 0)), chunk(1, unit(4, 1)), chunk(2, unit(4, 2))]);
    await store.replaceFile('b.md', 'v1', [chunk(0, unit(4, 3))]);
    await store.replaceFile('a.md', 'v2', [chunk(0, unit(4, 1), 'новая версия')]);
    expect(Object.fromEntries(await store.listFileHashes())).toEqual({ 'a.md': 'v2', 'b.md': 'v1' });
    expect(await store.count()).toBe(2);

    const hits = await store.query(unit(4, 1), 5);
    expect(hits[0]).toEqual({
      text: 'новая версия',
      file: 'a.md',
      headingPath: ['Тарифы', 'Раздел 0'],
      position: 0,
      audience: 'public',
      distance: 0,
    });
    expect(hits.map((h) => h.file)).toEqual(['a.md', 'b.md']);

    await store.deleteFile('a.md');
    expect([...(await store.listFileHashes()).keys()]).toEqual(['b.md']);
  });

  it('answers a query for one audience with chunks of that audience only; an old chunk without one joins neither', async () => {
    const store = createVectorStore({ url: chroma.url, modelId: 'org/model-d', logger: silentLogger });
    await store.replaceFile('catalog.md', 'v1', [chunk(0, unit(4, 0), 'цены')]);
    await store.replaceFile('script.md', 'v1', [chunk(0, unit(4, 0), 'скрипт', 'internal')]);
    // A chunk as an older version stored it: no audience in its metadata.
    const url = new URL(chroma.url);
    const client = new ChromaClient({ host: url.hostname, port: Number(url.port), ssl: false });
    const collection = await client.getOrCreateCollection({ name: store.collectionName, embeddingFunction: null });
    await collection.add({
      ids: ['old'],
      embeddings: [unit(4, 0)],
      documents: ['старый фрагмент'],
      metadatas: [{ file: 'old.md', file_hash: 'v0', heading_path: '[]', position: 0 }],
    });

    const everyone = await store.query(unit(4, 0), 5);
    expect(everyone.map((h) => [h.file, h.audience]).sort()).toEqual([
      ['catalog.md', 'public'],
      ['old.md', 'internal'],
      ['script.md', 'internal'],
    ]);
    expect((await store.query(unit(4, 0), 5, { audience: 'public' })).map((h) => h.file)).toEqual(['catalog.md']);
    expect(await store.query(unit(4, 0), 5, { audience: 'public', files: ['script.md'] })).toEqual([]);
    expect(
      (await store.query(unit(4, 0), 5, { audience: 'public', files: ['catalog.md', 'script.md'] })).map((h) => h.file),
    ).toEqual(['catalog.md']);
    expect((await store.query(unit(4, 0), 5, { audience: 'internal' })).map((h) => h.file)).toEqual(['script.md']);
    expect(await store.query(unit(4, 0), 5, { audience: 'internal', files: ['catalog.md'] })).toEqual([]);
    const batch = await store.queryMany([unit(4, 0), unit(4, 1)], 5, { audience: 'internal' });
    expect(batch.map((hits) => hits.map((h) => h.file))).toEqual([['script.md'], ['script.md']]);
  });

  it('says Chroma is unreachable when it is', async () => {
    const store = createVectorStore({ url: 'http://127.0.0.1:9', modelId: 'org/model-a', logger: silentLogger });
    await expect(store.query(unit(4, 0), 3)).rejects.toBeInstanceOf(VectorStoreUnavailableError);
  });
});
