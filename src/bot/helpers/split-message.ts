/** Telegram's limit for one message's text. */
export const telegramTextLimit = 4096;

/**
 * Splits text into messages under Telegram's limit, preferring paragraph, then sentence, then word
 * boundaries; never cuts a surrogate pair in two.
 */
export function splitMessage(text: string, limit = telegramTextLimit): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    const cut = findCut(rest, limit);
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest) parts.push(rest);
  return parts;
}

function findCut(text: string, limit: number): number {
  const window = text.slice(0, limit);
  const minimum = Math.floor(limit / 2);
  const paragraph = window.lastIndexOf('\n\n');
  if (paragraph >= minimum) return paragraph + 2;
  const sentence = lastSentenceEnd(window);
  if (sentence >= minimum) return sentence;
  const line = window.lastIndexOf('\n');
  if (line >= minimum) return line + 1;
  const space = window.lastIndexOf(' ');
  if (space >= minimum) return space + 1;
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}

function lastSentenceEnd(window: string): number {
  let end = -1;
  for (const match of window.matchAll(/[.!?…]+["»”)]*\s/g)) end = match.index + match[0].length;
  return end;
}

/**
 * Packs whole lines into messages under the limit. For formatted text (HTML): a cut between lines
 * never leaves a tag open, which a cut inside a line could.
 */
export function packLines(lines: readonly string[], limit = telegramTextLimit): string[] {
  const parts: string[] = [];
  let current = '';
  for (const line of lines) {
    if (current && current.length + 1 + line.length > limit) {
      parts.push(current);
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current.trim()) parts.push(current);
  return parts;
}
