/**
 * The knowledge base's costs with the suite's tiny model (384 random dimensions: the shape of
 * multilingual-e5-small, so tokenising and pooling cost what they will cost; the real model's
 * inference, which runs in onnxruntime's own threads, comes on top):
 * - ingestion of the sample knowledge base: chunks/s, against embedding the same chunks alone;
 * - the event-loop delay p99 during ingestion, against the idle loop;
 * - search latency p50/p99 at 50 concurrent queries: the retriever (one inference and one Chroma
 *   request per batch) versus one by one (an inference and a request per query);
 * - a re-index with nothing changed (target: under 1 s);
 * - hybrid search (Chroma + PostgreSQL full-text search, fused by rank) at 50 concurrent queries,
 *   against dense alone; the lexical search of a judge's 48 claims at 2 000 chunks;
 * - recall@1 and @3 on the labelled set (test/fixtures/kb-questions.json), dense, lexical and hybrid,
 *   with both tiny models (docs/retrieval.md has the figures and the real model's command).
 * Runs against a real Chroma (the chromadb package's server, as in the tests) and a real PostgreSQL
 * (the embedded one, in a temporary folder).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase, type DatabaseHandle } from '../src/db/client.js';
import { createLogger, type Logger } from '../src/logger.js';
import { createEmbedder, type Embedder } from '../src/services/knowledge-base/embeddings.js';
import { chunkDocument, textForEmbedding } from '../src/services/knowledge-base/chunker.js';
import { indexKnowledgeBase } from '../src/services/knowledge-base/indexer.js';
import { createLexicalIndex, type LexicalIndex } from '../src/services/knowledge-base/lexical-index.js';
import { parseDocument } from '../src/services/knowledge-base/parsers.js';
import { formatRecallTable, measureRecall, readLabelledSet, type Recall } from '../src/services/knowledge-base/recall.js';
import { createRetriever } from '../src/services/knowledge-base/retriever.js';
import { createVectorStore, type VectorStore } from '../src/services/knowledge-base/vector-store.js';
import { startTestChroma, type TestChroma } from '../test/support/chroma.js';
import { readSampleKnowledgeBase, SAMPLE_KNOWLEDGE_BASE_DIR } from '../test/support/knowledge-base.js';
import { createTinyModel } from '../test/support/tiny-model.js';
import { formatMs, percentile, printTable } from './support.js';

const CONCURRENT_QUERIES = 50;
const QUERY_ROUNDS = 6;

export interface RagBenchResult {
  readonly chunks: number;
  readonly ingestChunksPerSecond: number;
  readonly embedOnlyChunksPerSecond: number;
  readonly ingestLoopDelayP99Ms: number;
  readonly idleLoopDelayP99Ms: number;
  readonly batched: { readonly p50Ms: number; readonly p99Ms: number; readonly inferenceCalls: number };
  readonly oneByOne: { readonly p50Ms: number; readonly p99Ms: number; readonly inferenceCalls: number };
  readonly noChangeReindexSeconds: number;
  readonly hybrid: { readonly p50Ms: number; readonly p99Ms: number };
  /** One statement for a judge's 48 claims over the sample copied to ~2 000 chunks. */
  readonly lexicalAtScale: { readonly chunks: number; readonly claimsMs: number };
  readonly recall: ReadonlyArray<{ readonly model: string; readonly rows: ReadonlyArray<{ search: string; recall: Recall }> }>;
}

const LABELLED_SET = path.resolve(import.meta.dirname, '../test/fixtures/kb-questions.json');
const SCALE_COPIES = 17;

const QUESTIONS = [
  'Сколько стоит тариф «Бизнес» при оплате за год?',
  'Можно ли подключить 15 пользователей на «Старте»?',
  'Клиент говорит, что дорого. Что ответить?',
  'Как перенести клиентов из Excel?',
  'Сколько длится пробный период?',
  'Что делать, если сломался обмен с 1С?',
  'Какие скидки есть при оплате за полгода?',
  'Как начать холодный звонок?',
];

