import { eq } from 'drizzle-orm';
import { postgresClientOf, type Database } from '../../db/client.js';
import { knowledgeChunks, knowledgeTerms } from '../../db/knowledge-schema.js';
import type { QueryFilter } from './vector-store.js';
import type { DocumentAudience } from './audience.js';

/** One chunk of a document as the lexical index keeps it. */
export interface LexicalChunk {
  readonly text: string;
  readonly headingPath: readonly string[];
  readonly position: number;
  readonly audience: DocumentAudience;
}

/** A chunk found by words; `score` is BM25 (higher is better, comparable within one query only). */
export interface LexicalHit extends LexicalChunk {
  readonly file: string;
  readonly score: number;
}

/**
 * The knowledge base's words in PostgreSQL, beside its vectors in Chroma: product names, tariffs and
 * prices are what a small embedding model ranks worst and what full-text search finds exactly.
 */
export interface LexicalIndex {
  /** Content hash of every indexed file, by file path. */
  listFileHashes(): Promise<ReadonlyMap<string, string>>;
  /** Replaces every chunk of a file with these, in one transaction. */
  replaceFile(file: string, fileHash: string, chunks: readonly LexicalChunk[]): Promise<void>;
  deleteFile(file: string): Promise<void>;
  /** Recounts how many chunks hold each word, after a run that replaced or deleted files. */
  refreshWordCounts(): Promise<void>;
  /** For each query, its `k` best chunks, best first; one statement for the whole batch. */
  searchMany(queries: readonly string[], k: number, filter?: QueryFilter): Promise<LexicalHit[][]>;
}

/** The lexical index in the `knowledge_chunks` table (src/db/knowledge-schema.ts). */
export function createLexicalIndex(db: Database): LexicalIndex {
  return {
    listFileHashes: async () => {
      const rows = await db
        .selectDistinct({ file: knowledgeChunks.file, fileHash: knowledgeChunks.fileHash })
        .from(knowledgeChunks);
      return new Map(rows.map((row) => [row.file, row.fileHash]));
    },
    replaceFile: (file, fileHash, chunks) =>
      db.transaction(async (tx) => {
        await tx.delete(knowledgeChunks).where(eq(knowledgeChunks.file, file));
        for (let start = 0; start < chunks.length; start += INSERT_BATCH) {
          await tx.insert(knowledgeChunks).values(
            chunks.slice(start, start + INSERT_BATCH).map((chunk) => ({
              file,
              fileHash,
              position: chunk.position,
              headingPath: [...chunk.headingPath],
              audience: chunk.audience,
              text: chunk.text,
              searchText: searchTextOf(chunk.headingPath, chunk.text),
            })),
          );
        }
      }),
    deleteFile: async (file) => {
      await db.delete(knowledgeChunks).where(eq(knowledgeChunks.file, file));
    },
    refreshWordCounts: async () => {
      await db.refreshMaterializedView(knowledgeTerms);
    },
    searchMany: async (queries, k, filter) => {
      if (queries.length === 0) return [];
      if (k <= 0 || filter?.files?.length === 0) return queries.map(() => []);
      const parameters = bm25Parameters(queries.map(lexicalQueryOf), k, filter);
      const rows = await postgresClientOf(db).unsafe<HitRow[]>(BM25_SEARCH, parameters, { prepare: true });
      const hits: LexicalHit[][] = queries.map(() => []);
      for (const row of rows) {
        hits[row.query_index]!.push({
          file: row.file,
          position: row.position,
          headingPath: row.heading_path,
          audience: row.audience,
          text: row.text,
          score: row.score,
        });
      }
      return hits;
    },
  };
}

const INSERT_BATCH = 500;

/** What is searched for a chunk: its heading path gives the words of its context, as in the embedding. */
export function searchTextOf(headingPath: readonly string[], text: string): string {
  return normalizeDigits([...headingPath, text].join('\n'));
}

