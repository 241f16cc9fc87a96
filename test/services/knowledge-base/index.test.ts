import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingModelLoadError } from '../../../src/services/knowledge-base/embeddings.js';
import { createKnowledgeBase } from '../../../src/services/knowledge-base/index.js';
import { createTestDatabase, silentLogger } from '../../support/database.js';
import { createTinyModel, type TinyModel } from '../../support/tiny-model.js';

const DOCUMENT = '# Каталог\n\n## Тариф «Бизнес»\n\nБизнес стоит 1 200 ₽ за пользователя в месяц при оплате за год.';

let root: string;
let model: TinyModel;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'knowledge-base-'));
  await mkdir(path.join(root, 'kb'));
  await writeFile(path.join(root, 'kb', 'catalog.md'), DOCUMENT);
  model = await createTinyModel({ texts: [DOCUMENT, 'сколько стоит'] });
});

afterAll(async () => {
  await model?.cleanup();
  await rm(root, { recursive: true, force: true });
});

const config = (dataDir: string, embeddingModel: string) => ({
  chromaUrl: undefined,
  dataDir,
  knowledgeBaseDir: path.join(root, 'kb'),
  embeddingModel,
  modelsDir: path.join(dataDir, 'models'),
});

describe('createKnowledgeBase without CHROMA_URL', () => {
  it('starts an embedded Chroma under DATA_DIR, indexes, answers, and stops it all', async () => {
    const dataDir = path.join(root, 'data');
    const knowledgeBase = await createKnowledgeBase(config(dataDir, model.path), silentLogger);
    try {
      expect(knowledgeBase.embeddedChroma).toBe(true);
      expect(existsSync(path.join(dataDir, 'chroma'))).toBe(true);
      const [first, second] = await Promise.all([knowledgeBase.indexer.run(), knowledgeBase.indexer.run()]);
      expect(second).toBe(first);
      expect(first).toMatchObject({ added: 1, chunks: 1 });
      const [passage] = await knowledgeBase.retriever.search('Сколько стоит Бизнес?', 1);
      expect(passage).toMatchObject({ file: 'catalog.md', headingPath: ['Тариф «Бизнес»'] });
    } finally {
      await knowledgeBase.stop();
    }
    expect(existsSync(path.join(dataDir, 'chroma.pid'))).toBe(false);
  });

  it('keeps the lexical index in the database it is given, and searches both', async () => {
    const dataDir = path.join(root, 'data-hybrid');
    const database = await createTestDatabase();
    const knowledgeBase = await createKnowledgeBase(config(dataDir, model.path), silentLogger, { db: database.db });
    try {
      expect(knowledgeBase.lexical).toBeDefined();
      await knowledgeBase.indexer.run();
      expect([...(await knowledgeBase.lexical!.listFileHashes()).keys()]).toEqual(['catalog.md']);
      const [passage] = await knowledgeBase.retriever.search('Бизнес 1200', 1, { audience: 'public' });
      expect(passage).toMatchObject({ file: 'catalog.md', audience: 'public' });
    } finally {
      await knowledgeBase.stop();
      await database.drop();
    }
  });

  it('stops the Chroma it started when the model cannot be loaded', async () => {
    const dataDir = path.join(root, 'data-bad-model');
    const error = await createKnowledgeBase(config(dataDir, '/nonexistent/model'), silentLogger).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingModelLoadError);
    expect(existsSync(path.join(dataDir, 'chroma'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'chroma.pid'))).toBe(false);
  });
});
