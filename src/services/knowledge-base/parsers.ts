import path from 'node:path';
import mammoth from 'mammoth';
import { extractText, getDocumentProxy } from 'unpdf';
import { splitFrontMatter, type FrontMatter } from './audience.js';

export type DocumentFormat = 'markdown' | 'text' | 'pdf' | 'docx';

/** A document's text. Markdown keeps its headings; DOCX headings are turned into Markdown ones. */
export interface ParsedDocument {
  /** The file's path relative to the knowledge base, with `/` separators. */
  readonly file: string;
  readonly format: DocumentFormat;
  /** Without the front matter of a Markdown or text file. */
  readonly text: string;
  /** `audience:` of the front matter, as written (see resolveAudience). */
  readonly audienceMark?: string;
}

/** A file that could not be read as a document; the indexer reports it by name and goes on. */
export class DocumentParseError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, options);
    this.name = 'DocumentParseError';
  }
}

const FORMATS: Readonly<Record<string, DocumentFormat>> = {
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
  '.pdf': 'pdf',
  '.docx': 'docx',
};

/** The format a file name stands for, or undefined for a file the knowledge base does not read. */
export function formatOf(fileName: string): DocumentFormat | undefined {
  return FORMATS[path.extname(fileName).toLowerCase()];
}

/** The extensions the knowledge base reads, for messages. */
export const SUPPORTED_EXTENSIONS: readonly string[] = Object.keys(FORMATS);

/** How much of a document the knowledge base takes (KB_MAX_FILE_MB, KB_MAX_TEXT_CHARS). */
export interface DocumentLimits {
  readonly maxFileBytes: number;
  readonly maxTextChars: number;
}

export const defaultDocumentLimits: DocumentLimits = { maxFileBytes: 20 * 1024 * 1024, maxTextChars: 1_000_000 };

/** Formats whose parsing inflates compressed data and may take long: parsed in a thread of their own. */
export function needsOwnThread(format: DocumentFormat): boolean {
  return format === 'pdf' || format === 'docx';
}

/** Extracts the text of one file; throws DocumentParseError naming the file when it cannot. */
export async function parseDocument(
  file: string,
  content: Uint8Array,
  limits: DocumentLimits = defaultDocumentLimits,
): Promise<ParsedDocument> {
  const format = formatOf(file);
  if (!format) throw new DocumentParseError(file, `формат не поддерживается (поддерживаются ${SUPPORTED_EXTENSIONS.join(', ')})`);
  if (content.byteLength > limits.maxFileBytes)
    throw new DocumentParseError(file, tooLargeFileReason(content.byteLength, limits));
  if (format === 'docx') refuseZipBomb(file, content, limits);
  const extracted = withoutInlineImages(await extractByFormat(file, format, content));
  // Only text formats have front matter; PDF and DOCX are marked by their folder.
  const { body: text, audienceMark }: FrontMatter =
    format === 'markdown' || format === 'text' ? splitFrontMatter(extracted) : { body: extracted };
  if (text.trim() === '') throw new DocumentParseError(file, emptyReason(format));
  if (text.length > limits.maxTextChars) {
    throw new DocumentParseError(
      file,
      `текста больше ${limits.maxTextChars.toLocaleString('ru-RU')} символов (${text.length.toLocaleString('ru-RU')}): разбейте документ или увеличьте KB_MAX_TEXT_CHARS`,
    );
  }
  return { file, format, text, ...(audienceMark !== undefined ? { audienceMark } : {}) };
}

export function tooLargeFileReason(bytes: number, limits: DocumentLimits): string {
  const mb = (n: number) => (n / 1024 / 1024).toLocaleString('ru-RU', { maximumFractionDigits: 1 });
  return `файл больше ${mb(limits.maxFileBytes)} МБ (${mb(bytes)} МБ): разбейте документ или увеличьте KB_MAX_FILE_MB`;
}

/** Pictures pasted into Markdown as base64 carry no knowledge and would make one enormous "word". */
function withoutInlineImages(text: string): string {
  return text.replace(/data:[\w.+-]+\/[\w.+-]+;base64,[A-Za-z0-9+/=\s]{100,}/g, '[изображение]');
}

/**
 * A DOCX is a zip: its central directory states how large every part is once inflated. A document
 * whose parts inflate far beyond what its text may be is refused before anything is inflated.
 */
function refuseZipBomb(file: string, content: Uint8Array, limits: DocumentLimits): void {
  const inflated = zipInflatedSize(content);
  // XML runs at 5–20 bytes per character of text; 40 leaves room for styles, tables and images.
  const allowed = Math.max(limits.maxTextChars * 40, limits.maxFileBytes * 4);
  if (inflated !== undefined && inflated > allowed) {
    throw new DocumentParseError(
      file,
      `после распаковки документ занял бы ${Math.round(inflated / 1024 / 1024)} МБ (похоже на «zip-бомбу»)`,
    );
  }
}

