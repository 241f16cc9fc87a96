import type { HintPassage, HintService } from './hints.js';
import { formatPassagesForPrompt, passageSource, type Retriever } from './retriever.js';
import type { KnowledgeSource } from './training.js';

/** The file whose passages /hint prefers: the sales script. */
const salesScriptFile = 'sales-script.md';

/** The company's knowledge for the client's and the judge's prompts, as a delimited block. */
export function knowledgeForPrompts(retriever: Retriever): KnowledgeSource {
  return {
    contextFor: async (query, limit) => formatPassagesForPrompt(await retriever.search(query, limit)),
  };
}

/** /hint: the best passage of the sales script for the dialogue; any document when the script has none. */
export function hintsFrom(retriever: Retriever): HintService {
  return {
    async bestPassage(query): Promise<HintPassage | undefined> {
      const [fromScript] = await retriever.search(query, 1, { files: [salesScriptFile] });
      const passage = fromScript ?? (await retriever.search(query, 1))[0];
      return passage ? { text: passage.text, source: passageSource(passage) } : undefined;
    },
  };
}