/**
 * «1 990 ₽», «1 990» (no-break space) and «1990» are one number: the parser would make «1» and
 * «990» of the first two. Applied alike to the chunks and to the queries.
 */
export function normalizeDigits(text: string): string {
  return text.replace(/(\d)[ \u00a0\u202f](?=\d{3}(?!\d))/g, '$1');
}

/** What a query searches for: its words, and the names and numbers in it as written. */
export interface LexicalQuery {
  /** Without the question words that every question shares («сколько стоит…»). */
  readonly words: string;
  /** Words in quotes, capitalised inside a sentence, with digits or Latin letters: «Самостарт», 1990, amoCRM. */
  readonly names: string;
}

/**
 * Russian question and filler words that PostgreSQL's stop list keeps. Frequent in questions and
 * rare in a catalogue, they would outweigh the product a question names: «Сколько стоит тариф
 * «Бизнес»?» found «Сколько времени…» in the objection guide first.
 */
const QUESTION_WORDS = new Set([
  ...'сколько стоит стоят стоить нужно надо ещё еще подскажите скажите пожалуйста'.split(' '),
  ...'какие каких каким какую какое это этот эта эти ваш ваша ваше ваши вашей нам нас вас'.split(' '),
]);
const WORD = /[\p{L}\p{N}]+(?:[-+][\p{L}\p{N}]+)*\+?/gu;
const QUOTED = /[«"„“]([^»"”]{1,80})[»"”]/gu;

/** Splits a query into what the lexical search weighs. */
export function lexicalQueryOf(query: string): LexicalQuery {
  const text = normalizeDigits(query);
  const words = text.replace(WORD, (word) => (QUESTION_WORDS.has(word.toLowerCase()) ? ' ' : word));
  const quoted = [...text.matchAll(QUOTED)].map((match) => match[1]!);
  const nameLike = text
    .split(/(?<=[.!?…])\s+|\n+/)
    .flatMap((sentence) =>
      (sentence.match(WORD) ?? []).filter((word, index) => /\d|[A-Za-z]/.test(word) || (index > 0 && /^\p{Lu}/u.test(word))),
    );
  return { words, names: [...new Set([...quoted, ...nameLike])].join(' ') };
}

interface HitRow extends Record<string, unknown> {
  readonly query_index: number;
  readonly score: number;
  readonly file: string;
  readonly position: number;
  readonly heading_path: string[];
  readonly audience: DocumentAudience;
  readonly text: string;
}

// BM25's usual constants: how fast repeats of a word stop adding, and how much length is forgiven.
const K1 = '1.2';
const B = '0.75';
/** A word in more than this share of the chunks (and in more than 20) weighs little and picks no candidates… */
const COMMON_SHARE = '0.1';
/** …unless it is among the query's rarest few: «Сколько стоит тариф «Бизнес»?» needs «бизнес», common as it is. */
const RAREST_ALWAYS = '3';

/**
 * BM25 over both text-search vectors of a chunk, OR of the query's words (not AND). Each word weighs
 * by its rarity (knowledge_terms), so «Самостарт» outweighs «тариф»; `russian` matches stems
 * («тарифа» = «тариф»), and for the query's names and numbers `simple` adds the same again for the
 * form as written, so an exact product name or price ranks above an inflected mention. Stop words
 * and question words count in neither.
 *
 * Only chunks holding one of the query's rarer stems are scored, found through the GIN index: nearly
 * every chunk holds «тариф» or «клиент», and scoring them all made a query four times slower at
 * 2 000 chunks (docs/retrieval.md); the query's three rarest stems pick candidates however common.
 * Rarity is counted over the whole knowledge base, whatever the filter.
 *
 * One text for every batch and filter ($1 words[], $2 names[], $3 files[] or null, $4 audience or
 * null, $5 k), run as a prepared statement: planning it took longer than running it. `selective` and
 * `candidates` are materialized, or the planner folds them into the scoring join and tests every
 * chunk against every word (and parses the OR of the words again for each pair).
 *
 * plainto_tsquery('simple', lexeme) turns a lexeme back into a query without quoting it by hand (a
 * hyphenated one becomes «compound & part & part», which the compound's chunks all hold), and the OR
 * of such queries is their canonical texts joined, which PostgreSQL itself has quoted.
 */
const BM25_SEARCH = `
    with queries as (
      select q.ordinality::int - 1 as query_index, q.words, q.names
      from unnest($1::text[], $2::text[]) with ordinality as q(words, names, ordinality)
    ),
    terms as (
      select distinct q.query_index, 'russian'::text as config, lexeme
      from queries q, unnest(tsvector_to_array(to_tsvector('russian', q.words))) as lexeme
      union
      select distinct q.query_index, 'simple'::text, form
      from queries q, unnest(tsvector_to_array(to_tsvector('simple', q.names))) as form
      where length(to_tsvector('russian', form)) > 0
    ),
    corpus as (
      select count(*)::float8 as n, greatest(avg(c.lexemes), 1)::float8 as average_length
      from knowledge_chunks c
    ),
    weighted as (
      select t.query_index, t.config, t.lexeme, plainto_tsquery('simple', t.lexeme) as term, d.df,
             ln(1 + greatest(s.n - d.df + 0.5, 0.5) / (d.df + 0.5)) as idf,
             d.df <= greatest(20, ${COMMON_SHARE} * s.n) as uncommon
      from terms t
      left join knowledge_terms f on f.config = t.config and f.lexeme = t.lexeme
      cross join corpus s
      -- A word indexed since the last refresh of knowledge_terms counts as rare.
      cross join lateral (select greatest(coalesce(f.chunks, 0), 1)::float8 as df) d
    ),
    selective as materialized (
      select w.query_index, string_agg('(' || w.term::text || ')', ' | ')::tsquery as any_term
      from (
        select w.*, rank() over (partition by w.query_index order by w.df) as rarity
        from weighted w
        where w.config = 'russian' and numnode(w.term) > 0
      ) w
      where w.uncommon or w.rarity <= ${RAREST_ALWAYS}
      group by w.query_index
    ),
    candidates as materialized (
      select s.query_index, c.file, c.position, c.russian, c.simple, c.lexemes
      from selective s
      join knowledge_chunks c on c.russian @@ s.any_term
      where ($3::text[] is null or c.file = any($3::text[]))
        and ($4::document_audience is null or c.audience = $4::document_audience)
    ),
    scored as (
      select m.query_index, m.file, m.position,
             sum(w.idf * e.tf * (${K1} + 1)
                 / (e.tf + ${K1} * (1 - ${B} + ${B} * m.lexemes / s.average_length)))::float8 as score
      from candidates m
      join weighted w on w.query_index = m.query_index
        and case when w.config = 'russian' then m.russian @@ w.term else m.simple @@ w.term end
      -- How often the chunk holds the word: cover density of a one-word query is 0.1 per occurrence.
      cross join lateral (
        select greatest(1, floor(ts_rank_cd(case when w.config = 'russian' then m.russian else m.simple end, w.term, 0) * 10 + 0.01)) as tf
      ) e
      cross join corpus s
      group by m.query_index, m.file, m.position
    ),
    ranked as (
      select s.*, row_number() over (partition by s.query_index order by s.score desc, s.file, s.position) as rank
      from scored s
    )
    select r.query_index, r.score, c.file, c.position, c.heading_path, c.audience, c.text
    from ranked r
    join knowledge_chunks c on c.file = r.file and c.position = r.position
    where r.rank <= $5
    order by r.query_index, r.rank`;

/** The lexical search's parameters, in BM25_SEARCH's order. */
function bm25Parameters(queries: readonly LexicalQuery[], k: number, filter: QueryFilter | undefined) {
  return [
    queries.map((query) => query.words),
    queries.map((query) => query.names),
    filter?.files ? [...filter.files] : null,
    filter?.audience ?? null,
    k,
  ];
}
