import { describe, expect, it } from 'vitest';
import { createHarness } from './harness.js';

const menuOutdated = { text: 'Это меню устарело. Откройте новое: /scenarios', show_alert: true };

function trainee() {
  const bot = createHarness();
  const user = bot.services.access.allow(7001);
  return { bot, user, anna: bot.user(7001), training: bot.services.training };
}

describe('choosing a scenario', () => {
  it('menu → scenario → difficulty: the training starts and the client speaks first', async () => {
    const { anna, user, training } = trainee();
    expect((await anna.send('/scenarios')).texts).toEqual(['Выберите сценарий тренировки:']);

    const levels = await anna.press('sc:cold-call');
    expect(levels.callbackAnswers).toEqual([{}]);
    expect(levels.texts).toEqual(['«Холодный звонок»\nПервый звонок директору сети салонов.\n\nВыберите уровень сложности:']);
    expect(levels.buttons).toEqual([
      { text: 'Лёгкий', data: 'sd:cold-call:easy' },
      { text: 'Средний', data: 'sd:cold-call:medium' },
      { text: 'Сложный', data: 'sd:cold-call:hard' },
    ]);

    const started = await anna.press('sd:cold-call:medium');
    expect(started.callbackAnswers).toEqual([{}]);
    expect(started.texts).toEqual([
      'Тренировка «Холодный звонок» (Средний) началась.\n' +
        'Клиент пишет первым — отвечайте, как в настоящей переписке. Закончить и получить оценку: /finish',
      'Алло, слушаю. Кто это?',
    ]);
    expect(training.callsOf('start')).toEqual([[user.id, 'cold-call', 'medium']]);
    // The opening line is marked delivered once Telegram took it: a crash before that sends it again.
    expect(training.callsOf('markReplyDelivered')).toEqual([training.openingLineIds]);
  });

  it('a button of a scenario that no longer exists says the menu is outdated', async () => {
    const { anna, training } = trainee();

    const reaction = await anna.pressForged('sd:retired-scenario:easy');

    expect(reaction.callbackAnswers).toEqual([menuOutdated]);
    expect(reaction.texts).toEqual([]);
    expect(training.callsOf('start')).toEqual([]);
  });
});

describe('choosing a scenario while another training runs', () => {
  async function askedToSwitch() {
    const context = trainee();
    context.training.givenActive(context.user.id, 'cold-call', 'easy', ['Добрый день!']);
    await context.anna.send('/scenarios');
    await context.anna.press('sc:upsell');
    const question = await context.anna.press('sd:upsell:hard');
    return { ...context, question };
  }

  it('asks first, with a button for each answer, and starts nothing yet', async () => {
    const { question, training } = await askedToSwitch();

    expect(question.texts).toEqual(['У вас идёт тренировка «Холодный звонок». Прервать её и начать «Расширение тарифа»?']);
    expect(question.buttons).toEqual([
      { text: 'Да, начать новую', data: 'switch:yes' },
      { text: 'Нет, продолжить', data: 'switch:no' },
    ]);
    expect(training.callsOf('start')).toEqual([]);
  });

  it('"no" keeps the running training and takes the buttons away', async () => {
    const { anna, user, training } = await askedToSwitch();

    const kept = await anna.press('switch:no');

    expect(kept.methods).toEqual(['answerCallbackQuery', 'editMessageReplyMarkup', 'sendMessage']);
    expect(kept.texts).toEqual(['Продолжаем «Холодный звонок». Клиент ждёт вашего ответа.']);
    expect(training.activeOf(user.id)?.scenario.key).toBe('cold-call');
    expect(training.callsOf('abandon')).toEqual([]);
    expect(() => anna.press('switch:yes')).toThrow(/sees no button/);
  });

  it('"yes" abandons the running training and starts the chosen one', async () => {
    const { anna, user, training } = await askedToSwitch();

    const switched = await anna.press('switch:yes');

    expect(switched.methods.slice(0, 2)).toEqual(['answerCallbackQuery', 'editMessageReplyMarkup']);
    expect(switched.texts).toEqual([
      'Тренировка «Холодный звонок» прервана и не будет оцениваться.',
      'Тренировка «Расширение тарифа» (Сложный) началась.\n' +
        'Клиент пишет первым — отвечайте, как в настоящей переписке. Закончить и получить оценку: /finish',
      'Здравствуйте, у нас вопрос по тарифу.',
    ]);
    expect(training.callsOf('abandon')).toEqual([[user.id]]);
    expect(training.callsOf('start')).toEqual([[user.id, 'upsell', 'hard']]);
    expect(training.activeOf(user.id)?.scenario.key).toBe('upsell');
  });

  it('a text instead of an answer leaves the question and is played as a turn of the running training', async () => {
    const { anna, user, training } = await askedToSwitch();

    const turn = await anna.send('Продолжим разговор');

    expect(turn.texts).toEqual(['Клиент отвечает на: Продолжим разговор']);
    expect(training.callsOf('playTurn')).toEqual([
      [{ userId: user.id, text: 'Продолжим разговор', telegramMessageId: expect.any(Number) as unknown }],
    ]);
    // The question is no longer open: its buttons are outdated, and nothing is abandoned.
    expect((await anna.press('switch:yes')).callbackAnswers).toEqual([menuOutdated]);
    expect(training.activeOf(user.id)?.scenario.key).toBe('cold-call');
  });

  it('a command instead of an answer leaves the question and runs as usual', async () => {
    const { bot, anna, training, user } = await askedToSwitch();

    const help = await anna.send('/help');

    expect(help.texts).toEqual([bot.t('help')]);
    expect((await anna.press('switch:no')).callbackAnswers).toEqual([menuOutdated]);
    expect(training.activeOf(user.id)?.scenario.key).toBe('cold-call');
  });

  it('another pick asks again about the newest choice', async () => {
    const { anna } = await askedToSwitch();

    const again = await anna.press('sd:upsell:easy');
    expect(again.texts).toEqual(['У вас идёт тренировка «Холодный звонок». Прервать её и начать «Расширение тарифа»?']);

    const switched = await anna.press('switch:yes');
    expect(switched.texts[1]).toContain('«Расширение тарифа» (Лёгкий) началась');
  });
});
