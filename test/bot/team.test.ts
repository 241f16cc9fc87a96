import { describe, expect, it } from 'vitest';
import type { TelegramId, UserId } from '../../src/db/ids.js';
import { createHarness } from './harness.js';

describe('/team', () => {
  it('shows a manager every trainee’s results', async () => {
    const bot = createHarness();
    bot.services.access.allow(7002, { role: 'manager' });
    bot.services.team.results = [
      {
        userId: 1 as UserId,
        telegramId: 7001 as TelegramId,
        firstName: 'Анна',
        lastName: 'Смирнова',
        username: null,
        count: 3,
        average: 71,
        best: 90,
        last: 64,
      },
      {
        userId: 3 as UserId,
        telegramId: 7003 as TelegramId,
        firstName: null,
        lastName: null,
        username: 'petr',
        count: 1,
        average: 40,
        best: 40,
        last: 40,
      },
    ];

    const reaction = await bot.user(7002).send('/team');

    expect(reaction.texts).toEqual([
      [
        'Результаты команды:',
        '\u2068Анна Смирнова\u2069: тренировок 3, средний 71, последний 64',
        '\u2068@petr\u2069: тренировок 1, средний 40, последний 40',
      ].join('\n'),
    ]);
  });

  it('isolates each name, so a right-to-left override in one cannot reverse the rest of its line', async () => {
    const bot = createHarness();
    bot.services.access.allow(7002, { role: 'manager' });
    const hostile = {
      userId: 4 as UserId,
      telegramId: 7004 as TelegramId,
      firstName: '\u202eЗвоните',
      lastName: '\u2069\u202d',
      username: null,
    };
    bot.services.team.results = [{ ...hostile, count: 2, average: 55, best: 60, last: 50 }];

    const reaction = await bot.user(7002).send('/team');

    expect(reaction.texts[0]!.split('\n')[1]).toBe('\u2068Звоните \u2069: тренировок 2, средний 55, последний 50');
  });

  it('sends a big team in as many messages as it takes, each under Telegram’s limit, no line cut', async () => {
    const bot = createHarness();
    bot.services.access.allow(7002, { role: 'manager' });
    bot.services.team.results = Array.from({ length: 50 }, (_, i) => ({
      userId: (100 + i) as UserId,
      telegramId: (8000 + i) as TelegramId,
      firstName: `Константин-Александр ${i}`,
      lastName: 'Воскресенский-Преображенский'.repeat(3),
      username: null,
      count: 12,
      average: 77,
      best: 95,
      last: 81,
    }));

    const reaction = await bot.user(7002).send('/team');

    expect(reaction.texts.length).toBeGreaterThan(1);
    for (const text of reaction.texts) expect(text.length).toBeLessThanOrEqual(4096);
    const lines = reaction.texts.join('\n').split('\n');
    expect(lines.filter((line) => line.includes('тренировок 12, средний 77, последний 81'))).toHaveLength(50);
  });

  it('says when nobody has a scored training yet', async () => {
    const bot = createHarness();
    bot.services.access.allow(7002, { role: 'admin' });

    expect((await bot.user(7002).send('/team')).texts).toEqual(['В команде пока нет оценённых тренировок.']);
  });

  it('is refused to a trainee, who never sees the team', async () => {
    const bot = createHarness();
    bot.services.access.allow(7001);

    const reaction = await bot.user(7001).send('/team');

    expect(reaction.texts).toEqual(['Эта команда доступна руководителям и администраторам.']);
    expect(bot.services.team.calls).toEqual([]);
  });
});
