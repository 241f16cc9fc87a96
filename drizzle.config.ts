import type { Config } from 'drizzle-kit';

export default {
  // The knowledge base's lexical index has a schema file of its own (src/db/knowledge-schema.ts).
  schema: ['./src/db/schema.ts', './src/db/knowledge-schema.ts', './src/db/assignments-schema.ts'],
  out: './drizzle',
  dialect: 'postgresql',
} satisfies Config;
