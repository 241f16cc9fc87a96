import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, type Embedder } from '../../../src/services/knowledge-base/embeddings.js';
import { indexKnowledgeBase } from '../../../src/services/knowledge-base/indexer.js';
import { createLexicalIndex } from '../../../src/services/knowledge-base/lexical-index.js';
import { readLabelledSet } from '../../../src/services/knowledge-base/recall.js';
import { createHintService } from '../../../src/services/hints.js';
import { claimsToCheck, knowledgeForPrompts, type DialogueTurn } from '../../../src/services/knowledge-base/prompt-knowledge.js';
import { ModelUnavailableError, type ChatModel } from '../../../src/services/llm.js';
import type { Scenario } from '../../../src/services/scenarios.js';
import { createRetriever, type Retriever } from '../../../src/services/knowledge-base/retriever.js';
import { createVectorStore } from '../../../src/services/knowledge-base/vector-store.js';
import { startTestChroma, type TestChroma } from '../../support/chroma.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../../support/database.js';
import { readSampleKnowledgeBase, SAMPLE_KNOWLEDGE_BASE_DIR } from '../../support/knowledge-base.js';
import { captureLogs, WARN } from '../../support/log-capture.js';
import { createTinyModel, type TinyModel } from '../../support/tiny-model.js';

const INTERNAL_FILES = ['sales-script.md', 'objections.md', 'service-standards.md'];

/** The files a prompt block quotes, in order. */
const sourcesOf = (block: string) => [...block.matchAll(/<passage source="([^"]+)">/g)].map((match) => match[1]!);
const filesOf = (block: string) => sourcesOf(block).map((source) => source.split(' › ')[0]!);
const trainee = (content: string): DialogueTurn => ({ role: 'user', content });
const client = (content: string): DialogueTurn => ({ role: 'assistant', content });

let chroma: TestChroma;
let database: TestDatabase;
let model: TinyModel;
let embedder: Embedder;
let sample: Retriever;

beforeAll(async () => {
  [chroma, database, model] = await Promise.all([
    startTestChroma(),
    createTestDatabase(),
    readSampleKnowledgeBase().then((texts) => createTinyModel({ texts: [...texts, ...MARKED_TEXTS] })),
  ]);
  embedder = await createEmbedder({ model: model.path, modelsDir: '/nonexistent', logger: silentLogger });
  const store = createVectorStore({ url: chroma.url, modelId: embedder.modelId, logger: silentLogger });
  const lexical = createLexicalIndex(database.db);
  await indexKnowledgeBase({ embedder, store, lexical, logger: silentLogger }, { dir: SAMPLE_KNOWLEDGE_BASE_DIR });
  sample = createRetriever({ embedder, store, lexical, logger: silentLogger });
});

afterAll(async () => {
  await embedder?.dispose();
  await Promise.all([chroma?.dispose(), database?.drop(), model?.cleanup()]);
});

describe("the client's knowledge", () => {
  it("never holds a passage of the seller's internal documents, whatever the trainee says", async () => {
    const knowledge = knowledgeForPrompts(sample);
    const set = await readLabelledSet(path.resolve(import.meta.dirname, '../../fixtures/kb-questions.json'));
    // What a trainee says that the playbook answers best: objections, scripts, discounts, complaints.
    const playbookTurns = [
      'Понимаю, что дорого. Давайте посчитаем, во что вам обходятся потерянные заявки?',
      'Добрый день! Меня зовут Мария, компания «Сделка+», вам удобно говорить?',
      'Могу дать скидку 15% без согласования с руководителем',
      'Пришлите КП на почту — хорошо, а что для вас важно в предложении?',
      'Приносим извинения за сбой, кредит за недоступность сервиса вам начислим',
      ...set.filter((item) => item.expected.some((expected) => INTERNAL_FILES.includes(expected.file))).map((item) => item.text),
    ];
    const blocks = await Promise.all(
      [...playbookTurns, ...set.map((item) => item.text)].map((text) =>
        knowledge.forClient([client('Слушаю вас.'), trainee(text)]),
      ),
    );
    expect(blocks.filter((block) => block !== '').length).toBeGreaterThan(playbookTurns.length);
    for (const block of blocks) {
      expect(filesOf(block).filter((file) => INTERNAL_FILES.includes(file))).toEqual([]);
      expect(block).not.toContain('Примеры фраз');
    }
  });

  it("searches with the trainee's newest turn first, so the product it names leads", async () => {
    const knowledge = knowledgeForPrompts(sample);
    const block = await knowledge.forClient([
      client('Мы сейчас ведём клиентов в Excel, и нас это устраивает.'),
      trainee('Понимаю. А как вы сейчас переносите таблицы между сотрудниками?'),
      client('Пересылаем файлы по почте. А что вы предлагаете для небольшой команды?'),
      trainee('Для команды до 5 человек есть «Самостарт»: видеокурс и консультация специалиста.'),
    ]);
    const sources = sourcesOf(block);
    expect(sources).toHaveLength(3);
    expect(sources[0]).toBe('catalog.md › Пакеты внедрения › «Самостарт» и «Быстрый старт»');
  });

  it('is empty before the trainee has said anything', async () => {
    expect(await knowledgeForPrompts(sample).forClient([client('Алло?')])).toBe('');
  });
});

