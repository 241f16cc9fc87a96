import { describe, expect, it } from 'vitest';
import { resolveAudience, splitFrontMatter } from '../../../src/services/knowledge-base/audience.js';
import { parseDocument } from '../../../src/services/knowledge-base/parsers.js';

describe('splitFrontMatter', () => {
  it('splits off a YAML block at the top and reads its audience', () => {
    expect(splitFrontMatter('---\ntitle: Скрипт\naudience: internal\n---\n# Скрипт\n\nТекст')).toEqual({
      body: '# Скрипт\n\nТекст',
      audienceMark: 'internal',
    });
    expect(splitFrontMatter('\uFEFF---\r\naudience: Public\r\n...\r\nТекст')).toEqual({ body: 'Текст', audienceMark: 'Public' });
  });

  it('splits off front matter without an audience, and an empty one, leaving no mark', () => {
    expect(splitFrontMatter('---\ntags: [цены]\n---\nТекст')).toEqual({ body: 'Текст' });
    expect(splitFrontMatter('---\n---\nТекст')).toEqual({ body: 'Текст' });
  });

  it('leaves a document that starts with a horizontal rule as it is', () => {
    for (const text of [
      '---\nПросто текст: и двоеточие\n\nещё\n---\nдальше',
      '---\n- пункт\n---\n',
      'Текст\n---\naudience: internal\n---',
    ]) {
      expect(splitFrontMatter(text)).toEqual({ body: text });
    }
    const far = `---\n${'строка\n'.repeat(150)}---\n`;
    expect(splitFrontMatter(far)).toEqual({ body: far });
  });

  it('keeps a mark that is not text, written out, so that it counts as unknown', () => {
    expect(splitFrontMatter('---\naudience: [internal]\n---\nТекст').audienceMark).toBe('["internal"]');
  });
});

describe('resolveAudience', () => {
  it("takes the document's own mark first, then the nearest internal/ or public/ folder, then public", () => {
    expect(resolveAudience('internal/prices.md', 'public')).toEqual({ audience: 'public' });
    expect(resolveAudience('prices.md', ' INTERNAL ')).toEqual({ audience: 'internal' });
    expect(resolveAudience('Internal/scripts/cold.docx', undefined)).toEqual({ audience: 'internal' });
    expect(resolveAudience('internal/public/faq.pdf', undefined)).toEqual({ audience: 'public' });
    expect(resolveAudience('public/internal/guide.pdf', undefined)).toEqual({ audience: 'internal' });
    expect(resolveAudience('catalog.md', undefined)).toEqual({ audience: 'public' });
    // A file named like the folder is not a folder.
    expect(resolveAudience('internal.md', undefined)).toEqual({ audience: 'public' });
  });

  it('counts an unknown mark as internal and hands it back to be reported', () => {
    expect(resolveAudience('draft.md', 'секретно')).toEqual({ audience: 'internal', unknownMark: 'секретно' });
  });
});

describe('parsing a marked document', () => {
  it('takes the front matter out of the text of Markdown and text files', async () => {
    const markdown = await parseDocument('a.md', Buffer.from('---\naudience: internal\n---\n# Скрипт\n\nТекст'));
    expect(markdown).toEqual({ file: 'a.md', format: 'markdown', text: '# Скрипт\n\nТекст', audienceMark: 'internal' });
    const text = await parseDocument('a.txt', Buffer.from('---\naudience: public\n---\nТекст'));
    expect(text).toMatchObject({ text: 'Текст', audienceMark: 'public' });
    expect(await parseDocument('b.md', Buffer.from('# Без отметки'))).toEqual({
      file: 'b.md',
      format: 'markdown',
      text: '# Без отметки',
    });
  });

  it('refuses a document that is nothing but front matter, as an empty one', async () => {
    await expect(parseDocument('c.md', Buffer.from('---\naudience: public\n---\n'))).rejects.toThrow(/пуст/);
  });
});
