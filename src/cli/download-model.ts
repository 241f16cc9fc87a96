/**
 * Downloads the embedding model into MODELS_DIR, in the layout the bot loads it from, and proves it
 * runs by embedding one sentence. The Dockerfile runs it at build time (build argument
 * PRELOAD_MODEL=true), so a container starts without reaching the model hub.
 *
 * Usage: MODELS_DIR=/app/models npx tsx scripts/download-model.ts [model-id]
 * The model is the argument, else EMBEDDING_MODEL, else Xenova/multilingual-e5-small.
 * HF_ENDPOINT names a mirror of the hub (for example https://hf-mirror.com); huggingface.co otherwise.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';

export const DEFAULT_MODEL = 'Xenova/multilingual-e5-small';
const HUGGING_FACE = 'https://huggingface.co/';

export interface DownloadOptions {
  /** A hub id, as EMBEDDING_MODEL holds it. */
  readonly model: string;
  readonly modelsDir: string;
  /** The hub or a mirror; huggingface.co when absent. */
  readonly remoteHost?: string;
}

export interface DownloadResult {
  /** Where the model's files are now: what the bot finds without any network. */
  readonly folder: string;
  readonly dimension: number;
}

/** Failure with a message that says what to do; the script prints only the message. */
export class ModelDownloadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelDownloadError';
  }
}

/** Downloads `model` into `modelsDir` (nothing is fetched twice) and embeds a test sentence with it. */
export async function downloadModel(options: DownloadOptions): Promise<DownloadResult> {
  const modelsDir = path.resolve(options.modelsDir);
  if (isLocalFolder(options.model)) {
    throw new ModelDownloadError(`${options.model} — это папка, а не id модели на Hugging Face: скачивать нечего.`);
  }
  // The settings of the bot's own loader (src/services/knowledge-base/embeddings.ts), so the cache is the one it reads.
  env.allowLocalModels = true;
  env.allowRemoteModels = true;
  env.cacheDir = modelsDir;
  env.localModelPath = modelsDir;
  env.remoteHost = withTrailingSlash(options.remoteHost ?? HUGGING_FACE);

  let extractor: FeatureExtractionPipeline;
  try {
    extractor = await pipeline('feature-extraction', options.model, { dtype: 'fp32', cache_dir: modelsDir });
  } catch (error) {
    throw new ModelDownloadError(describeFailure(options.model, modelsDir, env.remoteHost, error), { cause: error });
  }
  try {
    const output = await extractor('query: проверка модели', { pooling: 'mean', normalize: true });
    const dimension = output.dims.at(-1) ?? 0;
    return { folder: path.join(modelsDir, options.model), dimension };
  } finally {
    await extractor.dispose();
  }
}

function describeFailure(model: string, modelsDir: string, host: string, error: unknown): string {
  const causes = describeCauses(error);
  const offline = /fetch failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|network/i.test(causes);
  const notFound = /\b404\b|not found|Could not locate/i.test(causes);
  const reason = offline
    ? `нет связи с хранилищем моделей ${host}`
    : notFound
      ? `на ${host} нет такой модели или нужных файлов (onnx/model.onnx)`
      : error instanceof Error
        ? error.message
        : String(error);
  return [
    `Не удалось скачать модель эмбеддингов «${model}» в ${modelsDir}: ${reason}.`,
    'Что можно сделать:',
    '  • собрать образ там, где есть доступ к huggingface.co, или указать зеркало: --build-arg HF_ENDPOINT=https://…;',
    '  • собрать без модели (--build-arg PRELOAD_MODEL=false): бот скачает её при первом запуске;',
    `  • скачать папку модели заранее и положить её в ${path.join(modelsDir, model)} (том с кэшем моделей).`,
  ].join('\n');
}

// A copy of the one in src/services/knowledge-base/embeddings.ts on purpose: the Dockerfile runs this script
// before src/ is in the image (so code changes do not download the model again).
function describeCauses(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth += 1) {
    parts.push(current.message, (current as NodeJS.ErrnoException).code ?? '');
    current = current.cause;
  }
  return parts.join(' ');
}

/** The bot's own rule (src/services/knowledge-base/embeddings.ts): a path means a local folder, never a download. */
function isLocalFolder(model: string): boolean {
  return path.isAbsolute(model) || model.startsWith('./') || model.startsWith('../');
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

async function main(): Promise<number> {
  const model = process.argv[2] || process.env.EMBEDDING_MODEL || DEFAULT_MODEL;
  const modelsDir = process.env.MODELS_DIR || path.join(process.env.DATA_DIR || './data', 'models');
  const remoteHost = process.env.HF_ENDPOINT || undefined;
  if (isLocalFolder(model)) {
    console.log(`EMBEDDING_MODEL=${model} — локальная папка: скачивать нечего, подключите её к контейнеру томом.`);
    return 0;
  }
  console.log(`Модель эмбеддингов: ${model}\nПапка моделей: ${path.resolve(modelsDir)}`);
  try {
    const result = await downloadModel({ model, modelsDir, ...(remoteHost ? { remoteHost } : {}) });
    const onnx = path.join(result.folder, 'onnx', 'model.onnx');
    console.log(`Готово: ${result.folder} (размерность ${result.dimension}${existsSync(onnx) ? '' : `; нет ${onnx}`})`);
    return 0;
  } catch (error) {
    if (error instanceof ModelDownloadError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
