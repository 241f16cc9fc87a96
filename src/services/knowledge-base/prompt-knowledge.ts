import type { ChatMessage } from '../../db/queries/messages.js';
import { interleaveByRank } from './rank-fusion.js';
import { formatPassagesForPrompt, passageKey, type Passage, type Retriever } from './retriever.js';

/**
 * What the client and the judge are told of the company, each only what it may know, as a delimited
 * block for the prompt ('' when nothing is relevant or the knowledge base is down).
 */
export interface KnowledgeSource {
  /**
   * For the client: public documents only (never the seller's playbook), searched with each of the
   * trainee's last turns, the newest first, so that a product named in the newest turn is found.
   */
  forClient(dialogue: readonly DialogueTurn[]): Promise<string>;
  /**
   * Starts the client's search for a trainee line that is about to be stored, so that it runs beside
   * the write; `forClient` then takes its result when the line is the dialogue's newest.
   */
  searchAhead(turn: string): void;
  /**
   * For the judge: every document, one search per trainee claim, merged so that each claim's best
   * passage comes before any claim's second best.
   */
  forJudge(traineeTurns: readonly string[]): Promise<string>;
}

export type DialogueTurn = Pick<ChatMessage, 'role' | 'content'>;

/** The client's prompt: as many passages as before the per-turn search. */
const clientPassages = 3;
/** The newest trainee turns the client's knowledge is searched with: the latest, and the one before for its thread. */
const clientTurns = 2;
/** Claims are checked one by one now, so more of them find their passage; ~2–3k tokens of a 32k judge context. */
const judgePassages = 8;
/** The retriever serves 64 searches with one inference; beyond this, claims with a number or a name are kept. */
const judgeQueries = 48;

/**
 * How long the client's passages for a turn stay good for the next turn, which searches with that
 * turn again (as the one before its newest): the search is not repeated. The newest turn is always
 * searched, so an outage or a re-indexed knowledge base shows at once.
 */
const previousTurnTtlMs = 30_000;
const previousTurnsKept = 5_000;
/** Searches started ahead that no turn took (a line stored twice, a session just ended) are dropped past this many. */
const aheadKept = 1_000;

/** The company's knowledge for the client's and the judge's prompts. */
export function knowledgeForPrompts(retriever: Retriever): KnowledgeSource {
  const recent = new Map<string, { readonly at: number; readonly passages: readonly Passage[] }>();
  const searchForClient = (turn: string) => retriever.search(turn, clientPassages, { audience: 'public' });
  const keep = (turn: string, passages: readonly Passage[]) => {
    // Only a whole answer: one found while the knowledge base was down would stay empty.
    if (passages.length === 0 || !retriever.reachable()) return;
    recent.delete(turn);
    recent.set(turn, { at: Date.now(), passages });
    if (recent.size > previousTurnsKept) recent.delete(recent.keys().next().value!);
  };
  const earlierSearch = (turn: string): Promise<Passage[]> => {
    const kept = recent.get(turn);
    return kept && Date.now() - kept.at < previousTurnTtlMs ? Promise.resolve([...kept.passages]) : searchForClient(turn);
  };
  const ahead = new Map<string, { readonly at: number; readonly search: Promise<Passage[]> }>();
  const newestSearch = (turn: string): Promise<Passage[]> => {
    const started = ahead.get(turn);
    ahead.delete(turn);
    return started && Date.now() - started.at < previousTurnTtlMs ? started.search : searchForClient(turn);
  };
  return {
    searchAhead: (turn) => {
      if (turn.trim() === '' || ahead.has(turn)) return;
      ahead.set(turn, { at: Date.now(), search: searchForClient(turn) });
      if (ahead.size > aheadKept) ahead.delete(ahead.keys().next().value!);
    },
    forClient: async (dialogue) => {
      const turns = dialogue
        .filter((turn) => turn.role === 'user')
        .map((turn) => turn.content)
        .filter((text) => text.trim() !== '')
        .slice(-clientTurns)
        .reverse();
      const [newest, ...earlier] = turns;
      if (newest === undefined) return '';
      const [found, ...earlierFound] = await Promise.all([newestSearch(newest), ...earlier.map(earlierSearch)]);
      keep(newest, found);
      const lists = [found, ...earlierFound];
      return formatPassagesForPrompt(interleaveByRank(lists, passageKey, clientPassages));
    },
    forJudge: async (traineeTurns) => {
      const claims = claimsToCheck(traineeTurns, judgeQueries);
      if (claims.length === 0) return '';
      // Each claim needs its best few; a short dialogue digs deeper to fill the block.
      const depth = Math.min(judgePassages, Math.max(2, Math.ceil(judgePassages / claims.length) + 1));
      const lists = await Promise.all(claims.map((claim) => retriever.search(claim, depth)));
      return formatPassagesForPrompt(interleaveByRank(lists, passageKey, judgePassages));
    },
  };
}

/**
 * The trainee's claims: each sentence of each turn that says something (a one-sentence turn is one
 * claim), in the order said, without repeats. When there are more than `max`, the ones with a number
 * or a name in quotes (a price, a tariff) are kept first: those are what the judge checks.
 */
export function claimsToCheck(traineeTurns: readonly string[], max: number): string[] {
  const seen = new Set<string>();
  const claims: string[] = [];
  for (const turn of traineeTurns) {
    for (const sentence of turn.split(SENTENCE_END)) {
      const claim = sentence.trim();
      const key = claim.toLowerCase();
      if (!saysSomething(claim) || seen.has(key)) continue;
      seen.add(key);
      claims.push(claim);
    }
  }
  if (claims.length <= max) return claims;
  const factual = new Set(claims.filter((claim) => FACT.test(claim)).slice(0, max));
  const rest = claims.filter((claim) => !factual.has(claim)).slice(0, max - factual.size);
  const kept = new Set([...factual, ...rest]);
  return claims.filter((claim) => kept.has(claim));
}

const SENTENCE_END = /(?<=[.!?…])\s+|\n+/;
/** A number, or a name in quotes: «Бизнес», "Склад". */
const FACT = /\d|[«"„“][^»"”]+[»"”]/;
const CONTENT_WORD = /[\p{L}\d]{3,}|\d/gu;

/** «Да.», «Спасибо!» and «Ок» find nothing worth a passage. */
function saysSomething(sentence: string): boolean {
  return (sentence.match(CONTENT_WORD)?.length ?? 0) >= 2;
}
