import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLexicalIndex,
  lexicalQueryOf,
  normalizeDigits,
  type LexicalChunk,
  type LexicalIndex,
} from '../../../src/services/knowledge-base/lexical-index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const chunk = (
  position: number,
  text: string,
  headingPath: string[] = [],
  audience: LexicalChunk['audience'] = 'public',
): LexicalChunk => ({
  position,
  text,
  headingPath,
  audience,
});

// A catalogue where «тариф» is everywhere and the product names are what tell the chunks apart.
const CATALOGUE: LexicalChunk[] = [
  chunk(0, 'Тариф «Гиперион-Плюс» стоит 1 990 ₽ в месяц. Выезд инженера включён в тариф.', ['Тарифы', 'Тариф «Гиперион-Плюс»']),
  chunk(1, 'Тариф «Гиперион» стоит 990 ₽ в месяц. Выезда нет.', ['Тарифы', 'Тариф «Гиперион»']),
  chunk(2, 'Все тарифы, тарифы, тарифы: цены тарифов указаны за месяц, тариф меняется в любой день.', ['Тарифы']),
  chunk(3, 'Доставка по Москве бесплатная, по России — 500 ₽.', ['Доставка']),
];
const PLAYBOOK: LexicalChunk[] = [
  chunk(0, 'На вопрос о тарифе «Гиперион-Плюс» сначала спросите о задачах клиента.', ['Скрипт'], 'internal'),
];

let database: TestDatabase;
let index: LexicalIndex;

beforeAll(async () => {
  database = await createTestDatabase();
  index = createLexicalIndex(database.db);
  await index.replaceFile('catalog.md', 'v1', CATALOGUE);
  await index.replaceFile('script.md', 'v1', PLAYBOOK);
  await index.refreshWordCounts();
});

afterAll(async () => {
  await database?.drop();
});

const top = async (query: string, filter?: Parameters<LexicalIndex['searchMany']>[2]) =>
  (await index.searchMany([query], 3, filter))[0]!.map((hit) => `${hit.file}#${hit.position}`);

describe('the lexical index on a real PostgreSQL', () => {
  it('ranks the passage naming the exact product first, over one that repeats the common word', async () => {
    expect((await top('Сколько стоит тариф Гиперион-Плюс… выезд инженера?'))[0]).toBe('catalog.md#0');
    const [best] = (await index.searchMany(['Сколько стоит тариф Гиперион-Плюс… выезд инженера?'], 1))[0]!;
    expect(best).toMatchObject({
      file: 'catalog.md',
      position: 0,
      headingPath: ['Тарифы', 'Тариф «Гиперион-Плюс»'],
      audience: 'public',
    });
    expect(best!.text).toContain('1 990 ₽');
  });

  it('finds a name in any of its forms, and an exact form above an inflected one', async () => {
    expect((await top('А у «Гипериона-Плюс» есть выезд инженеров?'))[0]).toBe('catalog.md#0');
    expect((await top('что даёт Гиперион'))[0]).toBe('catalog.md#1');
  });

  it('finds a price however its thousands are written', async () => {
    for (const price of ['1990 ₽', '1 990 ₽', '1\u00a0990 ₽', '1\u202f990'])
      expect((await top(price))[0], price).toBe('catalog.md#0');
    expect(normalizeDigits('1 990 ₽, 10 000 000 и 5 × 600')).toBe('1990 ₽, 10000000 и 5 × 600');
  });

  it('searches only the audience and the files asked for', async () => {
    expect(await top('Гиперион-Плюс задачи клиента')).toContain('script.md#0');
    expect(await top('Гиперион-Плюс задачи клиента', { audience: 'public' })).not.toContain('script.md#0');
    expect(await top('Гиперион-Плюс задачи клиента', { audience: 'internal' })).toEqual(['script.md#0']);
    expect(await top('Гиперион-Плюс задачи клиента', { audience: 'internal', files: ['catalog.md'] })).toEqual([]);
    expect(await top('Гиперион-Плюс задачи клиента', { files: ['script.md'] })).toEqual(['script.md#0']);
    expect(await top('Гиперион-Плюс', { files: [] })).toEqual([]);
  });

  it('answers a batch of queries in one statement, each with its own hits', async () => {
    const [delivery, nothing, empty] = await index.searchMany(['доставка по Москве', 'квантовый телепорт', 'и в на'], 3);
    expect(delivery!.map((hit) => hit.position)).toEqual([3]);
    expect(nothing).toEqual([]);
    expect(empty).toEqual([]);
  });

  it('takes any text as a query: quotes, tsquery operators and backslashes are words or nothing', async () => {
    const hostile = ["'; drop table knowledge_chunks; --", "Гиперион' | !(:*) & <-> \\ \\\\ ''", '«»""()', '   '];
    const hits = await index.searchMany(hostile, 3);
    expect(hits).toHaveLength(hostile.length);
    expect(hits[1]!.length).toBeGreaterThan(0);
    expect((await index.listFileHashes()).size).toBe(2);
  });

  it('replaces and deletes files, and finds a word indexed since the last recount', async () => {
    await index.replaceFile('news.md', 'v1', [chunk(0, 'Новинка: тариф «Селена» для кофеен.')]);
    expect((await top('Селена'))[0]).toBe('news.md#0');
    await index.replaceFile('news.md', 'v2', [chunk(0, 'Тариф «Селена» снят с продажи.'), chunk(1, 'Замена — «Гелиос».')]);
    expect(Object.fromEntries(await index.listFileHashes())).toEqual({ 'catalog.md': 'v1', 'script.md': 'v1', 'news.md': 'v2' });
    expect((await top('Гелиос'))[0]).toBe('news.md#1');
    await index.deleteFile('news.md');
    await index.refreshWordCounts();
    expect(await top('Селена Гелиос')).toEqual([]);
  });
});

describe('lexicalQueryOf', () => {
  it('drops the question words every question shares, and keeps names and numbers as written', () => {
    const query = lexicalQueryOf('Сколько стоит тариф «Бизнес» на 10 пользователей? Есть amoCRM и Сделка+?');
    expect(query.words.trim()).toBe('тариф «Бизнес» на 10 пользователей? Есть amoCRM и Сделка+?');
    expect(query.names).toBe('Бизнес 10 amoCRM Сделка+');
  });
});
