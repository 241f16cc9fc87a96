import { createHash } from 'node:crypto';
import { ChromaClient, ChromaConnectionError, type Collection, type Metadata, type Where } from 'chromadb';
import { z } from 'zod';
import type { Logger } from '../../logger.js';
import { TimeoutError, withTimeout } from '../../timeout.js';
import type { Embedding } from './embeddings.js';
import { DOCUMENT_AUDIENCES, type DocumentAudience } from './audience.js';

/** One chunk of a document, ready to be stored: its text, where it came from, and its vector. */
export interface ChunkToStore {
  readonly text: string;
  readonly headingPath: readonly string[];
  readonly position: number;
  /** Who may see it: the document's audience. */
  readonly audience: DocumentAudience;
  readonly embedding: Embedding;
}

/** A stored chunk found by a query; `distance` is cosine distance (0 = same direction). */
export interface StoredHit {
  readonly text: string;
  readonly file: string;
  readonly headingPath: readonly string[];
  readonly position: number;
  readonly audience: DocumentAudience;
  readonly distance: number;
}

/** The knowledge base's vectors in Chroma: one collection per embedding model. */
export interface VectorStore {
  readonly collectionName: string;
  /** Content hash of every indexed file, by file path (relative to the knowledge base). */
  listFileHashes(): Promise<ReadonlyMap<string, string>>;
  /** Stores a file's chunks and then removes that file's chunks of any other version. */
  replaceFile(file: string, fileHash: string, chunks: readonly ChunkToStore[]): Promise<void>;
  /** Removes every chunk of a file. */
  deleteFile(file: string): Promise<void>;
  /** The `k` chunks nearest to the embedding, nearest first; `files` limits the search to those files. */
  query(embedding: Embedding, k: number, filter?: QueryFilter): Promise<StoredHit[]>;
  /** `query` for several embeddings in one request: one list of hits per embedding. */
  queryMany(embeddings: readonly Embedding[], k: number, filter?: QueryFilter): Promise<StoredHit[][]>;
  count(): Promise<number>;
}

/** Limits a query to some files of the knowledge base (paths as stored, e.g. `sales-script.md`). */
export interface QueryFilter {
  readonly files?: readonly string[];
  /** Only chunks of documents of this audience: `public` for the client, `internal` for the trainee's hints. */
  readonly audience?: DocumentAudience;
}

export interface VectorStoreOptions {
  /** The Chroma server, e.g. http://127.0.0.1:8000. */
  readonly url: string;
  /** The embedding model: it names the collection, so switching models never mixes vectors. */
  readonly modelId: string;
  readonly logger: Logger;
  /** How long one request may take before the server counts as unreachable, ms. */
  readonly requestTimeoutMs?: number;
}

/** Chroma cannot be reached (down, refusing connections, or not answering in time). */
export class VectorStoreUnavailableError extends Error {
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VectorStoreUnavailableError';
  }
}

/** Chroma answered, but with an error. */
export class VectorStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VectorStoreError';
  }
}

const chunkMetadata = z.object({
  file: z.string(),
  file_hash: z.string(),
  heading_path: z.string(),
  position: z.number().int(),
  // Absent on chunks stored before documents had an audience: internal until re-indexed.
  audience: z.enum(DOCUMENT_AUDIENCES as [DocumentAudience, ...DocumentAudience[]]).optional(),
});

const headingPathJson = z.array(z.string());

/** Chroma's collection names: 3–512 of [A-Za-z0-9._-], starting and ending with a letter or digit. */
const MAX_SLUG = 48;
const ADD_BATCH = 256;
const PAGE = 1_000;

/**
 * `kb__` plus the model id, lower-cased and sanitised: `Xenova/multilingual-e5-small` →
 * `kb__xenova_multilingual-e5-small`. A local folder gets its name plus a hash of its full path.
 */
export function collectionNameFor(modelId: string): string {
  const isPath = modelId.startsWith('/') || modelId.startsWith('.') || /^[A-Za-z]:[\\/]/.test(modelId);
  const base = isPath ? `local_${modelId.split(/[\\/]/).filter(Boolean).pop() ?? 'model'}` : modelId;
  let slug = base
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '_')
    .replace(/_{2,}/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  const tooLong = slug.length > MAX_SLUG;
  if (isPath || tooLong) slug = `${slug.slice(0, MAX_SLUG).replace(/[^a-z0-9]+$/, '')}_${shortHash(modelId, 8)}`;
  return `kb__${slug || 'model'}`;
}

/** A store on a Chroma server; the collection is created on first use. */
export function createVectorStore(options: VectorStoreOptions): VectorStore {
  return new ChromaVectorStore(options);
}

class ChromaVectorStore implements VectorStore {
  readonly collectionName: string;
  private readonly client: ChromaClient;
  private readonly timeoutMs: number;
  private collection: Promise<Collection> | undefined;

  constructor(private readonly options: VectorStoreOptions) {
    this.collectionName = collectionNameFor(options.modelId);
    const url = new URL(options.url);
    this.client = new ChromaClient({
      host: url.hostname,
      port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
      ssl: url.protocol === 'https:',
    });
    this.timeoutMs = options.requestTimeoutMs ?? 5_000;
  }