describe("the judge's knowledge", () => {
  it("finds each claim's passage, internal documents included", async () => {
    const block = await knowledgeForPrompts(sample).forJudge([
      'Добрый день! Тариф «Старт» стоит 750 ₽ за пользователя при помесячной оплате.',
      'Модуль «Склад» подключим на любом тарифе. А за каждый склад сверх трёх — 990 ₽ в месяц.',
      'И скидку 15% я могу дать сам, без согласования с руководителем.',
      'Спасибо!',
    ]);
    const sources = sourcesOf(block);
    expect(sources.length).toBeLessThanOrEqual(8);
    expect(sources).toContain('catalog.md › Тарифы › Тариф «Старт»');
    expect(sources).toContain('catalog.md › Дополнительные модули › Модуль «Склад»');
    expect(sources).toContain('sales-script.md › Полномочия по скидкам');
  });

  it('is empty when the trainee said nothing to check', async () => {
    expect(await knowledgeForPrompts(sample).forJudge(['Да.', 'Ок'])).toBe('');
  });
});

describe("the trainee's hints", () => {
  const scenario = {
    title: 'Возражение «дорого»',
    description: 'Клиент считает, что CRM стоит слишком дорого для его компании.',
    language: 'ru',
    brief: { who: 'Директор', company: 'Сеть салонов', known: ['Смотрел тарифы на сайте'] },
    difficulties: { medium: { label: 'Средний', behaviour: 'торгуется' } },
  } as unknown as Scenario; // only what a hint reads of a scenario
  const dialogue = [
    client('Слушаю вас.'),
    trainee('Тариф «Бизнес» стоит 1 200 ₽ за пользователя в месяц при оплате за год.'),
    client('Это дорого для нас, у конкурентов дешевле.'),
  ];
  /** A model that records the prompt and answers with the passage it is told to pick, or is down. */
  const modelAnswering = (pick: number | 'down', prompts: string[]): ChatModel => ({
    streamChat: () => Promise.reject(new Error('not used')),
    completeJson: async ({ messages }) => {
      prompts.push(messages.map((m) => m.content).join('\n'));
      if (pick === 'down') throw new ModelUnavailableError('unavailable', 'model is down');
      const text = JSON.stringify({
        advice: 'Спросите, с чем клиент сравнивает.',
        phrase: 'Дорого по сравнению с чем?',
        source: pick,
      });
      return { text, promptTokens: 1, completionTokens: 1 };
    },
  });

  it('draws on the internal documents only, and names the passage the model picked', async () => {
    const prompts: string[] = [];
    const hints = createHintService({
      model: modelAnswering(2, prompts),
      modelName: 'm',
      retriever: sample,
      logger: silentLogger,
    });

    const hint = await hints.advise({ scenario, difficulty: 'medium', dialogue });

    const passages = [...prompts[0]!.matchAll(/<passage number="(\d)" source="([^"]+)">/g)];
    expect(passages.map((m) => Number(m[1]))).toEqual([1, 2, 3, 4]);
    const files = passages.map((m) => m[2]!.split(' › ')[0]!);
    expect(files.every((file) => INTERNAL_FILES.includes(file))).toBe(true);
    expect(passages.map((m) => m[2])).toContain('objections.md › «Дорого»');
    expect(hint).toEqual({
      kind: 'advice',
      advice: 'Спросите, с чем клиент сравнивает.',
      phrase: 'Дорого по сравнению с чем?',
      source: passages[1]![2],
    });
  });

  it('shows the best internal passage in whole sentences when the model is down', async () => {
    const hints = createHintService({
      model: modelAnswering('down', []),
      modelName: 'm',
      retriever: sample,
      logger: silentLogger,
    });

    const hint = await hints.advise({ scenario, difficulty: 'medium', dialogue });

    expect(hint?.kind).toBe('passage');
    expect(INTERNAL_FILES).toContain(hint!.source.split(' › ')[0]);
    if (hint?.kind !== 'passage') return;
    expect(hint.text.length).toBeLessThanOrEqual(600);
    expect(hint.text).toMatch(/^[\p{Lu}«•\d]/u);
    expect(hint.text).toMatch(/[.!?…»;:]$/);
  });
});

