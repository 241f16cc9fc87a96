import { describe, expect, it } from 'vitest';
import { chunkDocument } from '../../../src/services/knowledge-base/chunker.js';
import { DocumentParseError, formatOf, htmlToMarkdown, parseDocument } from '../../../src/services/knowledge-base/parsers.js';
import { BROKEN_PDF, makeDocx, makePdf } from '../../support/documents.js';

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Windows-1251 for Russian letters (А–я, Ё, ё) and ASCII: enough to write a test file. */
function windows1251(text: string): Uint8Array {
  return Uint8Array.from(
    [...text].map((char) => {
      const code = char.codePointAt(0)!;
      if (code < 0x80) return code;
      if (code >= 0x410 && code <= 0x44f) return 0xc0 + (code - 0x410);
      if (char === 'ё') return 0xb8;
      if (char === 'Ё') return 0xa8;
      throw new Error(`no cp1251 byte for ${char}`);
    }),
  );
}

describe('parseDocument', () => {
  it('reads Markdown as it is', async () => {
    const text = '# Каталог\n\n## Тарифы\n\nЦена — 1 200 ₽.';
    expect(await parseDocument('catalog.md', utf8(text))).toEqual({ file: 'catalog.md', format: 'markdown', text });
  });

  it('reads UTF-8 text with a byte-order mark, and Windows-1251 text', async () => {
    const bom = Uint8Array.from([0xef, 0xbb, 0xbf, ...utf8('Ёмкость и объём')]);
    expect((await parseDocument('a.txt', bom)).text).toBe('Ёмкость и объём');
    expect((await parseDocument('b.txt', windows1251('Ёмкость и объём, тариф «Старт»'.replace(/[«»]/g, '"')))).text).toBe(
      'Ёмкость и объём, тариф "Старт"',
    );
  });

  it('reads a DOCX with its headings as Markdown headings', async () => {
    const docx = await makeDocx([
      { heading: 1, text: 'Регламент' },
      { heading: 2, text: 'Скидки' },
      { text: 'Скидка за год — 20%. Условия: A & B < C.' },
      { heading: 3, text: 'Согласование' },
      { text: 'Скидку больше 10% согласует руководитель.' },
    ]);
    const document = await parseDocument('rules.docx', docx);
    expect(document.format).toBe('docx');
    expect(document.text).toContain('# Регламент');
    expect(document.text).toContain('## Скидки');
    expect(document.text).toContain('Скидка за год — 20%. Условия: A & B < C.');
    const chunks = chunkDocument(document);
    expect(chunks.map((c) => c.headingPath.join(' › '))).toEqual(['Скидки', 'Скидки › Согласование']);
  });

  it('reads the text of every page of a PDF', async () => {
    const pdf = await makePdf([
      ['Business plan: 1200 RUB per user per month.', 'Paid yearly.'],
      ['Support answers within 2 hours.'],
    ]);
    const document = await parseDocument('prices.pdf', pdf);
    expect(document.format).toBe('pdf');
    expect(document.text).toContain('Business plan: 1200 RUB per user per month.');
    expect(document.text).toContain('Support answers within 2 hours.');
    expect(document.text.indexOf('Paid yearly')).toBeLessThan(document.text.indexOf('Support answers'));
  });

  it('reports a broken PDF by name', async () => {
    const error = await parseDocument('price-list.pdf', BROKEN_PDF).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DocumentParseError);
    expect((error as DocumentParseError).file).toBe('price-list.pdf');
    expect((error as DocumentParseError).message).toMatch(/^price-list\.pdf: не удалось прочитать PDF/);
  });

  it('reports a broken DOCX, an empty file and an unknown format', async () => {
    await expect(parseDocument('a.docx', utf8('not a zip'))).rejects.toThrow(/^a\.docx: не удалось прочитать DOCX/);
    await expect(parseDocument('empty.md', utf8('  \n'))).rejects.toThrow('empty.md: файл пуст');
    await expect(parseDocument('prices.xlsx', utf8('x'))).rejects.toThrow(/^prices\.xlsx: формат не поддерживается/);
    const scanned = await makePdf([[]]);
    await expect(parseDocument('scan.pdf', scanned)).rejects.toThrow(/нет текстового слоя/);
  });
});

describe('formatOf and htmlToMarkdown', () => {
  it('knows the formats by extension, in any case', () => {
    expect(['a.md', 'b.MARKDOWN', 'c.txt', 'd.Pdf', 'e.docx', 'f.doc', 'g'].map(formatOf)).toEqual([
      'markdown',
      'markdown',
      'text',
      'pdf',
      'docx',
      undefined,
      undefined,
    ]);
  });

  it('turns headings, paragraphs, lists and tables into Markdown', () => {
    const html =
      '<h1>Тарифы</h1><p>Цены &amp; условия&nbsp;— &lt;важно&gt;</p><ul><li>Старт</li><li>Бизнес</li></ul>' +
      '<table><tr><td>Старт</td><td>600 ₽</td></tr><tr><td>Бизнес</td><td>1 200 ₽</td></tr></table>';
    expect(htmlToMarkdown(html)).toBe(
      '# Тарифы\n\nЦены & условия — <важно>\n\n- Старт\n- Бизнес\n\nСтарт | 600 ₽\nБизнес | 1 200 ₽',
    );
  });
});