/** Runs the benchmark, prints its table and returns the figures. */
export async function runRagBench(): Promise<RagBenchResult> {
  const logger = createLogger({ level: 'warn', pretty: false });
  const texts = await readSampleKnowledgeBase();
  const postgresDir = await mkdtemp(path.join(tmpdir(), 'bench-rag-pg-'));
  const [chroma, model, database] = await Promise.all([
    startTestChroma(),
    createTinyModel({ texts, kind: 'random', dimension: 384 }),
    openDatabase({ databaseUrl: undefined, dataDir: postgresDir }, logger),
  ]);
  const batchedEmbedder = await createEmbedder({ model: model.path, modelsDir: '/nonexistent', logger });
  const soloEmbedder = await createEmbedder({ model: model.path, modelsDir: '/nonexistent', logger, maxQueryBatch: 1 });
  try {
    const store = createVectorStore({ url: chroma.url, modelId: batchedEmbedder.modelId, logger });
    const idleLoopDelayP99Ms = await loopDelayP99(() => sleep(1_000));
    const embedOnly = await measureEmbedOnly(soloEmbedder, texts);

    let chunks = 0;
    const ingestStarted = performance.now();
    const ingestLoopDelayP99Ms = await loopDelayP99(async () => {
      const summary = await indexKnowledgeBase({ embedder: batchedEmbedder, store, logger }, { dir: SAMPLE_KNOWLEDGE_BASE_DIR });
      chunks = summary.chunks;
    });
    const ingestSeconds = (performance.now() - ingestStarted) / 1000;

    const reindexStarted = performance.now();
    await indexKnowledgeBase({ embedder: batchedEmbedder, store, logger }, { dir: SAMPLE_KNOWLEDGE_BASE_DIR });
    const noChangeReindexSeconds = (performance.now() - reindexStarted) / 1000;

    const oneByOne = await measureSearches(soloEmbedder, oneByOneSearch(soloEmbedder, store));
    const retriever = createRetriever({ embedder: batchedEmbedder, store, logger });
    const batched = await measureSearches(batchedEmbedder, (query) => retriever.search(query, 3));

    const lexical = createLexicalIndex(database.db);
    await indexKnowledgeBase({ embedder: batchedEmbedder, store, lexical, logger }, { dir: SAMPLE_KNOWLEDGE_BASE_DIR });
    const hybridRetriever = createRetriever({ embedder: batchedEmbedder, store, lexical, logger });
    const hybrid = await measureSearches(batchedEmbedder, (query) => hybridRetriever.search(query, 3));
    const recall = await measureRecallTables(texts, chroma, lexical, logger);
    const lexicalAtScale = await measureLexicalAtScale(logger);

    const result: RagBenchResult = {
      chunks,
      ingestChunksPerSecond: chunks / ingestSeconds,
      embedOnlyChunksPerSecond: embedOnly,
      ingestLoopDelayP99Ms,
      idleLoopDelayP99Ms,
      batched,
      oneByOne,
      noChangeReindexSeconds,
      hybrid,
      lexicalAtScale,
      recall,
    };
    printResult(result);
    return result;
  } finally {
    await Promise.all([batchedEmbedder.dispose(), soloEmbedder.dispose()]);
    await Promise.all([chroma.dispose(), model.cleanup(), database.close()]);
    await rm(postgresDir, { recursive: true, force: true });
  }
}

/**
 * Recall on the labelled set with both tiny models. Both are TF-IDF over crude stems, i.e. lexical
 * themselves (one-hot exactly, random-projection blurred into 384 dimensions): they show what fusion
 * costs or adds, not what a real multilingual model does (npm run kb:recall measures that).
 */
async function measureRecallTables(texts: readonly string[], chroma: TestChroma, lexical: LexicalIndex, logger: Logger) {
  const set = await readLabelledSet(LABELLED_SET);
  const tables = [];
  for (const kind of ['one-hot', 'random'] as const) {
    const model = await createTinyModel({ texts, kind });
    const embedder = await createEmbedder({ model: model.path, modelsDir: '/nonexistent', logger });
    try {
      const store = createVectorStore({ url: chroma.url, modelId: embedder.modelId, logger });
      await indexKnowledgeBase({ embedder, store, lexical, logger }, { dir: SAMPLE_KNOWLEDGE_BASE_DIR });
      const dense = createRetriever({ embedder, store, logger });
      const hybrid = createRetriever({ embedder, store, lexical, logger });
      tables.push({
        model: kind === 'one-hot' ? 'tiny one-hot TF-IDF (the suite’s test model)' : 'tiny random-projection TF-IDF, 384 dims',
        rows: [
          { search: 'dense (Chroma)', recall: await measureRecall((text, k) => dense.search(text, k), set) },
          {
            search: 'lexical (PostgreSQL FTS)',
            recall: await measureRecall(async (text, k) => (await lexical.searchMany([text], k))[0]!, set),
          },
          { search: 'hybrid (RRF, k = 60)', recall: await measureRecall((text, k) => hybrid.search(text, k), set) },
        ],
      });
    } finally {
      await embedder.dispose();
      await model.cleanup();
    }
  }
  return tables;
}

