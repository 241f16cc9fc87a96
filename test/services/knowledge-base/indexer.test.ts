import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, type Embedder } from '../../../src/services/knowledge-base/embeddings.js';
import { indexKnowledgeBase, KnowledgeBaseDirError, type IndexProgress } from '../../../src/services/knowledge-base/indexer.js';
import { createLexicalIndex } from '../../../src/services/knowledge-base/lexical-index.js';
import { createRetriever } from '../../../src/services/knowledge-base/retriever.js';
import { createVectorStore, type VectorStore } from '../../../src/services/knowledge-base/vector-store.js';
import { startTestChroma, type TestChroma } from '../../support/chroma.js';
import { createTestDatabase, silentLogger } from '../../support/database.js';
import { BROKEN_PDF, makePdf } from '../../support/documents.js';
import { createTinyModel, type TinyModel } from '../../support/tiny-model.js';

const TARIFFS =
  '# Тарифы\n\n## Старт\n\nТариф «Старт» стоит 600 ₽ в месяц.\n\n## Бизнес\n\nТариф «Бизнес» стоит 1 200 ₽ в месяц.';
const TARIFFS_V2 =
  '# Тарифы\n\n## Старт\n\nТариф «Старт» подорожал: 700 ₽ в месяц.\n\n## Бизнес\n\nТариф «Бизнес» стоит 1 200 ₽ в месяц.';
const SUPPORT = 'Поддержка отвечает круглосуточно, по телефону и в чате.';
const FAQ = '## Пробный период\n\nПробный период длится 14 дней, карта не нужна.';
const PDF_LINES = ['Delivery to Kazan takes 3 days.'];

let chroma: TestChroma;
let model: TinyModel;
let embedder: Embedder;
let store: VectorStore;
let dir: string;

beforeAll(async () => {
  [chroma, model, dir] = await Promise.all([
    startTestChroma(),
    createTinyModel({ texts: [TARIFFS, TARIFFS_V2, SUPPORT, FAQ, ...PDF_LINES] }),
    mkdtemp(path.join(tmpdir(), 'kb-')),
  ]);
  embedder = await createEmbedder({ model: model.path, modelsDir: '/nonexistent', logger: silentLogger });
  store = createVectorStore({ url: chroma.url, modelId: embedder.modelId, logger: silentLogger });
});

afterAll(async () => {
  await embedder?.dispose();
  await Promise.all([chroma?.dispose(), model?.cleanup(), dir && rm(dir, { recursive: true, force: true })]);
});

const index = (onProgress?: (progress: IndexProgress) => void) =>
  indexKnowledgeBase({ embedder, store, logger: silentLogger }, { dir, ...(onProgress ? { onProgress } : {}) });

