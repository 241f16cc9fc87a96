import type { Logger } from '../logger.js';
import type { Embedder } from './embeddings.js';
import { HEADING_SEPARATOR } from './knowledge-base/chunker.js';
import { VectorStoreUnavailableError, type StoredHit, type VectorStore } from './vector-store.js';

/** A piece of the knowledge base relevant to a query. */
export interface Passage {
  readonly text: string;
  /** The file, relative to the knowledge base. */
  readonly file: string;
  readonly headingPath: readonly string[];
  /** Cosine similarity to the query: 1 is the same meaning, 0 unrelated. */
  readonly score: number;
}

/** Finds the passages of the knowledge base relevant to a text. */
export interface Retriever {
  /**
   * The `k` most relevant passages, best first. Never throws: when Chroma (or the model) fails it
   * returns [] so the role-play goes on, and says so in the log once per outage.
   */
  search(query: string, k: number, options?: SearchOptions): Promise<Passage[]>;
}

export interface SearchOptions {
  /** Only these files of the knowledge base (e.g. `['sales-script.md']` for a hint from the script). */
  readonly files?: readonly string[];
}

export interface RetrieverDependencies {
  readonly embedder: Embedder;
  readonly store: VectorStore;
  readonly logger: Logger;
}

export interface RetrieverOptions {
  /** Passages scoring below this are dropped. */
  readonly minScore?: number;
  /** Longer queries keep their end (the latest turns of a dialogue); the model truncates anyway. */
  readonly maxQueryChars?: number;
}

/**
 * A retriever over the store; it recovers by itself when Chroma comes back. Searches that arrive
 * together (in the same turn of the event loop, or while a batch is in flight) share one inference
 * and one Chroma request: 50 trainees asking at once cost one round trip, not fifty.
 */
export function createRetriever(deps: RetrieverDependencies, options: RetrieverOptions = {}): Retriever {
  return new BatchingRetriever(deps, options);
}

interface PendingSearch {
  readonly text: string;
  readonly k: number;
  readonly files: readonly string[] | undefined;
  resolve(passages: Passage[]): void;
}

const MAX_SEARCH_BATCH = 64;

class BatchingRetriever implements Retriever {
  private readonly minScore: number;
  private readonly maxQueryChars: number;
  private readonly health: OutageLog;
  private pending: PendingSearch[] = [];
  private scheduled = false;
  private running = false;

  constructor(
    private readonly deps: RetrieverDependencies,
    options: RetrieverOptions,
  ) {
    this.minScore = options.minScore ?? -1;
    this.maxQueryChars = options.maxQueryChars ?? 2_000;
    this.health = new OutageLog(deps.logger);
  }

  search(query: string, k: number, options: SearchOptions = {}): Promise<Passage[]> {
    const text = query.trim().slice(-this.maxQueryChars);
    if (text === '' || k <= 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      this.pending.push({ text, k, files: options.files, resolve });
      this.schedule();
    });
  }

  private schedule(): void {
    // A running batch picks the newcomers up when it ends.
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.pending.length > 0) await this.searchBatch(this.pending.splice(0, MAX_SEARCH_BATCH));
    // Cleared in the same step that saw nothing pending: a later search schedules a new drain.
    this.running = false;
  }

  /** Never rejects: on failure every search in the batch gets []. */
  private async searchBatch(batch: readonly PendingSearch[]): Promise<void> {
    try {
      const embeddings = await Promise.all(batch.map((search) => this.deps.embedder.embedQuery(search.text)));
      // One Chroma request per distinct file filter (usually one for the whole batch).
      const groups = new Map<string, number[]>();
      batch.forEach((search, index) => {
        const key = JSON.stringify(search.files ?? null);
        groups.set(key, [...(groups.get(key) ?? []), index]);
      });
      await Promise.all(
        [...groups.values()].map(async (indexes) => {
          const first = batch[indexes[0]!]!;
          const k = Math.max(...indexes.map((index) => batch[index]!.k));
          const filter = first.files ? { files: first.files } : undefined;
          const hits = await this.deps.store.queryMany(indexes.map((index) => embeddings[index]!), k, filter);
          indexes.forEach((index, position) => batch[index]!.resolve(this.toPassages(hits[position] ?? [], batch[index]!.k)));
        }),
      );
      this.health.succeeded();
    } catch (error) {
      this.health.failed(error, batch.length);
      for (const search of batch) search.resolve([]);
    }
  }

  private toPassages(hits: readonly StoredHit[], k: number): Passage[] {
    return hits
      .slice(0, k)
      .map((hit) => ({ text: hit.text, file: hit.file, headingPath: hit.headingPath, score: 1 - hit.distance }))
      .filter((passage) => passage.score >= this.minScore);
  }
}

/** Logs the start of an outage once and its end once, however many searches fail in between. */
class OutageLog {
  private since: number | undefined;
  private failures = 0;

  constructor(private readonly logger: Logger) {}

  failed(error: unknown, searches: number): void {
    this.failures += searches;
    if (this.since !== undefined) return;
    this.since = Date.now();
    const unreachable = error instanceof VectorStoreUnavailableError;
    this.logger.warn(
      { err: error },
      unreachable
        ? 'knowledge base unreachable (Chroma): the dialogue goes on without retrieval until it is back'
        : 'knowledge base search failed: the dialogue goes on without retrieval until it works again',
    );
  }

  succeeded(): void {
    if (this.since === undefined) return;
    this.logger.info(
      { downForSeconds: Math.round((Date.now() - this.since) / 1000), failedSearches: this.failures },
      'knowledge base is back: retrieval resumed',
    );
    this.since = undefined;
    this.failures = 0;
  }
}

/** Where a passage comes from, as people read it: «catalog.md › Тарифы › Тариф «Бизнес»». */
export function passageSource(passage: Pick<Passage, 'file' | 'headingPath'>): string {
  return [passage.file, ...passage.headingPath].join(HEADING_SEPARATOR);
}

/**
 * The passages as one delimited block for a model's prompt, or '' when there are none. Passage text
 * is escaped, so a document cannot close the block or open a new one.
 */
export function formatPassagesForPrompt(passages: readonly Passage[]): string {
  if (passages.length === 0) return '';
  const body = passages
    .map((passage) => `<passage source="${escapeAttribute(passageSource(passage))}">\n${escapeText(passage.text)}\n</passage>`)
    .join('\n');
  return `<knowledge_base>\n${body}\n</knowledge_base>`;
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttribute(text: string): string {
  return escapeText(text).replace(/"/g, '&quot;').replace(/\n/g, ' ');
}
