import type { KnowledgeSource } from '../knowledge-base/prompt-knowledge.js';
import type { TrainingDeps } from './types.js';

/** The client's or the judge's knowledge; '' without a knowledge base or when the lookup fails. */
export async function lookUpKnowledge(
  deps: Pick<TrainingDeps, 'knowledge' | 'metrics' | 'logger'>,
  ask: (knowledge: KnowledgeSource) => Promise<string>,
): Promise<string> {
  if (!deps.knowledge) return '';
  try {
    return await ask(deps.knowledge);
  } catch (error) {
    deps.metrics?.countError('knowledge-base');
    deps.logger.warn({ err: error }, 'knowledge lookup failed; answering without it');
    return '';
  }
}
