import { describe, expect, it } from 'vitest';
import { chunkDocument } from '../../../src/services/knowledge-base/chunker.js';
import { parseInThread } from '../../../src/services/knowledge-base/parse-thread.js';
import { DocumentParseError, parseDocument, zipInflatedSize } from '../../../src/services/knowledge-base/parsers.js';
import { docxBomb, docxWithParagraphs, pageWithPastedScreenshot, pdfBomb } from '../../support/hostile-documents.js';

const limits = { maxFileBytes: 20 * 1024 * 1024, maxTextChars: 1_000_000 };
const reasonOf = async (work: Promise<unknown>) => {
  const error = await work.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DocumentParseError);
  return (error as DocumentParseError).reason;
};

describe('hostile documents in the knowledge base', () => {
  it('refuses a 350 KB DOCX that inflates to 100 MB before inflating it', async () => {
    const bomb = docxBomb(100);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(zipInflatedSize(bomb)).toBeGreaterThan(100 * 1024 * 1024);
    // The central directory's word, not the inflated XML's: nothing was inflated.
    expect(await reasonOf(parseInThread('bomb.docx', bomb, limits))).toContain('после распаковки документ занял бы 100 МБ');
  });

  // Up to the parse thread's own 60-s limit, plus start-up, on a loaded machine.
  it('runs a PDF that inflates to 100 MB out of its own thread’s memory, not the bot’s', { timeout: 150_000 }, async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    expect(await reasonOf(parseInThread('bomb.pdf', pdfBomb(100), limits))).toMatch(/не помещается в 512 МБ|не закончился/);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(100 * 1024 * 1024);
  });

  it('skips a file over KB_MAX_FILE_MB and a text over KB_MAX_TEXT_CHARS, saying which limit', async () => {
    expect(
      await reasonOf(parseDocument('big.md', new Uint8Array(3 * 1024 * 1024), { ...limits, maxFileBytes: 2 * 1024 * 1024 })),
    ).toContain('KB_MAX_FILE_MB');
    const long = new TextEncoder().encode('Тариф «Бизнес». '.repeat(10_000));
    expect(await reasonOf(parseDocument('long.md', long, { ...limits, maxTextChars: 50_000 }))).toContain('KB_MAX_TEXT_CHARS');
    // A real DOCX of the same size as the bomb's archive is read as usual.
    const honest = await parseInThread('honest.docx', docxWithParagraphs(200), limits);
    expect(honest.text).toContain('Тариф «Бизнес» стоит 1 990 ₽');
  });

  it('drops a pasted base64 screenshot and cuts text without spaces hard, so no chunk is enormous', async () => {
    const parsed = await parseDocument('invoice.md', new TextEncoder().encode(pageWithPastedScreenshot()), limits);
    expect(parsed.text).toContain('[изображение]');
    expect(parsed.text.length).toBeLessThan(1_000);
    const chunks = chunkDocument({ file: 'hash.txt', format: 'text', text: `Ключ: ${'x'.repeat(50_000)} конец` });
    expect(Math.max(...chunks.map((c) => c.text.length))).toBeLessThanOrEqual(1_600);
    expect(
      chunks
        .map((c) => c.text)
        .join('')
        .replace(/\s/g, '').length,
    ).toBeGreaterThanOrEqual(50_000);
  });
});
