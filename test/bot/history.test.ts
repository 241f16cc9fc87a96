import { describe, expect, it } from 'vitest';
import type { SessionId } from '../../src/db/ids.js';
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
  it('lists the last trainings in the team’s time zone with their outcome', async () => {
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
      ].join('\n'),
    ]);
  });

  it('invites a newcomer to the first training', async () => {
    const { anna } = trainee();

    expect((await anna.send('/history')).texts).toEqual(['Вы ещё не проходили тренировок. Начать: /scenarios']);
  });
});

describe('/stats', () => {
  it('sums up the scored trainings, overall and by scenario', async () => {
    const { bot, user, anna } = trainee();
    bot.services.team.stats = {
      count: 3,
      average: 71,
      best: 90,
      last: 64,
      byScenario: [
        { scenarioKey: 'cold-call', count: 2, average: 77, best: 90, last: 64 },
        { scenarioKey: 'retired-scenario', count: 1, average: 60, best: 60, last: 60 },
      ],
    };

    const reaction = await anna.send('/stats');

    expect(bot.services.team.calls).toEqual([{ method: 'userStats', args: [user.id] }]);
    expect(reaction.texts).toEqual([
      [
        'Оценённых тренировок: 3',
        'Средний балл: 71/100',
        'Лучший: 90/100',
        'Последний: 64/100',
        '',
        'По сценариям:',
        '• Холодный звонок: 2 × 77/100, 90/100 max',
        '• retired-scenario: 1 × 60/100, 60/100 max',
      ].join('\n'),
    ]);
  });

  it('says statistics come after the first scored training', async () => {
    const { anna } = trainee();

    expect((await anna.send('/stats')).texts).toEqual([
      'Статистика появится после первой оценённой тренировки. Начать: /scenarios',
    ]);
  });
});
