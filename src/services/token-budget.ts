import type { ChatMessage } from '../db/queries/messages.js';

/**
 * A cheap, deliberately pessimistic token estimate. Cyrillic runs at about 2.5–3 characters per token
 * in current tokenizers; 4 tokens cover a message's framing.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 2.5) + 4;
}

/** The newest messages whose estimated size fits the budget, oldest first: old turns go first. */
export function fitHistoryToBudget(history: readonly ChatMessage[], budget: number): ChatMessage[] {
  const kept: ChatMessage[] = [];
  let used = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i]!;
    used += estimateTokens(message.content);
    if (used > budget && kept.length > 0) break;
    kept.push(message);
  }
  return kept.reverse();
}
