import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/database.js';
import { isJudgeRequest, scriptedModel } from '../support/model-script.js';
import type { OpenAiFake } from '../support/openai-fake.js';
import type { TelegramFake } from '../support/telegram-fake.js';
import { count as countIn, startScenario, startWorld, type World } from '../support/world.js';

const trainee = 7101;
let world: World;
let telegram: TelegramFake;
let openai: OpenAiFake;
let database: TestDatabase;

beforeAll(async () => {
  world = await startWorld({ trainees: [trainee] });
  ({ telegram, openai, database } = world);
});
afterAll(async () => {
  await world?.close();
});

const count = (sql: string) => countIn(database, sql);

describe('the bot killed with SIGKILL', () => {
  it('during a turn: after the restart the trainee gets the answer, and the message is stored once', async () => {
    const user = telegram.user(trainee);
    await startScenario(user);
    const requests = openai.requests.length;
    openai.respondWith(() => ({ hang: true }));
    user.sendText('Вопрос перед сбоем');
    await telegram.waitUntil(() => (openai.requests.length > requests ? true : undefined));
    openai.respondWith(scriptedModel());
    await world.restartBot('SIGKILL');
    await user.waitForMessage((m) => m.text === 'Клиент отвечает на: Вопрос перед сбоем');
    expect(await count(`select count(*)::int as n from messages where content = 'Вопрос перед сбоем'`)).toBe(1);
  });

  it('during /finish: after the restart the trainee gets the evaluation, stored once', async () => {
    const user = telegram.user(trainee);
    openai.respondWith((request) => (isJudgeRequest(request) ? { hang: true } : 'ok'));
    user.sendText('/finish');
    await user.waitForMessage((m) => m.text.includes('Оцениваю'));
    await telegram.waitUntil(() => (openai.requests.some((r) => isJudgeRequest(r)) ? true : undefined));
    openai.respondWith(scriptedModel());
    await world.restartBot('SIGKILL');
    const verdict = await user.waitForMessage((m) => /\d+\/100/.test(m.text));
    expect(verdict.visibleText).toContain('Холодный звонок');
    const keyboard = verdict.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> };
    expect(keyboard.inline_keyboard.flat().map((b) => b.callback_data)).toEqual([
      'rp:cold-call:easy',
      'menu',
      expect.stringMatching(/^dp:[1-9]\d*$/),
    ]);
    expect(await count('select count(*)::int as n from evaluations')).toBe(1);
    expect(await count("select count(*)::int as n from sessions where status = 'active'")).toBe(0);

    // A third start has nothing left to do: nothing is sent twice.
    const before = user.messages().length;
    await world.restartBot('SIGTERM');
    user.sendText('/history');
    await user.waitForMessage((m) => m.text.includes('последние тренировки'));
    expect(user.messages().length).toBe(before + 1);
  });
});
