/**
 * How rankings are merged. Scores of different searches (cosine similarity, BM25) do not compare;
 * ranks do.
 */

/** The k of reciprocal rank fusion (Cormack et al., 2009): it keeps one list's first place from outweighing agreement. */
export const RRF_K = 60;

export interface Fused<T> {
  readonly item: T;
  /** Σ 1 / (RRF_K + rank) over the lists the item is in, ranks from 1. */
  readonly score: number;
  /** Its best rank in any list, from 1. */
  readonly bestRank: number;
}

/**
 * Reciprocal rank fusion of several rankings of the same things, best first. An item in several lists
 * keeps the first list's copy. Ties go to the better best rank, then to the earlier list.
 */
export function fuseByRank<T>(lists: readonly (readonly T[])[], keyOf: (item: T) => string): Fused<T>[] {
  const fused = new Map<string, { item: T; score: number; bestRank: number; firstList: number }>();
  lists.forEach((list, listIndex) => {
    list.forEach((item, index) => {
      const rank = index + 1;
      const key = keyOf(item);
      const seen = fused.get(key);
      if (seen) {
        seen.score += 1 / (RRF_K + rank);
        seen.bestRank = Math.min(seen.bestRank, rank);
      } else {
        fused.set(key, { item, score: 1 / (RRF_K + rank), bestRank: rank, firstList: listIndex });
      }
    });
  });
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.bestRank - b.bestRank || a.firstList - b.firstList)
    .map(({ item, score, bestRank }) => ({ item, score, bestRank }));
}

/**
 * The results of several queries (one per trainee turn or claim) merged so that each query's best
 * comes before any query's second best: a passage that only one claim needs is not crowded out by
 * passages that many claims half match. Among equal ranks, a passage more queries found comes first,
 * then the earlier query's (callers put the newest turn first where it matters).
 */
export function interleaveByRank<T>(lists: readonly (readonly T[])[], keyOf: (item: T) => string, limit: number): T[] {
  return fuseByRank(lists, keyOf)
    .sort((a, b) => a.bestRank - b.bestRank || b.score - a.score)
    .slice(0, Math.max(0, limit))
    .map((fused) => fused.item);
}
