import type { Logger } from '../../logger.js';
import type { Embedder } from './embeddings.js';
import type { DocumentAudience } from './audience.js';
import { HEADING_SEPARATOR } from './chunker.js';
import type { LexicalHit, LexicalIndex } from './lexical-index.js';
import { fuseByRank } from './rank-fusion.js';
import { VectorStoreUnavailableError, type QueryFilter, type StoredHit, type VectorStore } from './vector-store.js';

/** A piece of the knowledge base relevant to a query. */
export interface Passage {
  readonly text: string;
  /** The file, relative to the knowledge base. */
  readonly file: string;
  readonly headingPath: readonly string[];
  readonly position: number;
  /** Who may see it: the client only public passages. */
  readonly audience: DocumentAudience;
  /**
   * How well it answers, for ordering only: reciprocal rank fusion of the dense and the lexical
   * ranks (see rank-fusion.ts); with one search alone, 1 / (60 + rank).
   */
  readonly score: number;
}

/** Finds the passages of the knowledge base relevant to a text. */
export interface Retriever {
  /**
   * The `k` most relevant passages, best first. Never throws: when Chroma (or the model) fails it
   * answers from the lexical index alone, when PostgreSQL fails from the vectors alone, when both
   * fail with [] so the role-play goes on; each outage is logged once.
   */
  search(query: string, k: number, options?: SearchOptions): Promise<Passage[]>;
  /**
   * False while the latest searches reached neither side (Chroma and the model, nor PostgreSQL): an
   * empty answer then means that the knowledge base is down, not that nothing in it fits.
   */
  reachable(): boolean;
}

export interface SearchOptions {
  /** Only these files of the knowledge base (paths as stored, e.g. `['catalog.md']`). */
  readonly files?: readonly string[];
  /** Only documents of this audience: `public` is what the client may see, `internal` the seller's playbook. */
  readonly audience?: DocumentAudience;
}

export interface RetrieverDependencies {
  readonly embedder: Embedder;
  readonly store: VectorStore;
  /** The lexical index (PostgreSQL full-text search); without it the search is dense alone. */
  readonly lexical?: LexicalIndex;
  readonly logger: Logger;
}

export interface RetrieverOptions {
  /** Longer queries keep their end (the latest turns of a dialogue); the model truncates anyway. */
  readonly maxQueryChars?: number;
}

/**
 * A hybrid retriever: the dense vectors in Chroma and the lexical index in PostgreSQL, fused by rank.
 * It recovers by itself when either comes back. Searches that arrive together (in the same turn of
 * the event loop, or while a batch is in flight) share one inference, one Chroma request and one
 * SQL statement: 50 trainees asking at once cost one round trip each way, not fifty.
 */
export function createRetriever(deps: RetrieverDependencies, options: RetrieverOptions = {}): Retriever {
  return new BatchingRetriever(deps, options);
}

interface PendingSearch {
  readonly text: string;
  readonly k: number;
  readonly filter: QueryFilter;
  resolve(passages: Passage[]): void;
}

const MAX_SEARCH_BATCH = 64;

/** How deep each search looks before fusion: a passage fourth in both lists beats one first in one. */
function candidatesFor(k: number): number {
  return Math.max(2 * k, 10);
}

class BatchingRetriever implements Retriever {
  private readonly maxQueryChars: number;
  private readonly denseHealth: OutageLog;
  private readonly lexicalHealth: OutageLog;
  private pending: PendingSearch[] = [];
  private scheduled = false;
  private running = false;

  constructor(
    private readonly deps: RetrieverDependencies,
    options: RetrieverOptions,
  ) {
    this.maxQueryChars = options.maxQueryChars ?? 2_000;
    this.denseHealth = new OutageLog(deps.logger, denseOutage);
    this.lexicalHealth = new OutageLog(deps.logger, lexicalOutage);
  }

  reachable(): boolean {
    return !this.denseHealth.down || (this.deps.lexical !== undefined && !this.lexicalHealth.down);
  }

