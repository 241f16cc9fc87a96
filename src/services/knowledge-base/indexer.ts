import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { StartupError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Embedder } from './embeddings.js';
import type { ChunkToStore, VectorStore } from './vector-store.js';
import { resolveAudience, type DocumentAudience } from './audience.js';
import { chunkDocument, textForEmbedding, type Chunk, type ChunkingOptions } from './chunker.js';
import type { LexicalIndex } from './lexical-index.js';
import { parseInThread } from './parse-thread.js';
import {
  defaultDocumentLimits,
  DocumentParseError,
  formatOf,
  needsOwnThread,
  parseDocument,
  tooLargeFileReason,
  type DocumentLimits,
} from './parsers.js';

export interface IndexerDependencies {
  readonly embedder: Embedder;
  readonly store: VectorStore;
  /** Kept in step with the store when given: a file missing from either is indexed into it. */
  readonly lexical?: LexicalIndex;
  readonly logger: Logger;
}

export interface IndexOptions {
  /** The knowledge base folder (KNOWLEDGE_BASE_DIR). */
  readonly dir: string;
  readonly onProgress?: (progress: IndexProgress) => void;
  readonly chunking?: ChunkingOptions;
  /** How large a file and its text may be (KB_MAX_FILE_MB, KB_MAX_TEXT_CHARS); larger ones are skipped by name. */
  readonly limits?: DocumentLimits;
}

/** Reported after every embedded slice: enough for a progress bar. */
export interface IndexProgress {
  readonly chunksDone: number;
  readonly chunksTotal: number;
  /** The file being embedded. */
  readonly file: string;
}

export interface IndexFailure {
  readonly file: string;
  readonly reason: string;
}

/** What one indexing run did. */
export interface IndexSummary {
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
  readonly unchanged: number;
  /** Files that could not be read; a changed file that fails keeps its previous version. */
  readonly failed: readonly IndexFailure[];
  /** Chunks stored in this run (embedded, unless only the lexical index lacked them). */
  readonly chunks: number;
  readonly seconds: number;
  readonly files: {
    readonly added: readonly string[];
    readonly changed: readonly string[];
    readonly removed: readonly string[];
  };
}

/** The knowledge base folder is missing or unreadable. */
export class KnowledgeBaseDirError extends StartupError {
  constructor(dir: string, cause: unknown) {
    super(
      `Папка базы знаний ${dir} не найдена или недоступна. Укажите в KNOWLEDGE_BASE_DIR папку с документами ` +
        '(Markdown, TXT, PDF, DOCX).',
      1,
      { cause },
    );
    this.name = 'KnowledgeBaseDirError';
  }
}

interface FileOnDisk {
  /** Relative to the knowledge base, `/`-separated: the key in the store. */
  readonly file: string;
  readonly content: Buffer;
  readonly hash: string;
}

interface FileToIndex {
  readonly source: FileOnDisk;
  readonly chunks: readonly Chunk[];
  readonly audience: DocumentAudience;
  readonly isNew: boolean;
  /** Chroma lacks this version: embed it. */
  readonly toStore: boolean;
  /** The lexical index lacks this version. */
  readonly toLexical: boolean;
}

/**
 * Part of every file's hash: what the stores hold for a file besides its bytes. Changing the chunks
 * or their metadata (as the audience was added) changes it, and every file is indexed again once.
 */
const INDEX_FORMAT = 'chunks-with-audience-1';

// Slices of this many chunks between progress reports (the embedder slices further for fairness).
const EMBED_SLICE = 16;

/**
 * Brings the store in line with the folder: files whose content hash is stored are skipped, new
 * and changed files are parsed, chunked, embedded and stored, files gone from the folder are removed.
 * A file that cannot be parsed is reported in `failed` and skipped.
 */