/** The sum of the uncompressed sizes in a zip's central directory, or undefined when it cannot be read. */
export function zipInflatedSize(zip: Uint8Array): number | undefined {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  // The end-of-central-directory record: 22 bytes plus a comment of up to 64 KiB, at the very end.
  for (let end = zip.byteLength - 22; end >= Math.max(0, zip.byteLength - 22 - 0xffff); end--) {
    if (view.getUint32(end, true) !== 0x06054b50) continue;
    const entries = view.getUint16(end + 10, true);
    let offset = view.getUint32(end + 16, true);
    let total = 0;
    for (let i = 0; i < entries; i++) {
      if (offset + 46 > zip.byteLength || view.getUint32(offset, true) !== 0x02014b50) return undefined;
      total += view.getUint32(offset + 24, true);
      offset += 46 + view.getUint16(offset + 28, true) + view.getUint16(offset + 30, true) + view.getUint16(offset + 32, true);
    }
    return total;
  }
  return undefined;
}

async function extractByFormat(file: string, format: DocumentFormat, content: Uint8Array): Promise<string> {
  switch (format) {
    case 'markdown':
    case 'text':
      return decodeText(content);
    case 'pdf':
      return extractPdfText(file, content);
    case 'docx':
      return extractDocxText(file, content);
    default: {
      const unknownFormat: never = format;
      throw new DocumentParseError(file, `неизвестный формат ${String(unknownFormat)}`);
    }
  }
}

function emptyReason(format: DocumentFormat): string {
  return format === 'pdf' ? 'в PDF нет текстового слоя (похоже на скан: нужен PDF с текстом или распознавание)' : 'файл пуст';
}

/** UTF-8 (with or without BOM); a file that is not valid UTF-8 is read as Windows-1251. */
function decodeText(content: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(content);
  } catch {
    // Russian text files saved by older Windows programs.
    return new TextDecoder('windows-1251').decode(content);
  }
}

async function extractPdfText(file: string, content: Uint8Array): Promise<string> {
  try {
    const pdf = await openPdf(content);
    try {
      const { text } = await extractText(pdf, { mergePages: false });
      return text.map((page) => page.trim()).join('\n\n');
    } finally {
      await pdf.destroy();
    }
  } catch (error) {
    throw new DocumentParseError(file, `не удалось прочитать PDF (${describe(error)})`, { cause: error });
  }
}

/** The part of pdf.js's document we use: unpdf's own type does not resolve under NodeNext. */
interface PdfDocument {
  destroy(): Promise<void>;
}

async function openPdf(content: Uint8Array): Promise<PdfDocument> {
  // A copy, because pdf.js takes ownership of the buffer; verbosity 0, because it prints warnings
  // about damaged files to the console otherwise.
  return (await getDocumentProxy(new Uint8Array(content), { verbosity: 0 })) as PdfDocument;
}

async function extractDocxText(file: string, content: Uint8Array): Promise<string> {
  try {
    const { value: html } = await mammoth.convertToHtml({ buffer: Buffer.from(content) });
    return htmlToMarkdown(html);
  } catch (error) {
    throw new DocumentParseError(file, `не удалось прочитать DOCX (${describe(error)})`, { cause: error });
  }
}

/**
 * Mammoth's simple HTML to the little Markdown the chunker needs: headings, paragraphs, list items,
 * table rows. Mammoth is the maintained DOCX reader; its own Markdown output is deprecated.
 */
export function htmlToMarkdown(html: string): string {
  const text = html
    .replace(
      /<h([1-6])[^>]*>([\s\S]*?)<\/h\1>/gi,
      (_, level: string, inner: string) => `\n\n${'#'.repeat(Number(level))} ${stripTags(inner).trim()}\n\n`,
    )
    .replace(/<li[^>]*>/gi, '\n- ')
    .replace(/<\/(p|ul|ol|table)>/gi, '\n\n')
    .replace(/<\/tr>/gi, '\n')
    .replace(/<\/t[dh]>/gi, ' | ')
    .replace(/<br\s*\/?>/gi, '\n');
  return decodeEntities(stripTags(text))
    .split('\n')
    .map((line) =>
      line
        .replace(/[ \t]+/g, ' ')
        .replace(/\s*\|\s*$/, '')
        .trim(),
    )
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function stripTags(html: string): string {
  return html.replace(/<[^>]+>/g, '');
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|nbsp);/gi, (_, entity: string) => {
    const lower = entity.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
    return named[lower] ?? '';
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
