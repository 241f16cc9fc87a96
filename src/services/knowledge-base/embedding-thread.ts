import { Worker } from 'node:worker_threads';
import {
  EmbeddingError,
  EmbeddingModelLoadError,
  type Embedder,
  type EmbedderOptions,
  type EmbedderStats,
  type Embedding,
  type ModelPrefixes,
} from './embeddings.js';
import { withTimeout } from '../../timeout.js';

/** What the worker needs to build the embedder (a logger cannot cross threads; its level can). */
export interface WorkerSetup {
  readonly options: Omit<EmbedderOptions, 'logger'>;
  readonly logLevel: string;
}

export type WorkerRequest =
  | { readonly id: number; readonly kind: 'query' | 'passages'; readonly texts: readonly string[] }
  | { readonly id: number; readonly kind: 'dispose' };

export type WorkerReply =
  | { readonly type: 'ready'; readonly dimension: number; readonly prefixes: ModelPrefixes }
  | { readonly type: 'failed'; readonly message: string; readonly stack: string }
  | { readonly type: 'result'; readonly id: number; readonly embeddings: Embedding[]; readonly stats: EmbedderStats }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** How long the thread may take to free the model's session before it is stopped anyway. */
const RELEASE_TIMEOUT_MS = 5_000;

/** From source (tsx) the worker needs a bootstrap that registers tsx in its thread. */
function workerEntry(): { file: URL; workerData: Record<string, unknown> } {
  if (import.meta.url.endsWith('.ts')) {
    return {
      file: new URL('../../worker-bootstrap.mjs', import.meta.url),
      workerData: { entry: new URL('./embedding-worker.ts', import.meta.url).href, preload: ['@huggingface/transformers'] },
    };
  }
  return { file: new URL('./embedding-worker.js', import.meta.url), workerData: {} };
}

/**
 * The embedder in a worker thread of its own: the same model, prefixes and batching, while the
 * main thread keeps serving every chat. Throws EmbeddingModelLoadError when the model cannot load.
 */
export async function createEmbedderInWorker(options: EmbedderOptions): Promise<Embedder> {
  const { logger, ...rest } = options;
  const entry = workerEntry();
  const setup: WorkerSetup = { options: rest, logLevel: logger.level };
  const worker = new Worker(entry.file, { workerData: { ...entry.workerData, setup } });
  const pending = new Map<number, { resolve: (value: Embedding[]) => void; reject: (error: Error) => void }>();
  let stats: EmbedderStats = { inferenceCalls: 0, queriesEmbedded: 0, passagesEmbedded: 0 };
  let nextId = 1;

  const ready = await new Promise<Extract<WorkerReply, { type: 'ready' }>>((resolve, reject) => {
    worker.once('error', (error) =>
      reject(new EmbeddingModelLoadError(`Поток модели эмбеддингов не запустился: ${error.message}`, error)),
    );
    worker.once('message', (reply: WorkerReply) => {
      if (reply.type === 'ready') resolve(reply);
      // The thread's error cannot cross as an object: its message and stack are rebuilt here, for the log.
      else if (reply.type === 'failed')
        reject(new EmbeddingModelLoadError(reply.message, Object.assign(new Error(reply.message), { stack: reply.stack })));
      else reject(new EmbeddingModelLoadError('unexpected reply from the embedding thread', new Error(JSON.stringify(reply))));
    });
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });

  worker.on('message', (reply: WorkerReply) => {
    if (reply.type !== 'result' && reply.type !== 'error') return;
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.type === 'result') {
      stats = reply.stats;
      waiting?.resolve(reply.embeddings);
    } else {
      waiting?.reject(new EmbeddingError(reply.message));
    }
  });
  /** Set once the thread has ended: nothing sent to it would ever be answered. */
  let ended: EmbeddingError | undefined;
  const rejectPending = (error: EmbeddingError) => {
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  };
  worker.on('error', (error) => {
    logger.error({ err: error }, 'the embedding thread failed');
    rejectPending(new EmbeddingError('the embedding thread failed', { cause: error }));
  });
  worker.once('exit', () => {
    ended = new EmbeddingError('the embedding thread has ended');
    rejectPending(ended);
  });

  const ask = (request: DistributiveOmit<WorkerRequest, 'id'>): Promise<Embedding[]> =>
    new Promise((resolve, reject) => {
      if (ended) return reject(ended);
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id } satisfies WorkerRequest);
    });

  return {
    modelId: options.model,
    dimension: ready.dimension,
    prefixes: ready.prefixes,
    embedQuery: async (text) => (await ask({ kind: 'query', texts: [text] }))[0]!,
    embedPassages: (texts) => (texts.length === 0 ? Promise.resolve([]) : ask({ kind: 'passages', texts })),
    stats: () => stats,
    dispose: async () => {
      rejectPending(new EmbeddingError('the embedder was disposed'));
      // The thread frees the model's session itself first; a stuck or ended thread is stopped anyway.
      await withTimeout(ask({ kind: 'dispose' }), RELEASE_TIMEOUT_MS).catch(() => undefined);
      await worker.terminate();
    },
  };
}
