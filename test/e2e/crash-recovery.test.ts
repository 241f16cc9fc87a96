import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKnowledgeInfra, type KnowledgeInfra } from '../support/knowledge-infra.js';
import { startBotProcess, type BotProcess } from '../support/bot-process.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { isJudgeRequest, scriptedModel } from '../support/model-script.js';
import { OpenAiFake } from '../support/openai-fake.js';
import { TelegramFake, type FakeUser } from '../support/telegram-fake.js';

const token = '123456789:AAFakeTokenForTestsOnly_0123456789';
const trainee = 7101;
let telegram: TelegramFake;
let knowledge: KnowledgeInfra;
let openai: OpenAiFake;
let database: TestDatabase;
let bot: BotProcess | undefined;

const startBot = async () =>
  (bot = await startBotProcess(telegram, {
    env: {
      ...knowledge.env,
      OPENAI_API_KEY: openai.apiKey,
      OPENAI_BASE_URL: openai.baseUrl,
      DATABASE_URL: database.url,
      ALLOWED_USER_IDS: String(trainee),
    },
  }));

beforeAll(async () => {
  knowledge = await startKnowledgeInfra();
  [telegram, openai, database] = await Promise.all([TelegramFake.start({ token }), OpenAiFake.start(), createTestDatabase()]);
  openai.respondWith(scriptedModel());
  await startBot();
});
afterAll(async () => {
  await knowledge.dispose();
  await bot?.stop('SIGTERM');
  await Promise.all([telegram.stop(), openai.stop(), database.drop()]);
});

async function count(sql: string): Promise<number> {
  return (await database.db.execute<{ n: number }>(sql))[0]!.n;
}

async function startScenario(user: FakeUser): Promise<void> {
  user.sendText('/scenarios');
  await user.waitForMessage((m) => m.text.includes('Выберите сценарий'));
  user.pressButton('sc:cold-call');
  await user.waitForMessage((m) => m.text.includes('уровень сложности'));
  user.pressButton('sd:cold-call:easy');
  await user.waitForMessage((m) => m.text.includes('началась'));
  await user.waitForNextMessage();
}

describe('the bot killed with SIGKILL', () => {
  it('during a turn: after the restart the trainee gets the answer, and the message is stored once', async () => {
    const user = telegram.user(trainee);
    await startScenario(user);
    const requests = openai.requests.length;
    openai.respondWith(() => ({ hang: true }));
    user.sendText('Вопрос перед сбоем');
    await telegram.waitUntil(() => (openai.requests.length > requests ? true : undefined));
    await bot!.stop('SIGKILL');

    openai.respondWith(scriptedModel());
    await startBot();
    await user.waitForMessage((m) => m.text === 'Клиент отвечает на: Вопрос перед сбоем');
    expect(await count(`select count(*)::int as n from messages where content = 'Вопрос перед сбоем'`)).toBe(1);
  });

  it('during /finish: after the restart the trainee gets the evaluation, stored once', async () => {
    const user = telegram.user(trainee);
    openai.respondWith((request) => (isJudgeRequest(request) ? { hang: true } : 'ok'));
    user.sendText('/finish');
    await user.waitForMessage((m) => m.text.includes('Оцениваю'));
    await telegram.waitUntil(() => (openai.requests.some((r) => isJudgeRequest(r)) ? true : undefined));
    await bot!.stop('SIGKILL');

    openai.respondWith(scriptedModel());
    await startBot();
    const verdict = await user.waitForMessage((m) => /\d+\/100/.test(m.text));
    expect(verdict.visibleText).toContain('Холодный звонок');
    expect(await count('select count(*)::int as n from evaluations')).toBe(1);
    expect(await count("select count(*)::int as n from sessions where status = 'active'")).toBe(0);

    // A third start has nothing left to do: nothing is sent twice.
    const before = user.messages().length;
    await bot!.stop('SIGTERM');
    await startBot();
    user.sendText('/history');
    await user.waitForMessage((m) => m.text.includes('последние тренировки'));
    expect(user.messages().length).toBe(before + 1);
  });
});
