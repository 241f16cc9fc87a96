import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FeatureExtractionPipeline, Tensor } from '@huggingface/transformers';
import { StartupError } from '../../errors.js';
import type { Logger } from '../../logger.js';

/** One embedding vector. Mutable `number[]` because that is what the Chroma client takes. */
export type Embedding = number[];

/** Turns texts into vectors with a local model; see createEmbedder. */
export interface Embedder {
  /** The model as configured: a hub id, or the absolute path of a local model folder. */
  readonly modelId: string;
  readonly dimension: number;
  /** The prefixes this model family expects (empty strings for models that use none). */
  readonly prefixes: ModelPrefixes;
  /** Embeds a search query; concurrent calls are batched into one inference. */
  embedQuery(text: string): Promise<Embedding>;
  /** Embeds document passages, in slices that let pending queries go first. */
  embedPassages(texts: readonly string[]): Promise<Embedding[]>;
  /** Counters for tests, metrics and benchmarks. */
  stats(): EmbedderStats;
  /** Releases the model; pending calls are rejected. */
  dispose(): Promise<void>;
}

export interface EmbedderStats {
  /** How many times the model ran (one run embeds a whole batch). */
  readonly inferenceCalls: number;
  readonly queriesEmbedded: number;
  readonly passagesEmbedded: number;
}

export interface EmbedderOptions {
  /** A Hugging Face model id (downloaded once into `modelsDir`) or an absolute path (offline). */
  readonly model: string;
  readonly modelsDir: string;
  readonly logger: Logger;
  /** Where hub models come from: a mirror, or a loopback stand-in in tests. Hugging Face otherwise. */
  readonly remoteHost?: string;
  /** The most queries in one inference. */
  readonly maxQueryBatch?: number;
  /** Passages per inference: small enough that a query never waits long behind ingestion. */
  readonly passageBatchSize?: number;
}

export interface ModelPrefixes {
  readonly query: string;
  readonly passage: string;
}

/** How token vectors become one vector: the mean of all tokens, or the first ([CLS]) token's. */
export type Pooling = 'mean' | 'cls';

/** Where a model comes from, decided by the form of EMBEDDING_MODEL. */
export type ModelSource =
  { readonly kind: 'local'; readonly path: string } | { readonly kind: 'hub'; readonly id: string; readonly cacheDir: string };

/** The model could not be loaded: start-up stops with a message an operator can act on. */
export class EmbeddingModelLoadError extends StartupError {
  constructor(message: string, cause: unknown) {
    super(message, 1, { cause });
    this.name = 'EmbeddingModelLoadError';
  }
}

/** Inference failed, or the embedder was disposed while a call waited. */
export class EmbeddingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddingError';
  }
}

const HUGGING_FACE = 'https://huggingface.co/';
const NO_PREFIXES: ModelPrefixes = { query: '', passage: '' };

/**
 * The prefixes a model family was trained with, decided by the model id or the folder name:
 * - e5 (`intfloat/multilingual-e5-*`, `Xenova/multilingual-e5-*`): `query: ` / `passage: `;
 *   the `-instruct` variant: an instruction before queries and nothing before passages;
 * - nomic-embed-text: `search_query: ` / `search_document: `;
 * - anything else (bge-m3, LaBSE, MiniLM, the suite's tiny model…): none.
 */
export function prefixesForModel(model: string): ModelPrefixes {
  const name = model.toLowerCase().split(/[\\/]/).filter(Boolean).slice(-2).join('/');
  if (/(^|[^a-z0-9])e5([^a-z0-9]|$)/.test(name)) {
    if (name.includes('instruct')) {
      return {
        query: 'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery: ',
        passage: '',
      };
    }
    return { query: 'query: ', passage: 'passage: ' };
  }
  if (name.includes('nomic-embed')) return { query: 'search_query: ', passage: 'search_document: ' };
  return NO_PREFIXES;
}

/**
 * An absolute path (or one starting with `./` or `../`) is a local folder: nothing is downloaded.
 * Anything else is a hub id, downloaded once and cached under `modelsDir`.
 */
export function resolveModelSource(model: string, modelsDir: string): ModelSource {
  if (path.isAbsolute(model) || model.startsWith('./') || model.startsWith('../')) {
    return { kind: 'local', path: path.resolve(model) };
  }
  return { kind: 'hub', id: model, cacheDir: path.resolve(modelsDir) };
}

/**
 * Where the model's files come from: `local` (a folder named by EMBEDDING_MODEL), `cache` (a hub
 * model already under MODELS_DIR, in transformers.js' cache layout `<id>/config.json`,
 * `<id>/onnx/model.onnx`) or `hub` (downloaded now).
 */
