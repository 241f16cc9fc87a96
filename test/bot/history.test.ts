import { describe, expect, it } from 'vitest';
import type { SessionId, UserId } from '../../src/db/ids.js';
import { WARN } from '../support/log-capture.js';
import { defaultEvaluation } from './fakes.js';
import { createHarness } from './harness.js';

function trainee() {
  const bot = createHarness();
  const user = bot.services.access.allow(7001);
  return { bot, user, anna: bot.user(7001) };
}

function session(
  id: number,
  startedAt: string,
  status: 'active' | 'finished' | 'abandoned',
  totalScore: number | null,
  scenarioTitle: string,
) {
  return {
    id: id as SessionId,
    scenarioKey: 'cold-call',
    difficulty: 'easy',
    status,
    startedAt: new Date(startedAt),
    finishedAt: null,
    totalScore,
    messageCount: 4,
    scenarioTitle,
  };
}

describe('/history', () => {
  it('lists the last trainings in the team’s time zone with their outcome, a button to open each evaluation', async () => {
    const { bot, user, anna } = trainee();
    bot.services.training.historyRows = [
      session(4, '2030-03-05T07:30:00Z', 'active', null, 'Расширение тарифа'),
      session(3, '2030-03-04T15:00:00Z', 'finished', 82, 'Холодный звонок'),
      session(2, '2030-03-03T10:05:00Z', 'abandoned', null, 'Холодный звонок'),
      session(1, '2030-03-02T10:05:00Z', 'finished', null, 'Холодный звонок'),
    ];

    const reaction = await anna.send('/history');

    expect(bot.services.training.callsOf('history')).toEqual([[user.id, 10]]);
    expect(reaction.texts).toEqual([
      [
        'Ваши последние тренировки:',
        '05.03, 10:30 · Расширение тарифа · идёт',
        '04.03, 18:00 · Холодный звонок · 82/100',
        '03.03, 13:05 · Холодный звонок · прервана',
        '02.03, 13:05 · Холодный звонок · без оценки',
        '',
        'Оценку тренировки можно открыть снова — кнопкой ниже.',
      ].join('\n'),
    ]);
    // Only the scored session has one: the others have no evaluation to open.
    expect(reaction.buttons).toEqual([{ text: 'Открыть: 04.03 Холодный звонок — 82', data: 'pe:3' }]);
  });

  it('shortens a long title on the button, so that the score stays in sight', async () => {
    const { bot, anna } = trainee();
    bot.services.training.historyRows = [
      session(9, '2030-12-02T09:00:00Z', 'finished', 74, 'Переговоры о продлении годового контракта'),
    ];

    const reaction = await anna.send('/history');

    expect(reaction.buttons).toEqual([{ text: 'Открыть: 02.12 Переговоры о продлении… — 74', data: 'pe:9' }]);
  });

  it('has no buttons when nothing was scored yet', async () => {
    const { bot, anna } = trainee();
    bot.services.training.historyRows = [session(1, '2030-03-02T10:05:00Z', 'abandoned', null, 'Холодный звонок')];

    const reaction = await anna.send('/history');

    expect(reaction.texts).toEqual(['Ваши последние тренировки:\n02.03, 13:05 · Холодный звонок · прервана']);
    expect(reaction.buttons).toEqual([]);
  });

  it('invites a newcomer to the first training', async () => {
    const { anna } = trainee();

    expect((await anna.send('/history')).texts).toEqual(['Вы ещё не проходили тренировок. Начать: /scenarios']);
  });
});