describe('indexKnowledgeBase against a real Chroma', () => {
  it('adds every readable file, reports the broken one by name, and ignores what it does not read', async () => {
    await mkdir(path.join(dir, 'guides'));
    await Promise.all([
      writeFile(path.join(dir, 'tariffs.md'), TARIFFS),
      writeFile(path.join(dir, 'support.txt'), SUPPORT),
      writeFile(path.join(dir, 'guides', 'delivery.pdf'), await makePdf([PDF_LINES])),
      writeFile(path.join(dir, 'price-list.pdf'), BROKEN_PDF),
      writeFile(path.join(dir, '.draft.md'), 'черновик'),
      writeFile(path.join(dir, 'photo.png'), 'not a document'),
    ]);
    const progress: IndexProgress[] = [];
    const summary = await index((p) => progress.push(p));

    expect(summary).toMatchObject({ added: 3, changed: 0, removed: 0, unchanged: 0 });
    expect(summary.files.added).toEqual(['guides/delivery.pdf', 'support.txt', 'tariffs.md']);
    expect(summary.failed).toHaveLength(1);
    expect(summary.failed[0]!.file).toBe('price-list.pdf');
    expect(summary.failed[0]!.reason).toMatch(/PDF/);
    expect(summary.chunks).toBe(4);
    expect(await store.count()).toBe(4);
    expect(progress.at(-1)).toMatchObject({ chunksDone: 4, chunksTotal: 4 });
    expect([...(await store.listFileHashes()).keys()].sort()).toEqual(['guides/delivery.pdf', 'support.txt', 'tariffs.md']);
  });

  it('embeds nothing again when nothing changed', async () => {
    const before = embedder.stats().inferenceCalls;
    const summary = await index();
    expect(summary).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: 3, chunks: 0 });
    expect(embedder.stats().inferenceCalls).toBe(before);
  });

  it('replaces a changed file, removes a deleted one and adds a new one', async () => {
    await writeFile(path.join(dir, 'tariffs.md'), TARIFFS_V2);
    await unlink(path.join(dir, 'support.txt'));
    await writeFile(path.join(dir, 'faq.md'), FAQ);
    const summary = await index();

    expect(summary).toMatchObject({ added: 1, changed: 1, removed: 1, unchanged: 1, chunks: 3 });
    expect(summary.files).toEqual({ added: ['faq.md'], changed: ['tariffs.md'], removed: ['support.txt'] });
    expect(await store.count()).toBe(4);

    const retriever = createRetriever({ embedder, store, logger: silentLogger });
    const [best] = await retriever.search('Сколько стоит тариф «Старт»?', 1);
    expect(best).toMatchObject({ file: 'tariffs.md', headingPath: ['Старт'] });
    expect(best!.text).toContain('700 ₽');
    const everything = await retriever.search('тариф поддержка пробный период доставка', 10);
    expect(everything.map((p) => p.text).join('\n')).not.toMatch(/600 ₽|круглосуточно/);
  });

  it('refuses a knowledge base folder that does not exist', async () => {
    const error = await indexKnowledgeBase({ embedder, store, logger: silentLogger }, { dir: path.join(dir, 'missing') }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KnowledgeBaseDirError);
    expect((error as Error).message).toContain('KNOWLEDGE_BASE_DIR');
  });
});

describe('indexKnowledgeBase with the lexical index', () => {
  it('keeps the lexical index in step with Chroma, and fills in what only it lacks without embedding again', async () => {
    const own = await mkdtemp(path.join(tmpdir(), 'kb-lexical-'));
    const database = await createTestDatabase();
    try {
      await mkdir(path.join(own, 'internal'));
      await Promise.all([
        writeFile(path.join(own, 'tariffs.md'), TARIFFS),
        writeFile(path.join(own, 'internal', 'support.txt'), SUPPORT),
      ]);
      const lexicalStore = createVectorStore({ url: chroma.url, modelId: `${embedder.modelId}#lexical`, logger: silentLogger });
      const lexical = createLexicalIndex(database.db);
      const run = () => indexKnowledgeBase({ embedder, store: lexicalStore, lexical, logger: silentLogger }, { dir: own });

      expect(await run()).toMatchObject({ added: 2, chunks: 3 });
      expect(Object.fromEntries(await lexical.listFileHashes())).toEqual(Object.fromEntries(await lexicalStore.listFileHashes()));
      const [support] = (await lexical.searchMany(['поддержка круглосуточно'], 1))[0]!;
      expect(support).toMatchObject({ file: 'internal/support.txt', audience: 'internal' });
      expect((await lexicalStore.query(await embedder.embedQuery('поддержка'), 1))[0]).toMatchObject({
        file: 'internal/support.txt',
        audience: 'internal',
      });

      // The lexical index lost a file (added to a running bot later, or PostgreSQL failed mid-run).
      await lexical.deleteFile('tariffs.md');
      const before = embedder.stats().passagesEmbedded;
      expect(await run()).toMatchObject({ added: 0, changed: 1, unchanged: 1, chunks: 2 });
      expect(embedder.stats().passagesEmbedded).toBe(before);
      expect((await lexical.searchMany(['Старт'], 1))[0]![0]).toMatchObject({ file: 'tariffs.md', headingPath: ['Старт'] });

      await unlink(path.join(own, 'internal', 'support.txt'));
      expect(await run()).toMatchObject({ removed: 1 });
      expect([...(await lexical.listFileHashes()).keys()]).toEqual(['tariffs.md']);
      expect([...(await lexicalStore.listFileHashes()).keys()]).toEqual(['tariffs.md']);
    } finally {
      await database.drop();
      await rm(own, { recursive: true, force: true });
    }
  });
});