  async listFileHashes(): Promise<ReadonlyMap<string, string>> {
    return this.run('list files', async (collection) => {
      const hashes = new Map<string, string>();
      for (let offset = 0; ; offset += PAGE) {
        const page = await collection.get({ include: ['metadatas'], limit: PAGE, offset });
        for (const metadata of page.metadatas) {
          const parsed = chunkMetadata.safeParse(metadata);
          if (parsed.success) hashes.set(parsed.data.file, parsed.data.file_hash);
        }
        if (page.ids.length < PAGE) return hashes;
      }
    });
  }

  async replaceFile(file: string, fileHash: string, chunks: readonly ChunkToStore[]): Promise<void> {
    await this.run('replace a file', async (collection) => {
      // New chunks first, old ones after: a crash in between leaves the old version, never nothing.
      for (let start = 0; start < chunks.length; start += ADD_BATCH) {
        const batch = chunks.slice(start, start + ADD_BATCH);
        await collection.upsert({
          ids: batch.map((chunk) => chunkId(file, fileHash, chunk.position)),
          embeddings: batch.map((chunk) => chunk.embedding),
          documents: batch.map((chunk) => chunk.text),
          metadatas: batch.map((chunk) => toMetadata(file, fileHash, chunk)),
        });
      }
      await collection.delete({ where: { $and: [{ file: { $eq: file } }, { file_hash: { $ne: fileHash } }] } });
    });
  }

  async deleteFile(file: string): Promise<void> {
    await this.run('delete a file', (collection) => collection.delete({ where: { file: { $eq: file } } }));
  }

  async query(embedding: Embedding, k: number, filter?: QueryFilter): Promise<StoredHit[]> {
    const [hits] = await this.queryMany([embedding], k, filter);
    return hits ?? [];
  }

  async queryMany(embeddings: readonly Embedding[], k: number, filter?: QueryFilter): Promise<StoredHit[][]> {
    if (embeddings.length === 0) return [];
    if (filter?.files?.length === 0) return embeddings.map(() => []);
    const where = whereOf(filter);
    return this.run(
      'query',
      async (collection) => {
        const result = await collection.query({
          queryEmbeddings: [...embeddings],
          nResults: k,
          include: ['documents', 'metadatas', 'distances'],
          ...(where ? { where } : {}),
        });
        const rows = result.rows();
        return embeddings.map((_, index) =>
          (rows[index] ?? []).flatMap((row) => toHit(row.document, row.metadata, row.distance)),
        );
      },
      this.timeoutMs,
    );
  }

  async count(): Promise<number> {
    return this.run('count', (collection) => collection.count(), this.timeoutMs);
  }

  private getCollection(): Promise<Collection> {
    this.collection ??= this.client
      .getOrCreateCollection({
        name: this.collectionName,
        // null, not undefined: undefined makes the client load Chroma's default embedding function.
        embeddingFunction: null,
        configuration: { hnsw: { space: 'cosine' } },
        metadata: { embedding_model: this.options.modelId },
      })
      .catch((error: unknown) => {
        this.collection = undefined;
        throw error;
      });
    return this.collection;
  }

  /** One operation on the collection, with its errors made ours. */
  private async run<T>(what: string, operation: (collection: Collection) => Promise<T>, timeoutMs?: number): Promise<T> {
    const attempt = async () => operation(await this.getCollection());
    try {
      return await (timeoutMs === undefined ? attempt() : withTimeout(attempt(), timeoutMs));
    } catch (error) {
      // A restarted or replaced server may no longer know the collection we remembered.
      this.collection = undefined;
      throw this.translate(what, error);
    }
  }

  private translate(what: string, error: unknown): Error {
    if (error instanceof ChromaConnectionError || error instanceof TimeoutError) {
      return new VectorStoreUnavailableError(this.options.url, `Chroma at ${this.options.url} is unreachable (${what})`, {
        cause: error,
      });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new VectorStoreError(`Chroma failed to ${what}: ${message}`, { cause: error });
  }
}

/**
 * Chroma's `where` for a filter. `$eq`, not `$ne` of the other audience: a chunk stored before documents
 * had an audience matches neither, so it never reaches the client (and a hint finds it only in its
 * search of every document).
 */
function whereOf(filter: QueryFilter | undefined): Where | undefined {
  const conditions: Where[] = [];
  if (filter?.files) conditions.push({ file: { $in: [...filter.files] } });
  if (filter?.audience) conditions.push({ audience: { $eq: filter.audience } });
  if (conditions.length <= 1) return conditions[0];
  return { $and: conditions };
}

function toMetadata(file: string, fileHash: string, chunk: ChunkToStore): Metadata {
  return {
    file,
    file_hash: fileHash,
    heading_path: JSON.stringify(chunk.headingPath),
    position: chunk.position,
    audience: chunk.audience,
  } satisfies z.infer<typeof chunkMetadata>;
}

function toHit(document: string | null | undefined, metadata: unknown, distance: number | null | undefined): StoredHit[] {
  const parsed = chunkMetadata.safeParse(metadata);
  if (!parsed.success || typeof document !== 'string') return [];
  const headingPath = headingPathJson.safeParse(safeJson(parsed.data.heading_path));
  return [
    {
      text: document,
      file: parsed.data.file,
      headingPath: headingPath.success ? headingPath.data : [],
      position: parsed.data.position,
      audience: parsed.data.audience ?? 'internal',
      distance: distance ?? 1,
    },
  ];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // an older or foreign record: no heading path
  }
}

/** Stable per file version and position, so re-adding the same version overwrites, never duplicates. */
function chunkId(file: string, fileHash: string, position: number): string {
  return `${shortHash(file, 16)}:${fileHash.slice(0, 16)}:${position}`;
}

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}