describe('a past evaluation, opened from /history', () => {
  const menuOutdated = { text: 'Это меню устарело. Откройте новое: /scenarios', show_alert: true };

  it('is shown again as it was, with the buttons an evaluation has', async () => {
    const { bot, user, anna } = trainee();
    const { session: past } = bot.services.training.givenEvaluated(user.id, 'cold-call', 'hard', {
      ...defaultEvaluation,
      totalScore: 74,
    });

    const reaction = await anna.pressForged(`pe:${past.id}`);

    expect(bot.services.training.callsOf('pastEvaluation')).toEqual([[user.id, past.id]]);
    expect(reaction.callbackAnswers).toEqual([{}]);
    expect(reaction.messages).toHaveLength(1);
    expect(reaction.messages[0]?.parse_mode).toBe('HTML');
    expect(reaction.texts[0]?.split('\n').slice(0, 4)).toEqual([
      '<b>74/100</b>',
      '«Холодный звонок», уровень: Сложный',
      '',
      'Хорошее начало, но потребности не выяснены.',
    ]);
    expect(reaction.texts[0]).toContain('• «Это недорого» — цена не названа');
    expect(reaction.messages[0]?.buttons).toEqual([
      { text: '🔁 Повторить', data: 'rp:cold-call:hard' },
      { text: '📋 Другой сценарий', data: 'menu' },
      { text: '⚖️ Оспорить оценку', data: `dp:${past.id}` },
    ]);
    // Looking again changes nothing: no training starts, nothing is marked.
    expect(bot.services.training.callsOf('start')).toEqual([]);
    expect(bot.services.training.callsOf('markEvaluationDelivered')).toEqual([]);
  });

  it('of a scenario removed since: named by its key, with the common level names', async () => {
    const { bot, user, anna } = trainee();
    const { session: past } = bot.services.training.givenEvaluated(user.id, 'retired-scenario', 'medium');

    const reaction = await anna.pressForged(`pe:${past.id}`);

    expect(reaction.texts[0]?.split('\n').slice(0, 2)).toEqual(['<b>70/100</b>', '«retired-scenario», уровень: Средний']);
    expect(reaction.messages.at(-1)?.buttons.map((b) => b.data)).toEqual(['rp:retired-scenario:medium', 'menu', `dp:${past.id}`]);
  });

  it("another user's session (a forged id) is refused with an alert and a warning in the log", async () => {
    const { bot, anna } = trainee();
    const boris = bot.services.access.allow(7002);
    const { session: theirs } = bot.services.training.givenEvaluated(boris.id, 'cold-call', 'easy');

    const reaction = await anna.pressForged(`pe:${theirs.id}`);

    expect(reaction.callbackAnswers).toEqual([{ text: 'Эта оценка недоступна.', show_alert: true }]);
    expect(reaction.methods).toEqual(['answerCallbackQuery']);
    const warnings = bot.logs().filter((line) => line.level >= WARN);
    expect(warnings).toEqual([
      expect.objectContaining({ msg: 'past evaluation refused: not a scored session of this user', sessionId: theirs.id }),
    ]);
  });

  it('a session without an evaluation (running, or abandoned) or one that never was: the same alert', async () => {
    const { bot, user, anna } = trainee();
    const running = bot.services.training.givenActive(user.id, 'cold-call');

    for (const id of [running.session.id, 999_999]) {
      const reaction = await anna.pressForged(`pe:${id}`);
      expect(reaction.callbackAnswers).toEqual([{ text: 'Эта оценка недоступна.', show_alert: true }]);
    }
  });

  it('malformed ids never reach the service', async () => {
    const { bot, anna } = trainee();

    for (const data of ['pe:abc', 'pe:0', 'pe:-1', 'pe:1:2', 'pe:99999999999']) {
      expect((await anna.pressForged(data)).callbackAnswers).toEqual([menuOutdated]);
    }
    expect(bot.services.training.callsOf('pastEvaluation')).toEqual([]);
  });
});

describe('the manager’s review, beside the AI’s score', () => {
  const review = (sessionId: SessionId, score: number, comment: string) => ({
    sessionId,
    reviewerId: 99 as UserId,
    score,
    comment,
    createdAt: new Date('2030-03-05T10:00:00Z'),
    updatedAt: new Date('2030-03-05T10:00:00Z'),
  });

  it('/history shows both scores of a reviewed training', async () => {
    const { bot, anna } = trainee();
    bot.services.training.historyRows = [
      session(3, '2030-03-04T15:00:00Z', 'finished', 62, 'Холодный звонок'),
      session(2, '2030-03-03T10:05:00Z', 'finished', 70, 'Холодный звонок'),
    ];
    bot.services.team.reviews.set(3 as SessionId, review(3 as SessionId, 80, 'Возражение отработано верно'));

    const reaction = await anna.send('/history');

    expect(reaction.texts[0]?.split('\n').slice(1, 3)).toEqual([
      '04.03, 18:00 · Холодный звонок · ИИ 62/100 · руководитель 80/100',
      '03.03, 13:05 · Холодный звонок · 70/100',
    ]);
  });

  it('a past evaluation shows the manager’s score and comment under the AI’s, and no dispute button any more', async () => {
    const { bot, user, anna } = trainee();
    const { session: past } = bot.services.training.givenEvaluated(user.id, 'cold-call', 'hard', {
      ...defaultEvaluation,
      totalScore: 62,
    });
    bot.services.team.reviews.set(past.id, review(past.id, 80, 'Цена <названа> верно'));

    const reaction = await anna.pressForged(`pe:${past.id}`);

    expect(reaction.texts.at(-1)).toBe(
      '<b>Оценка руководителя: 80/100 (ИИ: 62/100)</b>\nКомментарий руководителя: Цена &lt;названа&gt; верно',
    );
    expect(reaction.messages.at(-1)?.buttons.map((b) => b.data)).toEqual(['rp:cold-call:hard', 'menu']);
  });
});