/** The lexical search of 48 claims at once over the sample copied until it is ~2 000 chunks. */
async function measureLexicalAtScale(logger: Logger): Promise<RagBenchResult['lexicalAtScale']> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-rag-scale-'));
  let database: DatabaseHandle | undefined;
  try {
    database = await openDatabase({ databaseUrl: undefined, dataDir: dir }, logger);
    const lexical = createLexicalIndex(database.db);
    const texts = await readSampleKnowledgeBase();
    let chunks = 0;
    for (let copy = 0; copy < SCALE_COPIES; copy += 1) {
      for (const [index, text] of texts.entries()) {
        const parsed = await parseDocument(`doc-${index}.md`, Buffer.from(text));
        const copied = chunkDocument(parsed).map((chunk) => ({
          ...chunk,
          text: `${chunk.text} (копия ${copy})`,
          audience: 'public' as const,
        }));
        await lexical.replaceFile(`copy-${copy}/doc-${index}.md`, 'bench', copied);
        chunks += copied.length;
      }
    }
    await lexical.refreshWordCounts();
    const claims = (await readLabelledSet(LABELLED_SET)).slice(0, 48).map((item) => item.text);
    await lexical.searchMany(claims, 8); // warm-up
    const started = performance.now();
    await lexical.searchMany(claims, 8);
    return { chunks, claimsMs: performance.now() - started };
  } finally {
    await database?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Chunks per second of the embedding step alone, for the same chunks as ingestion. */
async function measureEmbedOnly(embedder: Embedder, texts: readonly string[]): Promise<number> {
  const passages = texts.flatMap((text, index) =>
    chunkDocument({ file: `doc-${index}.md`, format: 'markdown', text }).map(textForEmbedding),
  );
  const started = performance.now();
  await embedder.embedPassages(passages);
  return passages.length / ((performance.now() - started) / 1000);
}

type Search = (query: string) => Promise<readonly unknown[]>;

/** The naive path: each search its own inference and its own Chroma request. */
function oneByOneSearch(embedder: Embedder, store: VectorStore): Search {
  return async (query) => store.query(await embedder.embedQuery(query), 3);
}

/** Search latency when 50 trainees ask at once, several rounds. */
async function measureSearches(embedder: Embedder, search: Search) {
  await search(QUESTIONS[0]!); // warm-up
  const latencies: number[] = [];
  const callsBefore = embedder.stats().inferenceCalls;
  for (let round = 0; round < QUERY_ROUNDS; round += 1) {
    await Promise.all(
      Array.from({ length: CONCURRENT_QUERIES }, async (_, i) => {
        const started = performance.now();
        const passages = await search(`${QUESTIONS[i % QUESTIONS.length]!} (${round}-${i})`);
        latencies.push(performance.now() - started);
        if (passages.length === 0) throw new Error('a search found nothing: is Chroma up?');
      }),
    );
  }
  return {
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    inferenceCalls: (embedder.stats().inferenceCalls - callsBefore) / QUERY_ROUNDS,
  };
}

async function loopDelayP99(work: () => Promise<void>): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  try {
    await work();
  } finally {
    histogram.disable();
  }
  return histogram.percentile(99) / 1e6;
}

function printResult(r: RagBenchResult): void {
  printTable(
    `Knowledge base with the tiny model (384 dims), ${r.chunks} chunks of the sample knowledge base`,
    ['measure', 'value', 'baseline', 'ratio'],
    [
      [
        'ingestion, chunks/s',
        r.ingestChunksPerSecond.toFixed(0),
        `${r.embedOnlyChunksPerSecond.toFixed(0)} (embedding alone)`,
        `${(r.ingestChunksPerSecond / r.embedOnlyChunksPerSecond).toFixed(2)}×`,
      ],
      [
        'event-loop delay p99 during ingestion, ms',
        formatMs(r.ingestLoopDelayP99Ms),
        `${formatMs(r.idleLoopDelayP99Ms)} (idle)`,
        `${(r.ingestLoopDelayP99Ms / r.idleLoopDelayP99Ms).toFixed(1)}×`,
      ],
      [
        `search p50 at ${CONCURRENT_QUERIES} concurrent, ms`,
        formatMs(r.batched.p50Ms),
        `${formatMs(r.oneByOne.p50Ms)} (one by one)`,
        `${(r.oneByOne.p50Ms / r.batched.p50Ms).toFixed(1)}× faster`,
      ],
      [
        `search p99 at ${CONCURRENT_QUERIES} concurrent, ms`,
        formatMs(r.batched.p99Ms),
        `${formatMs(r.oneByOne.p99Ms)} (one by one)`,
        `${(r.oneByOne.p99Ms / r.batched.p99Ms).toFixed(1)}× faster`,
      ],
      [
        `inferences per ${CONCURRENT_QUERIES} queries`,
        r.batched.inferenceCalls.toFixed(1),
        `${r.oneByOne.inferenceCalls.toFixed(0)} (one by one)`,
        '',
      ],
      [
        're-index with no change, s (target < 1)',
        r.noChangeReindexSeconds.toFixed(3),
        '1.000 (target)',
        r.noChangeReindexSeconds < 1 ? 'ok' : 'OVER',
      ],
      [
        `hybrid search p50 at ${CONCURRENT_QUERIES} concurrent, ms`,
        formatMs(r.hybrid.p50Ms),
        `${formatMs(r.batched.p50Ms)} (dense alone)`,
        `${(r.hybrid.p50Ms / r.batched.p50Ms).toFixed(1)}×`,
      ],
      [
        `hybrid search p99 at ${CONCURRENT_QUERIES} concurrent, ms`,
        formatMs(r.hybrid.p99Ms),
        `${formatMs(r.batched.p99Ms)} (dense alone)`,
        `${(r.hybrid.p99Ms / r.batched.p99Ms).toFixed(1)}×`,
      ],
      [`lexical search of 48 claims at ${r.lexicalAtScale.chunks} chunks, ms`, formatMs(r.lexicalAtScale.claimsMs), '', ''],
    ],
  );
  for (const table of r.recall) {
    console.log(`\nRecall on the labelled set, ${table.model}\n${formatRecallTable(table.rows)}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runRagBench();
}
