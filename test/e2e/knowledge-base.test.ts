import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isJudgeRequest } from '../support/model-script.js';
import type { OpenAiFake } from '../support/openai-fake.js';
import type { TelegramFake } from '../support/telegram-fake.js';
import { startScenario, startWorld, type World } from '../support/world.js';

const trainee = 7301;
let world: World;
let telegram: TelegramFake;
let openai: OpenAiFake;

beforeAll(async () => {
  world = await startWorld({ trainees: [trainee] });
  ({ telegram, openai } = world);
});

afterAll(async () => {
  await world?.close();
});

const textOf = (content: unknown) => (typeof content === 'string' ? content : JSON.stringify(content));

describe('the knowledge base in the dialogue', () => {
  it('is indexed at start-up before polling', () => {
    expect(world.bot.output()).toMatch(/knowledge base ready/);
    expect(world.bot.output()).toMatch(/"added":5/);
  });

  it("grounds the client's prompt in passages relevant to the dialogue", async () => {
    const user = telegram.user(trainee);
    await startScenario(user, 'upsell', 'medium');
    user.sendText('Тариф «Бизнес» стоит 1 200 ₽ за пользователя в месяц при оплате за год');
    await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает'));
    const system = textOf(openai.requests.at(-1)!.messages[0]!.content);
    expect(system).toContain('<knowledge_base>');
    expect(system).toMatch(/<passage source="catalog\.md › [^"]+">/);
    expect(system).toMatch(/Бизнес/);
  });

  it('gives /hint advice for this moment from the internal documents, with its source', async () => {
    const user = telegram.user(trainee);
    user.sendText('/hint');
    const hint = await user.waitForMessage((m) => m.text.startsWith('💡 Подсказка'));
    expect(hint.text).toContain('Попробуйте сказать: «Дорого по сравнению с чем?»');
    expect(hint.text).toMatch(/Источник: (sales-script|objections|service-standards)\.md › /);
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
    expect(input.split('<knowledge_base>')).toHaveLength(2);
    expect(input.split('</knowledge_base>')).toHaveLength(2);
  });

  it('answers from the lexical index alone while Chroma is down, and vector search comes back by itself', async () => {
    const user = telegram.user(trainee);
    await startScenario(user, 'price-objection', 'medium');
    await world.knowledge.chroma.stop();
    user.sendText('Почему у вас дороже, чем у других? «Бизнес» стоит 1 500 ₽');
    await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает на: Почему'));
    expect(textOf(openai.requests.at(-1)!.messages[0]!.content)).toMatch(/<knowledge_base>[\s\S]*source="catalog\.md/);

    await world.knowledge.chroma.restart();
    user.sendText('Тариф «Старт» — 600 ₽ при оплате за год');
    await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает на: Тариф'));
    expect(textOf(openai.requests.at(-1)!.messages[0]!.content)).toContain('<knowledge_base>');
    const warnings = world.bot
      .output()
      .split('\n')
      .filter((line) => line.includes('"level":40') && /chroma|knowledge/i.test(line));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(2);
  });
});
