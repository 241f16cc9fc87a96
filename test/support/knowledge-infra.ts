import { inject } from 'vitest';
import { startTestChroma, type TestChroma } from './chroma.js';

export interface KnowledgeInfra {
  readonly chroma: TestChroma;
  /** EMBEDDING_MODEL and CHROMA_URL for a bot process. */
  readonly env: Readonly<Record<string, string>>;
  dispose(): Promise<void>;
}

/** A Chroma of the test file's own and the suite's tiny model, the way the bot is configured in production. */
export async function startKnowledgeInfra(): Promise<KnowledgeInfra> {
  const chroma = await startTestChroma();
  return {
    chroma,
    env: { EMBEDDING_MODEL: inject('tinyModelPath'), CHROMA_URL: chroma.url },
    dispose: () => chroma.dispose(),
  };
}