export function modelFilesFrom(source: ModelSource): 'local' | 'cache' | 'hub' {
  if (source.kind === 'local') return 'local';
  const folder = path.join(source.cacheDir, source.id);
  return existsSync(path.join(folder, 'config.json')) && existsSync(path.join(folder, 'onnx', 'model.onnx')) ? 'cache' : 'hub';
}

// transformers.js keeps its settings in one global object: loads take turns so that one load's
// settings never leak into another's.
let loadQueue: Promise<unknown> = Promise.resolve();

/**
 * The pooling a model family was trained with: [CLS] for BGE and LaBSE, the mean for the rest
 * (e5, MiniLM and other sentence-transformers, nomic, the suite's tiny model).
 */
export function poolingForModel(model: string): Pooling {
  const name = model.toLowerCase().split(/[\\/]/).filter(Boolean).slice(-2).join('/');
  return /(^|[^a-z0-9])(bge|labse)/.test(name) ? 'cls' : 'mean';
}

/** Loads the model once and returns an embedder that batches concurrent queries. */
export async function createEmbedder(options: EmbedderOptions): Promise<Embedder> {
  const source = resolveModelSource(options.model, options.modelsDir);
  // Decided just before the load, which fills the cache: a hub model already in MODELS_DIR (baked
  // into the image, or downloaded by an earlier start) is read from there, with no network.
  const load = loadQueue.then(async () => ({ from: modelFilesFrom(source), extractor: await loadPipeline(source, options) }));
  loadQueue = load.catch(() => undefined);
  const { from, extractor } = await load;
  const embedder = new BatchingEmbedder(extractor, options, prefixesForModel(options.model), poolingForModel(options.model));
  try {
    await embedder.measureDimension();
  } catch (error) {
    await embedder.dispose();
    throw new EmbeddingModelLoadError(
      `Модель эмбеддингов «${options.model}» загрузилась, но не работает: ${describeCauses(error)}. ` +
        'Нужна модель для извлечения признаков (feature-extraction) в формате ONNX.',
      error,
    );
  }
  options.logger.info({ model: options.model, source: from, dimension: embedder.dimension }, 'embedding model loaded');
  return embedder;
}

/**
 * transformers.js (and onnxruntime with it) is imported here, when a model is loaded, so that only the
 * embedding thread carries it: the main thread needs this module's errors and helpers, not the runtime.
 */
async function loadPipeline(source: ModelSource, options: EmbedderOptions): Promise<FeatureExtractionPipeline> {
  const { logger } = options;
  const { env, pipeline } = await import('@huggingface/transformers');
  configureTransformers(env, source, options.remoteHost);
  if (source.kind === 'local' && !existsSync(source.path)) {
    throw new EmbeddingModelLoadError(
      `Папка модели эмбеддингов не найдена: ${source.path}. Укажите в EMBEDDING_MODEL абсолютный путь к папке ` +
        `модели (config.json, tokenizer.json, onnx/model.onnx) или id модели на Hugging Face.`,
      undefined,
    );
  }
  logger.info({ model: options.model, source }, 'loading the embedding model');
  try {
    return await pipeline('feature-extraction', source.kind === 'local' ? source.path : source.id, {
      dtype: 'fp32',
      // One intra-op thread: ONNX Runtime's pool spins between the small inferences of paced turns,
      // −5 ms of CPU per turn at 50 trainees (docs/performance.md); indexing gets slower, turns matter more.
      session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 },
      local_files_only: source.kind === 'local',
      ...(source.kind === 'hub' ? { cache_dir: source.cacheDir } : {}),
      progress_callback: (progress) => {
        if (progress.status === 'done') logger.debug({ file: progress.file }, 'embedding model file ready');
      },
    });
  } catch (error) {
    throw new EmbeddingModelLoadError(describeLoadFailure(source, error), error);
  }
}

type TransformersEnv = (typeof import('@huggingface/transformers'))['env'];

/** The settings of the real model's path: offline for a folder, a cache under MODELS_DIR for a hub id. */
function configureTransformers(env: TransformersEnv, source: ModelSource, remoteHost: string | undefined): void {
  env.allowLocalModels = true;
  if (source.kind === 'local') {
    env.allowRemoteModels = false;
    return;
  }
  env.allowRemoteModels = true;
  env.cacheDir = source.cacheDir;
  // A model folder put by hand at MODELS_DIR/<id> is found too (the cache has the same layout).
  env.localModelPath = source.cacheDir;
  env.remoteHost = remoteHost ?? HUGGING_FACE;
}

