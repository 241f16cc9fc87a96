import type { ParsedDocument } from './parsers.js';

/** A piece of a document small enough to embed and to quote in a prompt. */
export interface Chunk {
  readonly file: string;
  /** The headings above the chunk, outermost first, e.g. ['Тарифы', 'Тариф «Бизнес»']. */
  readonly headingPath: readonly string[];
  readonly text: string;
  /** 0, 1, 2… in the order of the document. */
  readonly position: number;
}

export interface ChunkingOptions {
  /** Characters a chunk aims at; no chunk is longer than twice this (text without spaces is cut hard). */
  readonly targetSize?: number;
  /** Characters repeated from the end of a chunk at the start of the next one in the same section. */
  readonly overlap?: number;
}

/** How heading paths are shown to people and models: «Тарифы › Тариф «Бизнес»». */
export const HEADING_SEPARATOR = ' › ';

interface Section {
  readonly headingPath: readonly string[];
  readonly lines: readonly string[];
}

/**
 * Splits a document along its Markdown headings, then along paragraphs, into chunks of about
 * `targetSize` characters with `overlap` characters carried over when a section is cut. A single
 * top-level `#` heading is the document's title and is left out of the heading paths.
 */
export function chunkDocument(document: ParsedDocument, options: ChunkingOptions = {}): Chunk[] {
  const targetSize = options.targetSize ?? 800;
  const overlap = Math.min(options.overlap ?? 100, Math.floor(targetSize / 4));
  const chunks: Chunk[] = [];
  for (const section of splitIntoSections(document.text)) {
    for (const text of packSection(section.lines, targetSize, overlap)) {
      chunks.push({ file: document.file, headingPath: section.headingPath, text, position: chunks.length });
    }
  }
  return chunks;
}

/** The text that is embedded for a chunk: its heading path gives it context. */
export function textForEmbedding(chunk: Pick<Chunk, 'headingPath' | 'text'>): string {
  return chunk.headingPath.length > 0 ? `${chunk.headingPath.join(HEADING_SEPARATOR)}\n${chunk.text}` : chunk.text;
}

