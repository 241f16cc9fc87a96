import { describe, expect, it } from 'vitest';
import { KnowledgeUnavailableError } from '../../src/services/hints.js';
import { fakeServices } from './fakes.js';
import { createHarness, type HarnessOptions } from './harness.js';
import { WARN } from '../support/log-capture.js';

function inTraining(options: HarnessOptions = {}) {
  const bot = createHarness(options);
  const user = bot.services.access.allow(7001);
  bot.services.training.givenActive(user.id, 'cold-call');
  return { bot, anna: bot.user(7001), hints: bot.services.hints, training: bot.services.training };
}

describe('/hint', () => {
  it('looks up the dialogue so far and shows the passage with its source', async () => {
    const { anna, hints, training } = inTraining();
    training.dialogue = 'Клиент: дорого';
    hints!.answer = { text: 'Спросите, с чем клиент сравнивает цену.', source: 'Скрипт продаж › Возражения › Дорого' };

    const reaction = await anna.send('/hint');

    expect(hints!.queries).toEqual(['Клиент: дорого']);
    expect(reaction.texts).toEqual([
      'Подсказка из базы знаний\n\nСпросите, с чем клиент сравнивает цену.\n\nИсточник: Скрипт продаж › Возражения › Дорого',
    ]);
  });

  it('before the first word, looks up the scenario itself', async () => {
    const { anna, hints } = inTraining();

    await anna.send('/hint');

    expect(hints!.queries).toEqual(['Первый звонок директору сети салонов.']);
  });

  it('says when nothing in the knowledge base fits', async () => {
    const { anna } = inTraining();

    expect((await anna.send('/hint')).texts).toEqual(['В базе знаний не нашлось подходящего фрагмента.']);
  });

  it('says the knowledge base is unavailable when it is down, and logs a warning', async () => {
    const { bot, anna, hints } = inTraining();
    hints!.answer = new KnowledgeUnavailableError();

    const reaction = await anna.send('/hint');

    expect(reaction.texts).toEqual(['База знаний сейчас недоступна, попробуйте позже.']);
    expect(
      bot
        .logs()
        .filter((line) => line.level === WARN)
        .map((line) => line.msg),
    ).toEqual(['hint: knowledge base unavailable']);
  });

  it('says the same when the bot runs without a knowledge base', async () => {
    const { anna } = inTraining({ services: fakeServices({ hints: false }) });

    expect((await anna.send('/hint')).texts).toEqual(['База знаний сейчас недоступна, попробуйте позже.']);
  });

  it('is only for a running training', async () => {
    const bot = createHarness();
    bot.services.access.allow(7001);

    expect((await bot.user(7001).send('/hint')).texts).toEqual(['Подсказки доступны во время тренировки. Начать: /scenarios']);
    expect(bot.services.hints!.queries).toEqual([]);
  });
});
