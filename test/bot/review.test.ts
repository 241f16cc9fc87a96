import { describe, expect, it } from 'vitest';
import type { SessionId } from '../../src/db/ids.js';
import type { User } from '../../src/db/queries/users.js';
import { defaultEvaluation } from './fakes.js';
import { createHarness } from './harness.js';

function world() {
  const bot = createHarness();
  const manager = bot.services.access.allow(7500, { role: 'manager', firstName: 'Ольга' });
  const trainee = bot.services.access.allow(7001, { firstName: 'Анна' });
  const sessionId = 41 as SessionId;
  const member: User = { ...trainee, managerId: manager.id };
  bot.services.team.sessions.set(sessionId, {
    session: {
      id: sessionId,
      userId: trainee.id,
      scenarioKey: 'cold-call',
      difficulty: 'hard',
      status: 'finished',
      startedAt: new Date('2030-03-04T15:00:00Z'),
      finishedAt: new Date('2030-03-04T15:20:00Z'),
      finishRequestedAt: null,
      clientHungUpAt: null,
    },
    member,
    evaluation: { ...defaultEvaluation, totalScore: 62, id: 1, sessionId, deliveredAt: null, createdAt: new Date() },
    review: undefined,
    dispute: undefined,
  });
  return { bot, manager, trainee, sessionId, olga: bot.user(7500, { firstName: 'Ольга' }), anna: bot.user(7001) };
}

describe('a manager’s review of an evaluation', () => {
  it('asks for a score (refusing anything but 0–100), then a comment; stores both and tells the trainee', async () => {
    const { bot, manager, sessionId, olga } = world();

    const asked = await olga.pressForged('rv:41');
    expect(asked.texts).toEqual(['ИИ поставил 62/100. Какую оценку ставите вы? Пришлите число от 0 до 100. Отменить: /cancel']);
    for (const wrong of ['отлично', '101', '-5', '7.5']) {
      expect((await olga.send(wrong)).texts).toEqual(['Нужно целое число от 0 до 100, например 75. Отменить: /cancel']);
    }
    expect((await olga.send('80/100')).texts[0]).toMatch(/^Оценка 80\/100\. Теперь комментарий/);
    expect((await olga.send('   ')).texts[0]).toMatch(/^Комментарий должен быть непустым/);
    const done = await olga.send('Цена названа <верно>, не хватило вопроса о сроках');

    expect(bot.services.team.reviews.get(sessionId)).toMatchObject({
      sessionId,
      reviewerId: manager.id,
      score: 80,
      comment: 'Цена названа <верно>, не хватило вопроса о сроках',
    });
    const [told, confirmed] = done.messages;
    expect(told?.chatId).toBe(7001);
    expect(told?.text).toBe(
      [
        'Руководитель пересмотрел оценку тренировки «Холодный звонок».',
        '',
        '<b>Оценка руководителя: 80/100 (ИИ: 62/100)</b>',
        'Комментарий руководителя: Цена названа &lt;верно&gt;, не хватило вопроса о сроках',
      ].join('\n'),
    );
    expect(told?.buttons).toEqual([{ text: 'Открыть оценку', data: 'pe:41' }]);
    expect(confirmed?.chatId).toBe(7500);
    expect(confirmed?.text).toMatch(/^Готово: оценка 80\/100 сохранена/);
  });

  it('/cancel in the middle stores nothing; another command leaves the flow and runs', async () => {
    const { bot, olga } = world();

    await olga.pressForged('rv:41');
    expect((await olga.send('/cancel')).texts).toEqual(['Хорошо, ничего не меняем.']);
    // The flow is over: «90» is no answer to it any more.
    expect((await olga.send('90')).texts.join('\n')).not.toMatch(/Теперь комментарий/);

    await olga.pressForged('rv:41');
    await olga.send('90');
    const help = await olga.send('/team');
    expect(help.texts[0]).toMatch(/^<b>Ваша команда|В вашей команде/);
    expect(bot.services.team.reviews.size).toBe(0);
  });

  it('is refused to a trainee, and for a session outside the manager’s team', async () => {
    const { bot, anna, olga } = world();

    expect((await anna.pressForged('rv:41')).callbackAnswers[0]?.show_alert).toBe(true);
    expect((await olga.pressForged('rv:42')).callbackAnswers[0]?.show_alert).toBe(true);
    expect(bot.services.team.calls.filter((c) => c.method === 'review')).toEqual([]);
  });
});

describe('a trainee’s dispute of an evaluation', () => {
  it('«Оспорить» asks for the reason, stores it once, and says the manager will see it', async () => {
    const { bot, trainee, anna } = world();
    const { session } = bot.services.training.givenEvaluated(trainee.id, 'cold-call', 'easy');

    const asked = await anna.pressForged(`dp:${session.id}`);
    expect(asked.texts[0]).toMatch(/^Напишите, с чем вы не согласны/);
    expect((await anna.send('   ')).texts[0]).toMatch(/^Причина должна быть непустой и не длиннее 1\s?000 символов \(сейчас 0\)/);
    const stored = await anna.send('Я назвал цену, а ИИ пишет, что нет');

    expect(stored.texts).toEqual([
      'Спасибо, ваше несогласие записано и передано руководителю. Когда он пересмотрит оценку, бот пришлёт её вам.',
    ]);
    expect(bot.services.team.disputes.get(session.id)?.reason).toBe('Я назвал цену, а ИИ пишет, что нет');
    expect(bot.services.team.calls.filter((c) => c.method === 'tellPendingDisputes')).toHaveLength(1);

    // Once per evaluation: the button again says so.
    const again = await anna.pressForged(`dp:${session.id}`);
    expect(again.callbackAnswers).toEqual([{ text: 'Эту оценку вы уже оспорили — руководитель её увидит.', show_alert: true }]);
  });

  it('someone else’s session (a forged button) is refused', async () => {
    const { bot, anna } = world();
    const other = bot.services.access.allow(7002);
    const { session } = bot.services.training.givenEvaluated(other.id, 'cold-call', 'easy');

    const reaction = await anna.pressForged(`dp:${session.id}`);

    expect(reaction.callbackAnswers).toEqual([{ text: 'Эта оценка недоступна.', show_alert: true }]);
    expect(bot.services.team.disputes.size).toBe(0);
  });
});
