import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBotProcess, type BotProcess } from '../support/bot-process.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startKnowledgeInfra, type KnowledgeInfra } from '../support/knowledge-infra.js';
import { isJudgeRequest, scriptedModel } from '../support/model-script.js';
import { OpenAiFake } from '../support/openai-fake.js';
import { TelegramFake, type FakeUser } from '../support/telegram-fake.js';

const token = '123456789:AAFakeTokenForTestsOnly_0123456789';
const trainee = 7301;
let telegram: TelegramFake;
let openai: OpenAiFake;
let database: TestDatabase;
let knowledge: KnowledgeInfra;
let bot: BotProcess;

beforeAll(async () => {
  [telegram, openai, database, knowledge] = await Promise.all([
    TelegramFake.start({ token }),
    OpenAiFake.start(),
    createTestDatabase(),
    startKnowledgeInfra(),
  ]);
  openai.respondWith(scriptedModel());
  bot = await startBotProcess(telegram, {
    env: {
      ...knowledge.env,
      OPENAI_API_KEY: openai.apiKey,
      OPENAI_BASE_URL: openai.baseUrl,
      DATABASE_URL: database.url,
      ALLOWED_USER_IDS: String(trainee),
    },
  });
});

afterAll(async () => {
  await bot.stop('SIGTERM');
  await Promise.all([telegram.stop(), openai.stop(), database.drop(), knowledge.dispose()]);
});

async function startScenario(user: FakeUser, key: string): Promise<void> {
  user.sendText('/scenarios');
  await user.waitForMessage((m) => m.text.includes('Выберите сценарий'));
  user.pressButton(`sc:${key}`);
  await user.waitForMessage((m) => m.text.includes('уровень сложности'));
  user.pressButton(`sd:${key}:medium`);
  await user.waitForMessage((m) => m.text.includes('началась'));
  await user.waitForNextMessage();
}

const textOf = (content: unknown) => (typeof content === 'string' ? content : JSON.stringify(content));

describe('the knowledge base in the dialogue', () => {
  it('is indexed at start-up before polling', () => {
    expect(bot.output()).toMatch(/knowledge base ready/);
    expect(bot.output()).toMatch(/"added":5/);
  });

  it("grounds the client's prompt in passages relevant to the dialogue", async () => {
    const user = telegram.user(trainee);
    await startScenario(user, 'upsell');
    user.sendText('Тариф «Бизнес» стоит 1 200 ₽ за пользователя в месяц при оплате за год');
    await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает'));
    const system = textOf(openai.requests.at(-1)!.messages[0]!.content);
    expect(system).toContain('<knowledge_base>');
    expect(system).toMatch(/<passage source="catalog\.md › [^"]+">/);
    expect(system).toMatch(/Бизнес/);
  });

  it('gives /hint the most relevant passage of the sales script with its source', async () => {
    const user = telegram.user(trainee);
    user.sendText('/hint');
    const hint = await user.waitForMessage((m) => m.text.includes('Подсказка из базы знаний'));
    expect(hint.text).toMatch(/Источник: sales-script\.md › /);
  });

  it("grounds the judge in passages relevant to the trainee's claims", async () => {
    const user = telegram.user(trainee);
    user.sendText('/finish');
    await user.waitForMessage((m) => /\d+\/100/.test(m.text));
    const judge = openai.requests.filter(isJudgeRequest).at(-1)!;
    const input = textOf(judge.messages[1]!.content);
    expect(input).toContain('<knowledge_base>');
    expect(input).toMatch(/<passage source="catalog\.md/);
    expect(input.indexOf('<knowledge_base>')).toBeLessThan(input.indexOf('<transcript>'));
  });

  it('goes on without retrieval while Chroma is down, and retrieval comes back by itself', async () => {
    const user = telegram.user(trainee);
    await startScenario(user, 'price-objection');
    await knowledge.chroma.stop();
    user.sendText('Почему у вас дороже, чем у других?');
    await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает на: Почему'));
    expect(textOf(openai.requests.at(-1)!.messages[0]!.content)).not.toContain('<knowledge_base>');

    await knowledge.chroma.restart();
    user.sendText('Тариф «Старт» — 600 ₽ при оплате за год');
    await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает на: Тариф'));
    expect(textOf(openai.requests.at(-1)!.messages[0]!.content)).toContain('<knowledge_base>');
    const warnings = bot.output().split('\n').filter((line) => line.includes('"level":40') && /chroma|knowledge/i.test(line));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(2);
  });
});
