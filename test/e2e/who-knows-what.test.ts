import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isJudgeRequest } from '../support/model-script.js';
import type { OpenAiFake } from '../support/openai-fake.js';
import type { TelegramFake } from '../support/telegram-fake.js';
import { startScenario, startWorld, type World } from '../support/world.js';

const trainee = 7311;
const INTERNAL_FILES = /source="(sales-script|objections|service-standards)\.md/;
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

describe('who knows what in a role-play', () => {
  it("never gives the client the seller's playbook, and gives the judge what checks the trainee", async () => {
    const user = telegram.user(trainee);
    await startScenario(user, 'price-objection', 'medium');
    const turns = [
      'Понимаю, что дорого. Давайте посчитаем, во что вам обходятся потерянные заявки?',
      'Могу сам дать скидку 15% без согласования с руководителем.',
      'А «Самостарт» у нас бесплатный — видеокурс и консультация специалиста.',
    ];
    for (const turn of turns) {
      user.sendText(turn);
      await user.waitForMessage((m) => m.text.startsWith(`Клиент отвечает на: ${turn.slice(0, 10)}`));
      const system = textOf(openai.requests.at(-1)!.messages[0]!.content);
      expect(system).not.toMatch(INTERNAL_FILES);
      expect(system).not.toContain('Примеры фраз');
    }
    expect(textOf(openai.requests.at(-1)!.messages[0]!.content)).toContain('«Самостарт» и «Быстрый старт»');

    user.sendText('/finish');
    await user.waitForMessage((m) => /\d+\/100/.test(m.text));
    const judge = textOf(openai.requests.filter(isJudgeRequest).at(-1)!.messages[1]!.content);
    expect(judge).toContain('source="sales-script.md › Полномочия по скидкам"');
    expect(judge).toMatch(/source="catalog\.md › Пакеты внедрения › «Самостарт»/);
  });
});
