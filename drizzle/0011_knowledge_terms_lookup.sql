-- The lexical search looks each query word up in knowledge_terms: an index instead of a scan of every word.
CREATE UNIQUE INDEX IF NOT EXISTS "knowledge_terms_config_lexeme" ON "knowledge_terms" ("config", "lexeme");
