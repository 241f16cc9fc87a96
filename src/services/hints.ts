/** One passage of the knowledge base with where it comes from. */
export interface HintPassage {
  readonly text: string;
  /** «file › heading › subheading» */
  readonly source: string;
}

/** `/hint`: the most relevant passage of the sales script for the dialogue so far. */
export interface HintService {
  /** undefined: nothing relevant; throws KnowledgeUnavailableError when the store is down. */
  bestPassage(query: string): Promise<HintPassage | undefined>;
}

export class KnowledgeUnavailableError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('the knowledge base is unavailable', options);
    this.name = 'KnowledgeUnavailableError';
  }
}