const HEADING = /^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$/;
const FENCE = /^[ \t]*(```|~~~)/;

function splitIntoSections(text: string): Section[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const titleLine = documentTitleLine(lines);
  const sections: Section[] = [];
  const stack: Array<{ level: number; text: string }> = [];
  let current: string[] = [];
  let inFence = false;
  const closeSection = () => {
    if (current.some((line) => line.trim() !== '')) sections.push({ headingPath: stack.map((h) => h.text), lines: current });
    current = [];
  };
  lines.forEach((line, index) => {
    if (FENCE.test(line)) inFence = !inFence;
    const heading = inFence ? null : HEADING.exec(line);
    if (!heading) {
      current.push(line);
      return;
    }
    closeSection();
    if (index === titleLine) return;
    const level = heading[1]!.length;
    while (stack.length > 0 && stack[stack.length - 1]!.level >= level) stack.pop();
    stack.push({ level, text: cleanHeading(heading[2]!) });
  });
  closeSection();
  return sections;
}

/** The line of the document's title: its first heading, when it is the only `#` heading. */
function documentTitleLine(lines: readonly string[]): number | undefined {
  let inFence = false;
  let firstHeading: number | undefined;
  let topLevel = 0;
  lines.forEach((line, index) => {
    if (FENCE.test(line)) inFence = !inFence;
    const heading = inFence ? null : HEADING.exec(line);
    if (!heading) return;
    firstHeading ??= index;
    if (heading[1] === '#') topLevel += 1;
  });
  return firstHeading !== undefined && topLevel === 1 && lines[firstHeading]!.startsWith('# ') ? firstHeading : undefined;
}

function cleanHeading(text: string): string {
  return text.replace(/[*_`]{1,3}([^*_`]+)[*_`]{1,3}/g, '$1').trim();
}

/** A piece of text and what joins it to the piece before: paragraphs, lines or words. */
interface Unit {
  readonly text: string;
  readonly joiner: '\n\n' | '\n' | ' ';
  /** For a table row: the table's header, repeated when a chunk starts with this row. */
  readonly tableHeader?: string;
}

/** A section's paragraphs packed greedily into chunks; a cut repeats the tail of the chunk before. */
function packSection(lines: readonly string[], targetSize: number, overlap: number): string[] {
  const units = paragraphsOf(lines).flatMap((paragraph) => unitsOf(paragraph, targetSize, '\n\n'));
  const chunks: string[] = [];
  let current = '';
  for (const unit of units) {
    if (current === '') {
      current = unit.text;
    } else if (current.length + unit.joiner.length + unit.text.length <= targetSize || current.length < targetSize / 4) {
      // A short start (an intro line before a long list item) stays with what follows it.
      current = `${current}${unit.joiner}${unit.text}`;
    } else {
      chunks.push(current);
      current = unit.tableHeader
        ? `${unit.tableHeader}\n${unit.text}`
        : joinNonEmpty(tailOf(current, overlap), unit.joiner, unit.text);
    }
  }
  if (current.trim() !== '') chunks.push(current);
  // The last guard: a table row or line that no rule above could cut is cut hard.
  return chunks.flatMap((chunk) => (chunk.length > targetSize * 2 ? piecesOf(chunk, targetSize * 2) : [chunk]));
}

function joinNonEmpty(head: string, joiner: string, text: string): string {
  return head === '' ? text : `${head}${joiner}${text}`;
}

function paragraphsOf(lines: readonly string[]): string[] {
  const paragraphs: string[] = [];
  let current: string[] = [];
  let inFence = false;
  for (const line of lines) {
    if (FENCE.test(line)) inFence = !inFence;
    if (!inFence && line.trim() === '') {
      if (current.length > 0) paragraphs.push(current.join('\n').trim());
      current = [];
    } else {
      current.push(line);
    }
  }
  if (current.length > 0) paragraphs.push(current.join('\n').trim());
  return paragraphs.filter((paragraph) => paragraph !== '');
}

/** A paragraph as units no longer than the target: whole, or cut at line ends, sentence ends, spaces. */
function unitsOf(text: string, targetSize: number, joiner: Unit['joiner']): Unit[] {
  if (text.length <= targetSize) return [{ text, joiner }];
  const lines = text.split('\n');
  if (lines.length > 1) {
    if (lines.every((line) => line.trimStart().startsWith('|'))) return tableUnits(lines, joiner);
    return lines.flatMap((line, index) => unitsOf(line, targetSize, index === 0 ? joiner : '\n'));
  }
  const sentences = text.split(/(?<=[.!?…])\s+/);
  if (sentences.length > 1) {
    return sentences.flatMap((sentence, index) => unitsOf(sentence, targetSize, index === 0 ? joiner : ' '));
  }
  return text
    .split(/\s+/)
    .flatMap((word, index) =>
      piecesOf(word, targetSize).map((piece, n) => ({ text: piece, joiner: index === 0 && n === 0 ? joiner : ' ' })),
    );
}

/** A "word" longer than a chunk (a pasted hash, a base64 blob, a URL) is cut hard at the target size. */
function piecesOf(word: string, targetSize: number): string[] {
  if (word.length <= targetSize) return [word];
  const pieces: string[] = [];
  for (let start = 0; start < word.length; start += targetSize) pieces.push(word.slice(start, start + targetSize));
  return pieces;
}

/** A long Markdown table row by row; each row knows the header to repeat above it. */
function tableUnits(lines: readonly string[], joiner: Unit['joiner']): Unit[] {
  const hasHeader = lines.length > 2 && /^\s*\|?[\s:|-]+\|?\s*$/.test(lines[1]!);
  if (!hasHeader) return lines.map((line, index) => ({ text: line, joiner: index === 0 ? joiner : '\n' }));
  const header = lines.slice(0, 2).join('\n');
  return [
    { text: header, joiner },
    ...lines.slice(2).map((line) => ({ text: line, joiner: '\n' as const, tableHeader: header })),
  ];
}

/** About the last `size` characters of a text, starting at a word. */
function tailOf(text: string, size: number): string {
  if (size <= 0) return '';
  if (text.length <= size) return text;
  const slice = text.slice(-size);
  const firstSpace = slice.search(/\s/);
  return (firstSpace >= 0 ? slice.slice(firstSpace) : slice).trim();
}
