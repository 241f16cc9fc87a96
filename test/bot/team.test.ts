import { describe, expect, it } from 'vitest';
import type { TelegramId, UserId } from '../../src/db/ids.js';
import { createHarness } from './harness.js';

describe('/team', () => {
  it('shows a manager every trainee’s results', async () => {
    const bot = createHarness();
    bot.services.access.allow(7002, { role: 'manager' });
    bot.services.team.results = [
      { userId: 1 as UserId, telegramId: 7001 as TelegramId, firstName: 'Анна', lastName: 'Смирнова', username: null, count: 3, average: 71, best: 90, last: 64 },
      { userId: 3 as UserId, telegramId: 7003 as TelegramId, firstName: null, lastName: null, username: 'petr', count: 1, average: 40, best: 40, last: 40 },
    ];

    const reaction = await bot.user(7002).send('/team');

    expect(reaction.texts).toEqual([
      [
        'Результаты команды:',
        'Анна Смирнова: тренировок 3, средний 71, последний 64',
        '@petr: тренировок 1, средний 40, последний 40',
      ].join('\n'),
    ]);
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
