import { describe, expect, it } from 'vitest';
import { chunkDocument, textForEmbedding, type Chunk } from '../../../src/services/knowledge-base/chunker.js';
import type { ParsedDocument } from '../../../src/services/knowledge-base/parsers.js';
import { readSampleKnowledgeBase } from '../../support/knowledge-base.js';

const markdown = (text: string, file = 'catalog.md'): ParsedDocument => ({ file, format: 'markdown', text });

const sentence = (i: number) => `Предложение номер ${i} рассказывает о тарифе и его условиях подробно.`;
const longParagraph = (from: number, count: number) => Array.from({ length: count }, (_, i) => sentence(from + i)).join(' ');

describe('chunkDocument', () => {
  it('gives each chunk its heading path, leaving out the document title', () => {
    const chunks = chunkDocument(
      markdown(
        [
          '# Каталог',
          'Вступление.',
          '## Тарифы',
          'Общие условия.',
          '### Бизнес',
          'Цена 1 200 ₽.',
          '## Поддержка',
          'Круглосуточно.',
        ].join('\n\n'),
      ),
    );
    expect(chunks.map((c) => [c.headingPath.join(' › '), c.text, c.position])).toEqual([
      ['', 'Вступление.', 0],
      ['Тарифы', 'Общие условия.', 1],
      ['Тарифы › Бизнес', 'Цена 1 200 ₽.', 2],
      ['Поддержка', 'Круглосуточно.', 3],
    ]);
    expect(chunks.every((c) => c.file === 'catalog.md')).toBe(true);
  });

  it('keeps several top-level headings in the path', () => {
    const chunks = chunkDocument(markdown('# Часть 1\n\nТекст один.\n\n# Часть 2\n\n## Раздел\n\nТекст два.'));
    expect(chunks.map((c) => c.headingPath)).toEqual([['Часть 1'], ['Часть 2', 'Раздел']]);
  });

  it('does not take # inside a code block for a heading', () => {
    const chunks = chunkDocument(markdown('## Настройка\n\n```\n# не заголовок\n```\n\nПосле кода.'));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.headingPath).toEqual(['Настройка']);
    expect(chunks[0]!.text).toContain('# не заголовок');
  });

  it('cuts a long section near the target size, repeating the end of a chunk at the start of the next', () => {
    const text = `## Длинный раздел\n\n${longParagraph(1, 12)}\n\n${longParagraph(13, 12)}\n\n${longParagraph(25, 12)}`;
    const chunks = chunkDocument(markdown(text), { targetSize: 800, overlap: 100 });
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(800 + 100 + 2);
    for (let i = 1; i < chunks.length; i += 1) {
      const previousEnd = chunks[i - 1]!.text.slice(-40);
      expect(chunks[i]!.text.slice(0, 140)).toContain(previousEnd.slice(previousEnd.indexOf(' ') + 1));
    }
    expect(chunks.map((c) => c.position)).toEqual(chunks.map((_, i) => i));
  });

  it('repeats a long table’s header above each of its pieces', () => {
    const rows = Array.from({ length: 40 }, (_, i) => `| Параметр ${i} | ${i * 100} ₽ | ${i * 200} ₽ |`);
    const table = ['| Параметр | Старт | Бизнес |', '|---|---|---|', ...rows].join('\n');
    const chunks = chunkDocument(markdown(`## Сравнение\n\n${table}`), { targetSize: 400, overlap: 50 });
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(chunk.text.startsWith('| Параметр | Старт | Бизнес |\n|---|---|---|')).toBe(true);
    const allRows = chunks.flatMap((c) => c.text.split('\n').slice(2));
    expect(new Set(allRows)).toEqual(new Set(rows));
  });

  it('splits plain text by paragraphs with no headings', () => {
    const chunks = chunkDocument({
      file: 'notes.txt',
      format: 'text',
      text: `${longParagraph(1, 10)}\n\n${longParagraph(11, 10)}`,
    });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((c) => c.headingPath.length === 0)).toBe(true);
  });

  it('puts the heading path before the text that is embedded', () => {
    const chunk: Chunk = { file: 'a.md', headingPath: ['Тарифы', 'Бизнес'], text: 'Цена.', position: 0 };
    expect(textForEmbedding(chunk)).toBe('Тарифы › Бизнес\nЦена.');
    expect(textForEmbedding({ ...chunk, headingPath: [] })).toBe('Цена.');
  });

  it('cuts the sample knowledge base into dozens of chunks of sensible size without losing a word', async () => {
    const texts = await readSampleKnowledgeBase();
    let total = 0;
    for (const [index, text] of texts.entries()) {
      const chunks = chunkDocument(markdown(text, `doc-${index}.md`));
      total += chunks.length;
      for (const chunk of chunks) {
        expect(chunk.text.trim()).not.toBe('');
        expect(chunk.text.length).toBeLessThanOrEqual(1_200);
      }
      const bodyWords = wordsOf(
        text
          .split('\n')
          .filter((line) => !line.startsWith('#'))
          .join('\n'),
      );
      const chunkWords = new Set(chunks.flatMap((c) => [...wordsOf(c.text)]));
      const lost = [...bodyWords].filter((word) => !chunkWords.has(word));
      expect(lost).toEqual([]);
    }
    expect(total).toBeGreaterThanOrEqual(30);
  });
});

function wordsOf(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
}