export async function indexKnowledgeBase(deps: IndexerDependencies, options: IndexOptions): Promise<IndexSummary> {
  const started = performance.now();
  const { logger, store } = deps;
  const limits = options.limits ?? defaultDocumentLimits;
  const failed: IndexFailure[] = [];
  const onDisk = await readKnowledgeBase(options.dir, limits, (failure) => {
    logger.warn(failure, 'knowledge base file skipped');
    failed.push(failure);
  });
  const { lexical } = deps;
  const [stored, inLexical] = await Promise.all([store.listFileHashes(), lexical?.listFileHashes()]);

  const toIndex: FileToIndex[] = [];
  let unchanged = 0;
  for (const source of onDisk) {
    const storedHash = stored.get(source.file);
    const toStore = storedHash !== source.hash;
    const toLexical = inLexical !== undefined && inLexical.get(source.file) !== source.hash;
    if (!toStore && !toLexical) {
      unchanged += 1;
      continue;
    }
    const parsed = await chunkFile(source, { chunking: options.chunking, limits }, failed, logger);
    if (parsed) toIndex.push({ source, ...parsed, isNew: storedHash === undefined, toStore, toLexical });
    await yieldToEventLoop();
  }

  const toEmbed = toIndex.filter((item) => item.toStore);
  const chunksTotal = toEmbed.reduce((sum, item) => sum + item.chunks.length, 0);
  let chunksDone = 0;
  for (const item of toIndex) {
    if (item.toStore) {
      const embedded = await embedChunks(deps.embedder, item.chunks, item.audience, (count) => {
        chunksDone += count;
        options.onProgress?.({ chunksDone, chunksTotal, file: item.source.file });
      });
      await store.replaceFile(item.source.file, item.source.hash, embedded);
    }
    if (item.toLexical && lexical) {
      const chunks = item.chunks.map((chunk) => ({ ...chunk, audience: item.audience }));
      await lexical.replaceFile(item.source.file, item.source.hash, chunks);
    }
  }

  const present = new Set(onDisk.map((source) => source.file));
  const removedFiles = [...new Set([...stored.keys(), ...(inLexical?.keys() ?? [])])].filter((file) => !present.has(file)).sort();
  for (const file of removedFiles) {
    if (stored.has(file)) await store.deleteFile(file);
    if (inLexical?.has(file)) await lexical?.deleteFile(file);
  }
  // Once per run that changed the words: a recount reads every chunk.
  if (toIndex.some((item) => item.toLexical) || removedFiles.some((file) => inLexical?.has(file))) {
    await lexical?.refreshWordCounts();
  }

  const summary: IndexSummary = {
    added: toIndex.filter((item) => item.isNew).length,
    changed: toIndex.filter((item) => !item.isNew).length,
    removed: removedFiles.length,
    unchanged,
    failed,
    chunks: toIndex.reduce((sum, item) => sum + item.chunks.length, 0),
    seconds: (performance.now() - started) / 1000,
    files: {
      added: toIndex.filter((item) => item.isNew).map((item) => item.source.file),
      changed: toIndex.filter((item) => !item.isNew).map((item) => item.source.file),
      removed: removedFiles,
    },
  };
  logger.info({ ...summary, seconds: Number(summary.seconds.toFixed(2)) }, 'knowledge base indexed');
  return summary;
}

/** Parses and chunks a file and says who may see it; a failure is recorded and yields undefined. */
async function chunkFile(
  source: FileOnDisk,
  options: { readonly chunking: ChunkingOptions | undefined; readonly limits: DocumentLimits },
  failed: IndexFailure[],
  logger: Logger,
): Promise<{ readonly chunks: readonly Chunk[]; readonly audience: DocumentAudience } | undefined> {
  try {
    const format = formatOf(source.file);
    const parsed =
      format && needsOwnThread(format)
        ? await parseInThread(source.file, source.content, options.limits)
        : await parseDocument(source.file, source.content, options.limits);
    const { audience, unknownMark } = resolveAudience(source.file, parsed.audienceMark);
    if (unknownMark !== undefined) {
      logger.warn(
        { file: source.file, audience: unknownMark },
        'unknown audience mark (public or internal): the document is treated as internal',
      );
    }
    return { chunks: chunkDocument(parsed, options.chunking), audience };
  } catch (error) {
    if (!(error instanceof DocumentParseError)) throw error;
    logger.warn({ file: error.file, reason: error.reason }, 'knowledge base file skipped');
    failed.push({ file: error.file, reason: error.reason });
    return undefined;
  }
}

async function embedChunks(
  embedder: Embedder,
  chunks: readonly Chunk[],
  audience: DocumentAudience,
  onSlice: (count: number) => void,
): Promise<ChunkToStore[]> {
  const stored: ChunkToStore[] = [];
  for (let start = 0; start < chunks.length; start += EMBED_SLICE) {
    const slice = chunks.slice(start, start + EMBED_SLICE);
    const embeddings = await embedder.embedPassages(slice.map(textForEmbedding));
    slice.forEach((chunk, index) => {
      stored.push({
        text: chunk.text,
        headingPath: chunk.headingPath,
        position: chunk.position,
        audience,
        embedding: embeddings[index]!,
      });
    });
    onSlice(slice.length);
  }
  return stored;
}

/**
 * Every readable document under the folder (hidden files and folders left out), with its hash. A
 * file over the size limit is reported and never read.
 */
async function readKnowledgeBase(
  dir: string,
  limits: DocumentLimits,
  skip: (failure: IndexFailure) => void,
): Promise<FileOnDisk[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    throw new KnowledgeBaseDirError(dir, error);
  }
  const files = entries
    .filter((entry) => entry.isFile() && formatOf(entry.name) !== undefined)
    .map((entry) => path.join(entry.parentPath, entry.name))
    .map((absolute) => path.relative(dir, absolute).split(path.sep).join('/'))
    .filter((file) => !file.split('/').some((part) => part.startsWith('.') || part.startsWith('~$')))
    .sort();
  const read: FileOnDisk[] = [];
  for (const file of files) {
    const { size } = await stat(path.join(dir, file));
    if (size > limits.maxFileBytes) {
      skip({ file, reason: tooLargeFileReason(size, limits) });
      continue;
    }
    const content = await readFile(path.join(dir, file));
    read.push({ file, content, hash: createHash('sha256').update(`${INDEX_FORMAT}\0`).update(content).digest('hex') });
  }
  return read;
}
