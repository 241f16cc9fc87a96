import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { SessionId } from '../../src/db/ids.js';
import { ChartRenderError, type ChartService } from '../../src/services/charts/index.js';
import type { ScoredSession } from '../../src/services/team.js';
import { defaultEvaluation, fakeServices } from './fakes.js';
import { createHarness } from './harness.js';

function scored(
  id: number,
  at: string,
  scenarioKey: string,
  difficulty: string,
  score: number,
  criteria: Array<[string, number]>,
) {
  return {
    sessionId: id as SessionId,
    scenarioKey,
    difficulty,
    score,
    scoredAt: new Date(at),
    criteria: criteria.map(([title, value], i) => ({ ...defaultEvaluation.criteria[0]!, key: `c${i}`, title, score: value })),
  } satisfies ScoredSession;
}

const stats = {
  count: 3,
  average: 66,
  best: 81,
  last: 81,
  byDifficulty: [
    { scenarioKey: 'cold-call', difficulty: 'easy', count: 2, average: 58, best: 66, last: 66 },
    { scenarioKey: 'cold-call', difficulty: 'hard', count: 1, average: 81, best: 81, last: 81 },
  ],
};
const progress = [
  scored(1, '2030-03-01T09:00:00Z', 'cold-call', 'easy', 50, [
    ['Контакт', 60],
    ['Возражения', 40],
  ]),
  scored(2, '2030-03-03T09:00:00Z', 'cold-call', 'easy', 66, [
    ['Контакт', 70],
    ['Возражения', 55],
  ]),
  scored(3, '2030-03-05T09:00:00Z', 'cold-call', 'hard', 81, [['Контакт', 85]]),
];

describe('/stats', () => {
  it('answers with a picture of the progress, and the same in words beside it', async () => {
    const bot = createHarness();
    const user = bot.services.access.allow(7001);
    bot.services.team.stats = stats;
    bot.services.team.scored = progress;

    const reaction = await bot.user(7001).send('/stats');

    expect(bot.services.team.calls).toEqual([
      { method: 'userStats', args: [user.id] },
      { method: 'progress', args: [user.id] },
    ]);
    expect(reaction.methods).toContain('sendPhoto');
    const [picture, summary] = reaction.messages;
    expect(picture?.text).toBe(
      'Ваш прогресс: баллы по датам (цвет — сценарий, форма точки — уровень) и последний балл по каждому критерию. Красная линия — проходной балл 80.',
    );
    const image = PNG.sync.read(Buffer.from(picture!.photo!));
    expect(image.width).toBeGreaterThanOrEqual(1000);
    expect(summary?.text).toBe(
      [
        'Оценённых тренировок: 3',
        'Средний балл: 66/100',
        'Лучший: 81/100',
        'Последний: 81/100',
        '',
        'По сценариям и уровням:',
        '• Холодный звонок · Лёгкий: 2 × 58/100, лучшая 66',
        '• Холодный звонок · Сложный: 1 × 81/100, лучшая 81',
        '',
        // Each criterion's newest score: «Возражения» was last scored in the second session.
        'Последний балл по критериям (проходной — 80):',
        '✅ Контакт: 85',
        '⚠️ Возражения: 55 — ниже проходного',
      ].join('\n'),
    );
  });

  it('the pass mark is DEFAULT_PASS_MARK', async () => {
    const bot = createHarness({ env: { DEFAULT_PASS_MARK: '60' } });
    bot.services.access.allow(7001);
    bot.services.team.stats = stats;
    bot.services.team.scored = progress;

    const reaction = await bot.user(7001).send('/stats');

    expect(reaction.texts[0]).toContain('проходной балл 60');
    expect(reaction.texts[1]).toContain('Последний балл по критериям (проходной — 60):\n✅ Контакт: 85\n⚠️ Возражения: 55');
  });

  it('speaks English to an English-speaking trainee, with no Russian word in it', async () => {
    const bot = createHarness();
    bot.services.access.allow(7003);
    bot.services.team.stats = {
      count: 1,
      average: 80,
      best: 80,
      last: 80,
      byDifficulty: [{ scenarioKey: 'retired-scenario', difficulty: 'hard', count: 1, average: 80, best: 80, last: 80 }],
    };
    bot.services.team.scored = [scored(4, '2030-03-05T09:00:00Z', 'retired-scenario', 'hard', 80, [['Rapport', 80]])];

    const reaction = await bot.user(7003, { languageCode: 'en' }).send('/stats');

    expect(reaction.texts[0]).toMatch(/^Your progress/);
    expect(reaction.texts[1]).toContain('• retired-scenario · Hard: 1 × 80/100, best 80');
    expect(reaction.texts.join('\n')).not.toMatch(/[а-яё]/i);
  });

  it('a picture that cannot be drawn leaves the answer in words, and a log line', async () => {
    const failing: ChartService = {
      progress: () => Promise.reject(new ChartRenderError('the chart thread exited')),
      team: () => Promise.reject(new ChartRenderError('the chart thread exited')),
      close: () => Promise.resolve(),
    };
    const bot = createHarness({ services: { ...fakeServices(), charts: failing } });
    bot.services.access.allow(7001);
    bot.services.team.stats = stats;
    bot.services.team.scored = progress;

    const reaction = await bot.user(7001).send('/stats');

    expect(reaction.methods).not.toContain('sendPhoto');
    expect(reaction.texts).toHaveLength(1);
    expect(reaction.texts[0]).toMatch(/^Оценённых тренировок: 3/);
    expect(bot.logs().some((line) => line.msg === 'progress picture not drawn; answered in text')).toBe(true);
  });

  it('with nothing scored yet: a friendly text and no empty picture', async () => {
    const bot = createHarness();
    bot.services.access.allow(7001);

    const reaction = await bot.user(7001).send('/stats');

    expect(reaction.methods).not.toContain('sendPhoto');
    expect(reaction.texts).toEqual(['Статистика появится после первой оценённой тренировки. Начать: /scenarios']);
  });
});
