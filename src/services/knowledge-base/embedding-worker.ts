/**
 * The embedding model's own thread. onnxruntime-node runs inference synchronously, so on the main
 * thread every query would stall every chat; here it stalls nobody. Requests from the main thread
 * arrive as messages; concurrent ones are still batched by the embedder.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LogLevel } from '../../config.js';
import { createLogger } from '../../logger.js';
import { createEmbedder, type Embedder } from './embeddings.js';
import type { WorkerReply, WorkerRequest, WorkerSetup } from './embedding-thread.js';

const port = parentPort!;
const setup = (workerData as { setup: WorkerSetup }).setup;

async function serve(): Promise<void> {
  let embedder: Embedder;
  try {
    embedder = await createEmbedder({
      ...setup.options,
      logger: createLogger({ level: setup.logLevel as LogLevel, pretty: false }),
    });
  } catch (error) {
    port.postMessage({
      type: 'failed',
      message: (error as Error).message,
      stack: (error as Error).stack ?? '',
    } satisfies WorkerReply);
    return;
  }
  port.postMessage({ type: 'ready', dimension: embedder.dimension, prefixes: embedder.prefixes } satisfies WorkerReply);
  port.on('message', (request: WorkerRequest) => void answer(embedder, request));
}

async function answer(embedder: Embedder, request: WorkerRequest): Promise<void> {
  if (request.kind === 'dispose') {
    await embedder.dispose();
    port.postMessage({ type: 'result', id: request.id, embeddings: [], stats: embedder.stats() } satisfies WorkerReply);
    return;
  }
  try {
    const embeddings =
      request.kind === 'query' ? [await embedder.embedQuery(request.texts[0]!)] : await embedder.embedPassages(request.texts);
    port.postMessage({ type: 'result', id: request.id, embeddings, stats: embedder.stats() } satisfies WorkerReply);
  } catch (error) {
    port.postMessage({ type: 'error', id: request.id, message: (error as Error).message } satisfies WorkerReply);
  }
}

await serve();