  search(query: string, k: number, options: SearchOptions = {}): Promise<Passage[]> {
    const text = query.trim().slice(-this.maxQueryChars);
    if (text === '' || k <= 0) return Promise.resolve([]);
    const filter: QueryFilter = {
      ...(options.files ? { files: options.files } : {}),
      ...(options.audience ? { audience: options.audience } : {}),
    };
    return new Promise((resolve) => {
      this.pending.push({ text, k, filter, resolve });
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

  /** Never rejects: a failing side gives no hits, and the other side answers alone. */
  private async searchBatch(batch: readonly PendingSearch[]): Promise<void> {
    // One request per distinct filter (usually one for the whole batch).
    const groups = new Map<string, PendingSearch[]>();
    for (const search of batch) {
      const key = JSON.stringify([search.filter.files ?? null, search.filter.audience ?? null]);
      groups.set(key, [...(groups.get(key) ?? []), search]);
    }
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const depth = candidatesFor(Math.max(...group.map((search) => search.k)));
        const [dense, lexical] = await Promise.all([this.denseHits(group, depth), this.lexicalHits(group, depth)]);
        group.forEach((search, index) => {
          const fused = fuseByRank([dense[index] ?? [], lexical[index] ?? []], passageKey);
          search.resolve(fused.slice(0, search.k).map(({ item, score }) => ({ ...item, score })));
        });
      }),
    );
  }

  /** Groups searched at once share one inference: the embedder batches concurrent queries. */
  private async denseHits(group: readonly PendingSearch[], depth: number): Promise<Candidate[][]> {
    try {
      const vectors = await Promise.all(group.map((search) => this.deps.embedder.embedQuery(search.text)));
      const hits = await this.deps.store.queryMany(vectors, depth, group[0]!.filter);
      this.denseHealth.succeeded();
      return hits.map((list) => list.map(candidateOf));
    } catch (error) {
      this.denseHealth.failed(error, group.length);
      return [];
    }
  }

  private async lexicalHits(group: readonly PendingSearch[], depth: number): Promise<Candidate[][]> {
    const { lexical } = this.deps;
    if (!lexical) return [];
    try {
      const hits = await lexical.searchMany(
        group.map((search) => search.text),
        depth,
        group[0]!.filter,
      );
      this.lexicalHealth.succeeded();
      return hits.map((list) => list.map(candidateOf));
    } catch (error) {
      this.lexicalHealth.failed(error, group.length);
      return [];
    }
  }
}

/** A passage before fusion gives it a score. */
type Candidate = Omit<Passage, 'score'>;

function candidateOf(hit: StoredHit | LexicalHit): Candidate {
  return { text: hit.text, file: hit.file, headingPath: hit.headingPath, position: hit.position, audience: hit.audience };
}

/** The same chunk found by both searches is one passage. */
export function passageKey(passage: Pick<Passage, 'file' | 'position'>): string {
  return `${passage.position}:${passage.file}`;
}

interface OutageMessages {
  readonly down: (error: unknown) => string;
  readonly back: string;
}

const denseOutage: OutageMessages = {
  down: (error) =>
    error instanceof VectorStoreUnavailableError
      ? 'knowledge base unreachable (Chroma): the dialogue goes on without vector search until it is back'
      : 'knowledge base search failed: the dialogue goes on without vector search until it works again',
  back: 'knowledge base is back: retrieval resumed',
};

const lexicalOutage: OutageMessages = {
  down: () => 'knowledge base lexical search failed (PostgreSQL): the dialogue goes on without it until it works again',
  back: 'knowledge base lexical search is back',
};

/** Logs the start of an outage once and its end once, however many searches fail in between. */
class OutageLog {
  private since: number | undefined;
  private failures = 0;

  constructor(
    private readonly logger: Logger,
    private readonly messages: OutageMessages,
  ) {}

  /** Between the first failure and the next success. */
  get down(): boolean {
    return this.since !== undefined;
  }

  failed(error: unknown, searches: number): void {
    this.failures += searches;
    if (this.since !== undefined) return;
    this.since = Date.now();
    this.logger.warn({ err: error }, this.messages.down(error));
  }

  succeeded(): void {
    if (this.since === undefined) return;
    this.logger.info(
      { downForSeconds: Math.round((Date.now() - this.since) / 1000), failedSearches: this.failures },
      this.messages.back,
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
