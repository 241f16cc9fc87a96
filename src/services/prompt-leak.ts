/** How many consecutive characters of an instruction count as repeating it. */
const windowSize = 32;

const normalize = (text: string) =>
  text
    .toLowerCase()
    .replaceAll('ё', 'е')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/**
 * Recognises text that repeats the instructions given to a model — what a trainee must never see,
 * whatever the model was talked into. Compares normalised character windows, so changed
 * punctuation, case or line breaks do not hide a copied instruction.
 */
export class PromptLeakDetector {
  private readonly windows = new Set<string>();

  constructor(protectedTexts: readonly string[]) {
    for (const text of protectedTexts) {
      const normalized = normalize(text);
      for (let i = 0; i + windowSize <= normalized.length; i++) this.windows.add(normalized.slice(i, i + windowSize));
    }
  }

  /** True when `text` contains a window of any protected instruction. */
  leaks(text: string): boolean {
    const normalized = normalize(text);
    for (let i = 0; i + windowSize <= normalized.length; i++) {
      if (this.windows.has(normalized.slice(i, i + windowSize))) return true;
    }
    return false;
  }
}