function describeLoadFailure(source: ModelSource, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  if (source.kind === 'local') {
    return (
      `Не удалось загрузить модель эмбеддингов из папки ${source.path}: ${reason}. ` +
      'В папке должны быть config.json, tokenizer.json, tokenizer_config.json и onnx/model.onnx.'
    );
  }
  const offline = /fetch failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|network/i.test(describeCauses(error));
  return (
    `Не удалось скачать модель эмбеддингов «${source.id}» в ${source.cacheDir}` +
    (offline ? ': нет связи с хранилищем моделей (Hugging Face).' : `: ${reason}.`) +
    ' Модель скачивается один раз, при первом запуске. Без доступа в интернет скачайте папку модели заранее ' +
    'и укажите в EMBEDDING_MODEL абсолютный путь к ней (тогда ничего не скачивается) ' +
    `или положите её в ${path.join(source.cacheDir, source.id)}.`
  );
}

function describeCauses(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth += 1) {
    parts.push(current.message, (current as NodeJS.ErrnoException).code ?? '');
    current = current.cause;
  }
  return parts.filter(Boolean).join(' ');
}

interface PendingQuery {
  readonly text: string;
  resolve(embedding: Embedding): void;
  reject(error: unknown): void;
}

interface PassageJob {
  readonly texts: readonly string[];
  readonly results: Embedding[];
  resolve(embeddings: Embedding[]): void;
  reject(error: unknown): void;
}

/**
 * Owns the loaded model. All inference goes through one lane: queries that arrive in the same turn of
 * the event loop (or while the model is busy) share one run; passages run in small slices, and queries
 * waiting between two slices go first.
 */
class BatchingEmbedder implements Embedder {
  readonly modelId: string;
  dimension = 0;
  private readonly queries: PendingQuery[] = [];
  private readonly passageJobs: PassageJob[] = [];
  private readonly maxQueryBatch: number;
  private readonly passageBatchSize: number;
  /** The lane's start on the next turn of the event loop, when one is scheduled. */
  private scheduled: NodeJS.Immediate | undefined;
  private lane: Promise<void> = Promise.resolve();
  private running = false;
  private disposed = false;
  private counters = { inferenceCalls: 0, queriesEmbedded: 0, passagesEmbedded: 0 };

  constructor(
    private readonly extractor: FeatureExtractionPipeline,
    options: EmbedderOptions,
    readonly prefixes: ModelPrefixes,
    private readonly pooling: Pooling,
  ) {
    this.modelId = options.model;
    this.maxQueryBatch = options.maxQueryBatch ?? 64;
    this.passageBatchSize = options.passageBatchSize ?? 4;
  }

  /** Runs the model once on a probe: learns the dimension and warms the session up. */
  async measureDimension(): Promise<void> {
    const [probe] = await this.infer([`${this.prefixes.passage}проверка`]);
    this.dimension = probe?.length ?? 0;
  }

  embedQuery(text: string): Promise<Embedding> {
    if (this.disposed) return Promise.reject(new EmbeddingError('the embedder is disposed'));
    return new Promise<Embedding>((resolve, reject) => {
      this.queries.push({ text: `${this.prefixes.query}${text}`, resolve, reject });
      if (this.queries.length >= this.maxQueryBatch) this.startLane();
      else this.scheduleLane();
    });
  }

  embedPassages(texts: readonly string[]): Promise<Embedding[]> {
    if (this.disposed) return Promise.reject(new EmbeddingError('the embedder is disposed'));
    if (texts.length === 0) return Promise.resolve([]);
    return new Promise<Embedding[]>((resolve, reject) => {
      this.passageJobs.push({ texts: texts.map((text) => `${this.prefixes.passage}${text}`), results: [], resolve, reject });
      this.startLane();
    });
  }

  stats(): EmbedderStats {
    return { ...this.counters };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.unschedule();
    const error = new EmbeddingError('the embedder was disposed before the call ran');
    for (const query of this.queries.splice(0)) query.reject(error);
    for (const job of this.passageJobs.splice(0)) job.reject(error);
    await this.lane;
    await this.extractor.dispose();
  }

