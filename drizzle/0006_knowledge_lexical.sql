CREATE TYPE "public"."document_audience" AS ENUM('public', 'internal');--> statement-breakpoint
CREATE TABLE "knowledge_chunks" (
	"file" text NOT NULL,
	"file_hash" text NOT NULL,
	"position" integer NOT NULL,
	"heading_path" text[] NOT NULL,
	"audience" "document_audience" NOT NULL,
	"text" text NOT NULL,
	"search_text" text NOT NULL,
	"russian" "tsvector" GENERATED ALWAYS AS (to_tsvector('russian'::regconfig, search_text)) STORED NOT NULL,
	"simple" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED NOT NULL,
	"lexemes" integer GENERATED ALWAYS AS (length(to_tsvector('russian'::regconfig, search_text))) STORED NOT NULL,
	CONSTRAINT "knowledge_chunks_file_position_pk" PRIMARY KEY("file","position")
);
--> statement-breakpoint
CREATE INDEX "knowledge_chunks_russian" ON "knowledge_chunks" USING gin ("russian");--> statement-breakpoint
CREATE MATERIALIZED VIEW "public"."knowledge_terms" AS (select 'russian'::text as config, word as lexeme, ndoc as chunks from ts_stat('select russian from public.knowledge_chunks')
      union all
      select 'simple'::text, word, ndoc from ts_stat('select simple from public.knowledge_chunks'));