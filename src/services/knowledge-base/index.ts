import type { Config } from '../../config.js';
import type { Database } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import { startEmbeddedChroma, type EmbeddedChromaHandle, type EmbeddedChromaOptions } from './chroma-server.js';
import { createEmbedderInWorker } from './embedding-thread.js';
import type { Embedder, EmbedderOptions } from './embeddings.js';
import { createRetriever, type Retriever, type RetrieverOptions } from './retriever.js';
import { createVectorStore, type VectorStore } from './vector-store.js';
import { indexKnowledgeBase, type IndexProgress, type IndexSummary } from './indexer.js';
import { createLexicalIndex, type LexicalIndex } from './lexical-index.js';

export { indexKnowledgeBase } from './indexer.js';
export type { IndexFailure, IndexProgress, IndexSummary } from './indexer.js';

/** Indexes the configured folder; one run at a time (a second call joins the running one). */
export interface KnowledgeBaseIndexer {
  run(options?: { readonly onProgress?: (progress: IndexProgress) => void }): Promise<IndexSummary>;
}

/** Everything the bot and `npm run kb:index` need from the knowledge base. */
export interface KnowledgeBase {
  readonly embedder: Embedder;
  readonly store: VectorStore;
  /** Hybrid (vectors and words) when the knowledge base has the database; vectors alone otherwise. */
  readonly retriever: Retriever;
  /** The lexical index in PostgreSQL; undefined without a database. */
  readonly lexical: LexicalIndex | undefined;
  readonly indexer: KnowledgeBaseIndexer;
  /** The Chroma in use: CHROMA_URL, or the embedded server's address. */
  readonly chromaUrl: string;
  /** Whether Chroma runs as our child process (CHROMA_URL unset). */
  readonly embeddedChroma: boolean;
  /** Releases the model and stops the embedded Chroma, if any. */
  stop(): Promise<void>;
}

export type KnowledgeBaseConfig = Pick<Config, 'chromaUrl' | 'dataDir' | 'knowledgeBaseDir' | 'embeddingModel' | 'modelsDir'> &
  Partial<Pick<Config, 'documentLimits'>>;

export interface KnowledgeBaseOptions {
  /** The bot's database: it holds the lexical index (knowledge_chunks). Without it, retrieval is dense alone. */
  readonly db?: Database;
  readonly chroma?: EmbeddedChromaOptions;
  readonly embedder?: Partial<Omit<EmbedderOptions, 'model' | 'modelsDir' | 'logger'>>;
  readonly retriever?: RetrieverOptions;
}

/**
 * Builds the knowledge base: Chroma (CHROMA_URL, or an embedded server under DATA_DIR), the
 * embedding model, the store and the retriever. Throws a StartupError when Chroma cannot start or
 * the model cannot be loaded; what was started is stopped again.
 */
export async function createKnowledgeBase(
  config: KnowledgeBaseConfig,
  logger: Logger,
  options: KnowledgeBaseOptions = {},
): Promise<KnowledgeBase> {
  const log = logger.child({ service: 'knowledge-base' });
  let chroma: EmbeddedChromaHandle | undefined;
  if (!config.chromaUrl) chroma = await startEmbeddedChroma(config.dataDir, log, options.chroma);
  const chromaUrl = config.chromaUrl ?? chroma!.url;

  let embedder: Embedder;
  try {
    embedder = await createEmbedderInWorker({
      ...options.embedder,
      model: config.embeddingModel,
      modelsDir: config.modelsDir,
      logger: log,
    });
  } catch (error) {
    await chroma?.stop();
    throw error;
  }

  const store = createVectorStore({ url: chromaUrl, modelId: embedder.modelId, logger: log });
  const lexical = options.db ? createLexicalIndex(options.db) : undefined;
  const retriever = createRetriever({ embedder, store, logger: log, ...(lexical ? { lexical } : {}) }, options.retriever);
  let running: Promise<IndexSummary> | undefined;
  const indexer: KnowledgeBaseIndexer = {
    run: (runOptions = {}) => {
      running ??= indexKnowledgeBase(
        { embedder, store, logger: log, ...(lexical ? { lexical } : {}) },
        {
          dir: config.knowledgeBaseDir,
          ...(config.documentLimits ? { limits: config.documentLimits } : {}),
          ...(runOptions.onProgress ? { onProgress: runOptions.onProgress } : {}),
        },
      ).finally(() => {
        running = undefined;
      });
      return running;
    },
  };
  log.info(
    { chromaUrl, embedded: chroma !== undefined, collection: store.collectionName, search: lexical ? 'hybrid' : 'dense' },
    'knowledge base ready',
  );

  return {
    embedder,
    store,
    retriever,
    lexical,
    indexer,
    chromaUrl,
    embeddedChroma: chroma !== undefined,
    stop: async () => {
      // A run in flight finishes first; its error, if any, already went to whoever started it.
      await running?.catch(() => undefined);
      await embedder.dispose();
      await chroma?.stop();
    },
  };
}