  /**
   * Queries delivered in this turn of the event loop share one inference; those arriving while the
   * model runs share the next one. (A timer window added its wait to every quiet turn.)
   */
  private scheduleLane(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.startLane();
    });
  }

  private unschedule(): void {
    clearImmediate(this.scheduled);
    this.scheduled = undefined;
  }

  private startLane(): void {
    this.unschedule();
    if (this.running) return;
    this.running = true;
    this.lane = this.drain();
  }

  /** Runs until nothing waits; never rejects (each caller gets its own error). */
  private async drain(): Promise<void> {
    for (;;) {
      if (this.queries.length > 0) await this.runQueryBatch(this.queries.splice(0, this.maxQueryBatch));
      else if (this.passageJobs.length > 0) await this.runPassageSlice(this.passageJobs[0]!);
      else {
        // Cleared in the same step that saw the queues empty: a call arriving later starts a new lane.
        this.running = false;
        return;
      }
    }
  }

  private async runQueryBatch(batch: readonly PendingQuery[]): Promise<void> {
    try {
      const embeddings = await this.infer(batch.map((query) => query.text));
      this.counters.queriesEmbedded += batch.length;
      batch.forEach((query, index) => query.resolve(embeddings[index]!));
    } catch (error) {
      const wrapped = new EmbeddingError('embedding a query failed', { cause: error });
      for (const query of batch) query.reject(wrapped);
    }
  }

  private async runPassageSlice(job: PassageJob): Promise<void> {
    const slice = job.texts.slice(job.results.length, job.results.length + this.passageBatchSize);
    try {
      job.results.push(...(await this.infer(slice)));
      this.counters.passagesEmbedded += slice.length;
    } catch (error) {
      this.passageJobs.shift();
      job.reject(new EmbeddingError('embedding passages failed', { cause: error }));
      return;
    }
    if (job.results.length === job.texts.length) {
      this.passageJobs.shift();
      job.resolve(job.results);
    }
  }

  /**
   * Tokenizer and model of the pipeline, with our own pooling: transformers.js's mean pooling
   * converts the int64 mask for every dimension of every token and was 80% of the time spent on
   * the event loop while embedding.
   */
  private async infer(texts: readonly string[]): Promise<Embedding[]> {
    this.counters.inferenceCalls += 1;
    const inputs = this.extractor.tokenizer([...texts], { padding: true, truncation: true }) as TokenizedBatch;
    const outputs = (await this.extractor.model(inputs)) as Record<string, Tensor | undefined>;
    const hidden = outputs.last_hidden_state ?? outputs.token_embeddings ?? outputs.logits;
    if (!hidden) throw new EmbeddingError('the model returned no token embeddings (last_hidden_state)');
    try {
      return poolAndNormalize(hidden.data as Float32Array, hidden.dims as [number, number, number], maskOf(inputs), this.pooling);
    } finally {
      hidden.dispose();
    }
  }
}

interface TokenizedBatch {
  readonly input_ids: Tensor;
  readonly attention_mask?: Tensor;
}

/** The attention mask as 0/1 numbers, one per token. */
function maskOf(inputs: TokenizedBatch): ArrayLike<number> {
  if (!inputs.attention_mask) throw new EmbeddingError('the tokenizer returned no attention mask');
  const data = inputs.attention_mask.data as BigInt64Array | Int32Array | Float32Array;
  return data instanceof BigInt64Array ? Array.from(data, (value) => (value === 0n ? 0 : 1)) : data;
}

/** Mean over the unmasked tokens (or the first token's vector), scaled to unit length. */
export function poolAndNormalize(
  hidden: Float32Array,
  [batch, sequence, dimension]: readonly [number, number, number],
  mask: ArrayLike<number>,
  pooling: Pooling,
): Embedding[] {
  const embeddings: Embedding[] = [];
  for (let row = 0; row < batch; row += 1) {
    const vector = new Float64Array(dimension);
    let tokens = 0;
    const last = pooling === 'cls' ? 1 : sequence;
    for (let token = 0; token < last; token += 1) {
      if (pooling === 'mean' && mask[row * sequence + token] === 0) continue;
      tokens += 1;
      const offset = (row * sequence + token) * dimension;
      for (let i = 0; i < dimension; i += 1) vector[i]! += hidden[offset + i]!;
    }
    let norm = 0;
    for (let i = 0; i < dimension; i += 1) norm += vector[i]! * vector[i]!;
    // The mean's divisor cancels out in the normalisation; only the direction matters.
    const scale = norm > 0 && tokens > 0 ? 1 / Math.sqrt(norm) : 0;
    const embedding = new Array<number>(dimension);
    for (let i = 0; i < dimension; i += 1) embedding[i] = vector[i]! * scale;
    embeddings.push(embedding);
  }
  return embeddings;
}
