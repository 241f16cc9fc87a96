import { describe, expect, it } from 'vitest';
import { createHarness } from './harness.js';

const question = 'Прервать тренировку «Холодный звонок» без оценки?';

function trainee() {
  const bot = createHarness();
  const user = bot.services.access.allow(7001);
  return { bot, user, anna: bot.user(7001), training: bot.services.training };
}

async function askedToCancel() {
  const setup = trainee();
  setup.training.givenActive(setup.user.id, 'cold-call', 'medium', ['Добрый день, меня зовут Анна']);
  const asked = await setup.anna.send('/cancel');
  return { ...setup, asked };
}

describe('/cancel during a training', () => {
  it('asks first, naming the training, with «Прервать» and «Продолжить», and abandons nothing yet', async () => {
    const { asked, training, user } = await askedToCancel();

    expect(asked.texts).toEqual([question]);
    expect(asked.buttons).toEqual([
      { text: 'Прервать', data: 'cancel:yes' },
      { text: 'Продолжить', data: 'cancel:no' },
    ]);
    expect(training.callsOf('abandon')).toEqual([]);
    expect(training.activeOf(user.id)?.scenario.key).toBe('cold-call');
  });

  it('«Прервать» abandons the training without a score and takes the buttons away', async () => {
    const { anna, training, user } = await askedToCancel();

    const stopped = await anna.press('cancel:yes');

    expect(stopped.methods.slice(0, 2)).toEqual(['answerCallbackQuery', 'editMessageReplyMarkup']);
    expect(stopped.callbackAnswers).toEqual([{}]);
    expect(stopped.texts).toEqual(['Тренировка «Холодный звонок» прервана, без оценки. /scenarios — выбрать сценарий.']);
    expect(training.callsOf('abandon')).toEqual([[user.id]]);
    expect(training.callsOf('finish')).toEqual([]);
    expect(training.activeOf(user.id)).toBeUndefined();
    expect(() => anna.press('cancel:yes')).toThrow(/sees no button/);
    // Nothing was scored: there is no evaluation of it to open from /history.
    expect(training.evaluated.size).toBe(0);
  });

  it('«Продолжить» keeps the training going and takes the buttons away', async () => {
    const { anna, training, user } = await askedToCancel();

    const kept = await anna.press('cancel:no');

    expect(kept.texts).toEqual(['Продолжаем «Холодный звонок».']);
    expect(training.callsOf('abandon')).toEqual([]);
    expect(training.activeOf(user.id)?.scenario.key).toBe('cold-call');
    expect(() => anna.press('cancel:yes')).toThrow(/sees no button/);

    const turn = await anna.send('Так сколько у вас салонов?');
    expect(turn.texts).toEqual(['Клиент отвечает на: Так сколько у вас салонов?']);
  });

  it('a text instead of an answer is a turn of the training; the old buttons then say the question is closed', async () => {
    const { anna, training, user } = await askedToCancel();

    const turn = await anna.send('Извините, продолжим');

    expect(turn.texts).toEqual(['Клиент отвечает на: Извините, продолжим']);
    expect(training.callsOf('playTurn')).toEqual([
      [{ userId: user.id, text: 'Извините, продолжим', telegramMessageId: expect.any(Number) as unknown }],
    ]);

    const late = await anna.press('cancel:yes');
    expect(late.callbackAnswers).toEqual([{ text: 'Этот вопрос уже закрыт. Прервать тренировку: /cancel', show_alert: true }]);
    expect(late.methods).toEqual(['answerCallbackQuery', 'editMessageReplyMarkup']);
    expect(training.callsOf('abandon')).toEqual([]);
    expect(training.activeOf(user.id)?.scenario.key).toBe('cold-call');
  });

  it('a command instead of an answer runs as usual; /finish then scores the training', async () => {
    const { anna, training } = await askedToCancel();

    const finished = await anna.send('/finish');

    expect(finished.texts[0]).toBe('Оцениваю диалог, это займёт до минуты…');
    expect(training.callsOf('finish')).toHaveLength(1);
    expect(training.callsOf('abandon')).toEqual([]);
  });

  it('/cancel again asks again, and the answer counts once', async () => {
    const { anna, training, user } = await askedToCancel();

    const again = await anna.send('/cancel');
    expect(again.texts).toEqual([question]);

    const stopped = await anna.press('cancel:yes');
    expect(stopped.texts).toEqual(['Тренировка «Холодный звонок» прервана, без оценки. /scenarios — выбрать сценарий.']);
    expect(training.callsOf('abandon')).toEqual([[user.id]]);
  });

  it('/cancel while the scenario-switch question is open leaves that question and asks this one', async () => {
    const { anna, training, user } = await askedToCancel();
    await anna.press('cancel:no');
    const switchQuestion = await anna.pressForged('sd:upsell:easy');
    expect(switchQuestion.texts).toEqual(['У вас идёт тренировка «Холодный звонок». Прервать её и начать «Расширение тарифа»?']);

    expect((await anna.send('/cancel')).texts).toEqual([question]);
    const stopped = await anna.press('cancel:yes');

    expect(stopped.texts).toEqual(['Тренировка «Холодный звонок» прервана, без оценки. /scenarios — выбрать сценарий.']);
    expect(training.callsOf('start')).toEqual([]);
    expect(training.activeOf(user.id)).toBeUndefined();
  });

  it('says so when the training ended while the question was open', async () => {
    const { anna, training, user } = await askedToCancel();
    await training.abandon(user.id);

    const late = await anna.press('cancel:yes');

    expect(late.texts).toEqual([
      'Тренировка «Холодный звонок» уже закончилась — прерывать нечего. /scenarios — выбрать сценарий.',
    ]);
  });

  it('the question survives in the store as JSON (it is kept in PostgreSQL between updates)', async () => {
    const { bot } = await askedToCancel();

    expect([...bot.conversationStates.values()]).toHaveLength(1);
    expect(JSON.stringify([...bot.conversationStates.values()])).toContain('cancel-training');
  });
});

describe('/cancel without a training', () => {
  it('says there is nothing to cancel and asks nothing', async () => {
    const { anna, bot, training } = trainee();

    const reaction = await anna.send('/cancel');

    expect(reaction.texts).toEqual(['Отменять нечего.']);
    expect(reaction.buttons).toEqual([]);
    expect(training.callsOf('abandon')).toEqual([]);
    expect(bot.conversationStates.size).toBe(0);
  });
});
