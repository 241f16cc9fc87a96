import type { DeliveryRecord } from '../db/schema.js';

/** One spoken turn: its transcript and its length in seconds (Telegram's, whole seconds). */
export interface SpokenTurn {
  readonly text: string;
  readonly seconds: number;
}

/** A turn longer than this is a monologue: on the phone the client stops listening. */
export const monologueSeconds = 45;
/** Below this much speech in all, a rate in words per minute says nothing. */
const minSecondsForRate = 3;

const notLetter = '(?<![\\p{L}\\p{N}])';
const notLetterAfter = '(?![\\p{L}\\p{N}])';

/**
 * Filler words as transcripts spell them. «как бы» before a pronoun is a real question
 * («как бы вы хотели…») and is not counted; «вот» and «значит» are, as speech coaches count them.
 */
const fillers: ReadonlyArray<{ readonly word: string; readonly pattern: RegExp }> = [
  { word: 'ну', pattern: /ну/ },
  { word: 'как бы', pattern: /как\s+бы(?!\s+(?:вы|ты|мы|он|она|они|я|вам|вас|не)(?![\p{L}\p{N}]))/u },
  { word: 'э-э', pattern: /(?:э+(?:-э+)*|э*м{2,}|эм+|м-м+|uh+|um+|erm)/ },
  { word: 'типа', pattern: /типа/ },
  { word: 'короче', pattern: /короче/ },
  { word: 'в общем', pattern: /в\s+общем/ },
  { word: 'значит', pattern: /значит/ },
  { word: 'это самое', pattern: /это\s+самое/ },
  { word: 'так сказать', pattern: /так\s+сказать/ },
  { word: 'вот', pattern: /вот/ },
  { word: 'собственно', pattern: /собственно/ },
].map(({ word, pattern }) => ({ word, pattern: new RegExp(`${notLetter}${pattern.source}${notLetterAfter}`, 'giu') }));

/** Counts each filler word in a text, case-insensitively and only as whole words. */
export function countFillers(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const lower = text.toLowerCase().replaceAll('ё', 'е');
  for (const { word, pattern } of fillers) {
    const found = lower.match(pattern)?.length ?? 0;
    if (found > 0) counts.set(word, found);
  }
  return counts;
}

export function countWords(text: string): number {
  return text.match(/[\p{L}\p{N}]+(?:[-'’][\p{L}\p{N}]+)*/gu)?.length ?? 0;
}

/**
 * How the trainee sounded over their spoken turns: speaking rate from the words and Telegram's
 * durations, filler words from the transcripts, monologues by length. Undefined when nothing was spoken.
 */
export function analyseDelivery(turns: readonly SpokenTurn[]): DeliveryRecord | undefined {
  if (turns.length === 0) return undefined;
  const fillerCounts = new Map<string, number>();
  let words = 0;
  let spokenSeconds = 0;
  let longestSeconds = 0;
  for (const turn of turns) {
    words += countWords(turn.text);
    spokenSeconds += Math.max(0, turn.seconds);
    longestSeconds = Math.max(longestSeconds, turn.seconds);
    for (const [word, count] of countFillers(turn.text)) fillerCounts.set(word, (fillerCounts.get(word) ?? 0) + count);
  }
  return {
    voiceTurns: turns.length,
    spokenSeconds,
    words,
    wordsPerMinute: spokenSeconds >= minSecondsForRate ? Math.round((words / spokenSeconds) * 60) : null,
    fillers: [...fillerCounts.entries()].map(([word, count]) => ({ word, count })).sort((a, b) => b.count - a.count),
    longMonologues: turns.filter((t) => t.seconds > monologueSeconds).length,
    longestSeconds,
  };
}

/** Russian phone speech: slower than this sounds unsure, faster is hard to follow. */
export const comfortableRate = { min: 110, max: 170 } as const;

export type RateVerdict = 'slow' | 'comfortable' | 'fast';

export function rateVerdict(wordsPerMinute: number): RateVerdict {
  if (wordsPerMinute < comfortableRate.min) return 'slow';
  return wordsPerMinute > comfortableRate.max ? 'fast' : 'comfortable';
}

export function fillerTotal(delivery: Pick<DeliveryRecord, 'fillers'>): number {
  return delivery.fillers.reduce((sum, f) => sum + f.count, 0);
}

/** The measurements as the judge reads them (it hears nothing: it gets these numbers and the words). */
export function describeDeliveryForJudge(delivery: DeliveryRecord): string {
  const rate =
    delivery.wordsPerMinute === null
      ? 'темп не измерен (слишком короткие голосовые)'
      : `темп ${delivery.wordsPerMinute} слов в минуту (комфортно ${comfortableRate.min}–${comfortableRate.max})`;
  const fillerList = delivery.fillers.map((f) => `«${f.word}» ×${f.count}`).join(', ') || 'нет';
  return [
    `Голосовых реплик менеджера: ${delivery.voiceTurns}, всего ${delivery.spokenSeconds} с, ${delivery.words} слов.`,
    `Измерено: ${rate}; слова-паразиты: ${fillerList}.`,
    `Реплик дольше ${monologueSeconds} с: ${delivery.longMonologues} (самая длинная ${delivery.longestSeconds} с).`,
  ].join('\n');
}
