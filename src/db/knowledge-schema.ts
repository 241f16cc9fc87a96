import { sql } from 'drizzle-orm';
import { customType, index, integer, pgEnum, pgMaterializedView, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

export const documentAudience = pgEnum('document_audience', ['public', 'internal']);

/**
 * The knowledge base's lexical index: every chunk that Chroma holds as a vector, as text searched by
 * PostgreSQL full-text search (src/services/knowledge-base/lexical-index.ts). One version of a file
 * at a time; independent of the embedding model, unlike Chroma's collections.
 */
export const knowledgeChunks = pgTable(
  'knowledge_chunks',
  {
    /** Relative to the knowledge base, `/`-separated: the key Chroma uses too. */
    file: text('file').notNull(),
    fileHash: text('file_hash').notNull(),
    position: integer('position').notNull(),
    headingPath: text('heading_path').array().notNull(),
    audience: documentAudience('audience').notNull(),
    /** What the client or the judge is shown. */
    text: text('text').notNull(),
    /** What is searched: the heading path and the text, with digit groups joined («1 990» → «1990»). */
    searchText: text('search_text').notNull(),
    /** Stemmed: «тарифа», «тарифы» and «тариф» are one word. */
    russian: tsvector('russian')
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('russian'::regconfig, search_text)`),
    /** Word forms as written: an exact product name or number counts twice (see the search). */
    simple: tsvector('simple')
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('simple'::regconfig, search_text)`),
    /** The chunk's length in distinct stems, for BM25's length normalisation. */
    lexemes: integer('lexemes')
      .notNull()
      .generatedAlwaysAs(sql`length(to_tsvector('russian'::regconfig, search_text))`),
  },
  (table) => [
    primaryKey({ columns: [table.file, table.position] }),
    // Finds the chunks holding a query's rarer stems.
    index('knowledge_chunks_russian').using('gin', table.russian),
  ],
);

/**
 * How many chunks hold each stem (`russian`) and each word form (`simple`): a word's weight in the
 * search. Refreshed by the indexer after a run that changed the lexical index.
 */
export const knowledgeTerms = pgMaterializedView('knowledge_terms', {
  config: text('config').notNull(),
  lexeme: text('lexeme').notNull(),
  chunks: integer('chunks').notNull(),
}).as(
  // Qualified: PostgreSQL 17+ builds and refreshes a materialized view with search_path = pg_catalog.
  sql`select 'russian'::text as config, word as lexeme, ndoc as chunks from ts_stat('select russian from public.knowledge_chunks')
      union all
      select 'simple'::text, word, ndoc from ts_stat('select simple from public.knowledge_chunks')`,
);