describe('claimsToCheck', () => {
  it('takes each sentence of each turn that says something, once, in the order said', () => {
    expect(
      claimsToCheck(
        ['Да. Тариф «Старт» стоит 750 ₽! Это недорого.', 'Тариф «Старт» стоит 750 ₽!', 'Ок', 'Пробный период 14 дней'],
        10,
      ),
    ).toEqual(['Тариф «Старт» стоит 750 ₽!', 'Это недорого.', 'Пробный период 14 дней']);
  });

  it('keeps the claims with a number or a name first when there are too many', () => {
    const chatter = Array.from({ length: 5 }, (_, i) => `Давайте обсудим вопрос номер${'а'.repeat(i + 1)} подробно`);
    const facts = ['Тариф «Бизнес» от трёх пользователей', 'Внедрение за 79 900 ₽'];
    expect(claimsToCheck([...chatter, ...facts], 4)).toEqual([...chatter.slice(0, 2), ...facts]);
  });
});

// A knowledge base marked every way a company might mark it.
const UNMARKED = '# Доставка\n\nДоставка оборудования «Гиперион» по Москве бесплатная.';
const FRONT_MATTER_INTERNAL =
  '---\naudience: internal\n---\n# Скрипт\n\nСекретная фраза продавца про «Гиперион»: торгуйтесь до последнего.';
const FOLDER_INTERNAL = '# Возражения\n\nНа «дорого» про «Гиперион» отвечайте встречным вопросом.';
const FOLDER_PUBLIC_MARK =
  '---\naudience: public\n---\n# Прайс\n\nТариф «Гиперион-Плюс» стоит 1 990 ₽ в месяц, выезд инженера включён.';
const TYPO_MARK = '---\naudience: интернал\n---\n# Черновик\n\nЧерновик скидок на «Гиперион»: до 40%.';
const MARKED_TEXTS = [UNMARKED, FRONT_MATTER_INTERNAL, FOLDER_INTERNAL, FOLDER_PUBLIC_MARK, TYPO_MARK];

describe('who may see a document', () => {
  let dir: string;
  let knowledge: ReturnType<typeof knowledgeForPrompts>;
  const { logger, records } = captureLogs();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kb-audience-'));
    await mkdir(path.join(dir, 'internal'));
    await Promise.all([
      writeFile(path.join(dir, 'delivery.md'), UNMARKED),
      writeFile(path.join(dir, 'script.md'), FRONT_MATTER_INTERNAL),
      writeFile(path.join(dir, 'internal', 'objections.txt'), FOLDER_INTERNAL),
      writeFile(path.join(dir, 'internal', 'prices.md'), FOLDER_PUBLIC_MARK),
      writeFile(path.join(dir, 'draft.md'), TYPO_MARK),
    ]);
    const store = createVectorStore({ url: chroma.url, modelId: `${embedder.modelId}#marked`, logger: silentLogger });
    const own = await createTestDatabase();
    const lexical = createLexicalIndex(own.db);
    await indexKnowledgeBase({ embedder, store, lexical, logger }, { dir });
    knowledge = knowledgeForPrompts(createRetriever({ embedder, store, lexical, logger: silentLogger }));
    return async () => {
      await own.drop();
      await rm(dir, { recursive: true, force: true });
    };
  });

  const everyFile = ['delivery.md', 'draft.md', 'internal/objections.txt', 'internal/prices.md', 'script.md'];

  it('shows the client unmarked documents and documents marked public, even inside internal/', async () => {
    const block = await knowledge.forClient([
      trainee('Расскажите про «Гиперион»: доставка, цена, скидки, что отвечать на «дорого»?'),
    ]);
    expect(filesOf(block).sort()).toEqual(['delivery.md', 'internal/prices.md']);
    expect(block).not.toMatch(/Секретная|встречным|Черновик/);
  });

  it('shows the judge every document', async () => {
    const block = await knowledge.forJudge([
      'Доставка «Гиперион» по Москве бесплатная.',
      'Секретная фраза продавца: торгуйтесь.',
      'На «дорого» отвечайте встречным вопросом.',
      'Тариф «Гиперион-Плюс» стоит 1 990 ₽.',
      'Черновик скидок: до 40%.',
    ]);
    expect([...new Set(filesOf(block))].sort()).toEqual(everyFile);
  });

  it('finds the exact tariff the trainee names, in the words the client would hear it', async () => {
    const block = await knowledge.forClient([trainee('Сколько стоит тариф Гиперион-Плюс… выезд инженера?')]);
    expect(sourcesOf(block)[0]).toBe('internal/prices.md');
    expect(block).toContain('1 990 ₽');
  });

  it('treats an unknown mark as internal and says so in the log', () => {
    const warning = records().find((record) => record.level === WARN && /audience/.test(record.msg));
    expect(warning).toMatchObject({ file: 'draft.md', audience: 'интернал' });
  });
});
