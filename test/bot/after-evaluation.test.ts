import { describe, expect, it } from 'vitest';
import { defaultEvaluation } from './fakes.js';
import { createHarness } from './harness.js';

const underEvaluation = [
  { text: '🔁 Повторить', data: 'rp:cold-call:medium' },
  { text: '📋 Другой сценарий', data: 'menu' },
  // The trainee may dispute a fresh evaluation (review.test.ts follows the button).
  { text: '⚖️ Оспорить оценку', data: expect.stringMatching(/^dp:[1-9]\d*$/) as unknown as string },
];

function inTraining() {
  const bot = createHarness();
  const user = bot.services.access.allow(7001);
  bot.services.training.givenActive(user.id, 'cold-call', 'medium', ['Добрый день, меня зовут Анна']);
  return { bot, user, anna: bot.user(7001), training: bot.services.training };
}

async function evaluated() {
  const setup = inTraining();
  const finished = await setup.anna.send('/finish');
  return { ...setup, finished };
}

describe('under the evaluation', () => {
  it('/finish ends with «🔁 Повторить» (same scenario and level) and «📋 Другой сценарий»', async () => {
    const { finished } = await evaluated();

    const evaluation = finished.messages.at(-1);
    expect(evaluation?.text.split('\n')[0]).toBe('<b>70/100</b>');
    expect(evaluation?.buttons).toEqual(underEvaluation);
    // The «Оцениваю…» line has no buttons.
    expect(finished.messages[0]?.buttons).toEqual([]);
  });

  it('an evaluation too long for one message has the buttons under its last part only', async () => {
    const { anna, training } = inTraining();
    training.judge = () => ({
      ...defaultEvaluation,
      mistakes: Array.from({ length: 20 }, (_, i) => `Ошибка ${i + 1}: ${'слишком общий ответ клиенту без цифр. '.repeat(12)}`),
    });

    const finished = await anna.send('/finish');

    const parts = finished.messages.slice(1);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.slice(0, -1).map((part) => part.buttons)).toEqual(parts.slice(0, -1).map(() => []));
    expect(parts.at(-1)?.buttons).toEqual(underEvaluation);
    expect(parts.every((part) => part.parse_mode === 'HTML')).toBe(true);
  });

  it('«Повторить» starts the same scenario at the same level at once, the client speaking first', async () => {
    const { anna, user, training } = await evaluated();

    const again = await anna.press('rp:cold-call:medium');

    expect(again.callbackAnswers).toEqual([{}]);
    expect(training.callsOf('start')).toEqual([[user.id, 'cold-call', 'medium']]);
    // The same start as a pick in the menu: the announcement first, the client's opening line last.
    expect(again.texts[0]).toBe(
      'Тренировка «Холодный звонок» (Средний) началась.\n' +
        'Клиент пишет первым — отвечайте, как в настоящей переписке. Закончить и получить оценку: /finish',
    );
    expect(again.texts.at(-1)).toBe('Алло, слушаю. Кто это?');
    expect(training.activeOf(user.id)?.session.difficulty).toBe('medium');
    expect(training.callsOf('markReplyDelivered')).toEqual([[training.openingLineIds.at(-1)]]);
  });

  it('«Повторить» while another training runs asks first, as a pick in the menu does', async () => {
    const { anna, user, training } = await evaluated();
    await anna.pressForged('sd:upsell:easy');

    const again = await anna.press('rp:cold-call:medium');

    expect(again.texts).toEqual(['У вас идёт тренировка «Расширение тарифа». Прервать её и начать «Холодный звонок»?']);
    expect(training.activeOf(user.id)?.scenario.key).toBe('upsell');
    const switched = await anna.press('switch:yes');
    expect(switched.texts[1]).toContain('«Холодный звонок» (Средний) началась');
  });

  it('«Другой сценарий» shows the scenario menu', async () => {
    const { anna, training } = await evaluated();

    const menu = await anna.press('menu');

    expect(menu.callbackAnswers).toEqual([{}]);
    expect(menu.texts).toEqual(['Выберите сценарий тренировки:']);
    expect(menu.buttons).toEqual([
      { text: 'Холодный звонок', data: 'sc:cold-call' },
      { text: 'Расширение тарифа', data: 'sc:upsell' },
    ]);
    expect(training.callsOf('start')).toEqual([]);
  });

  it('«Повторить» of a scenario removed since: an alert, and nothing starts', async () => {
    const bot = createHarness();
    const user = bot.services.access.allow(7001);
    const { session } = bot.services.training.givenEvaluated(user.id, 'retired-scenario', 'hard');
    const anna = bot.user(7001);
    await anna.pressForged(`pe:${session.id}`);

    const again = await anna.press('rp:retired-scenario:hard');

    expect(again.methods).toEqual(['answerCallbackQuery']);
    expect(again.callbackAnswers).toEqual([{ text: 'Этого сценария больше нет. Выберите другой: /scenarios', show_alert: true }]);
    expect(bot.services.training.callsOf('start')).toEqual([]);
  });

  it('«Повторить» from a past evaluation in /history starts that scenario and level', async () => {
    const bot = createHarness();
    const user = bot.services.access.allow(7001);
    const { session } = bot.services.training.givenEvaluated(user.id, 'upsell', 'hard');
    const anna = bot.user(7001);
    await anna.pressForged(`pe:${session.id}`);

    const again = await anna.press('rp:upsell:hard');

    expect(again.texts[0]).toContain('Тренировка «Расширение тарифа» (Сложный) началась.');
    expect(bot.services.training.callsOf('start')).toEqual([[user.id, 'upsell', 'hard']]);
  });
});
