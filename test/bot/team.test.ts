import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { SessionId, TelegramId, UserId } from '../../src/db/ids.js';
import type { User } from '../../src/db/queries/users.js';
import type { TeamMember } from '../../src/services/team.js';
import { defaultEvaluation } from './fakes.js';
import { createHarness } from './harness.js';

function member(id: number, firstName: string | null, overrides: Partial<TeamMember> = {}): TeamMember {
  return {
    userId: id as UserId,
    telegramId: (7000 + id) as TelegramId,
    firstName,
    lastName: null,
    username: null,
    lastTrainingAt: null,
    sessionsSince: 0,
    scored: 0,
    ...overrides,
  };
}

function manager() {
  const bot = createHarness();
  const user = bot.services.access.allow(7500, { role: 'manager', firstName: 'Ольга' });
  return { bot, user, olga: bot.user(7500, { firstName: 'Ольга' }) };
}

const trainee = (id: number, firstName: string): User => ({
  id: id as UserId,
  telegramId: (7000 + id) as TelegramId,
  username: null,
  firstName,
  lastName: null,
  languageCode: 'ru',
  role: 'trainee',
  voiceReplies: null,
  managerId: 1 as UserId,
  createdAt: new Date('2030-01-01T00:00:00Z'),
});

function teamSession(bot: ReturnType<typeof createHarness>, id: number, person: User, totalScore: number | null) {
  const sessionId = id as SessionId;
  bot.services.team.sessions.set(sessionId, {
    session: {
      id: sessionId,
      userId: person.id,
      scenarioKey: 'cold-call',
      difficulty: 'hard',
      status: totalScore === null ? 'abandoned' : 'finished',
      startedAt: new Date('2030-03-04T15:00:00Z'),
      finishedAt: new Date('2030-03-04T15:20:00Z'),
      finishRequestedAt: null,
      clientHungUpAt: null,
    },
    member: person,
    evaluation:
      totalScore === null
        ? undefined
        : { ...defaultEvaluation, totalScore, id, sessionId, deliveredAt: null, createdAt: new Date('2030-03-04T15:21:00Z') },
    review: undefined,
    dispute: undefined,
  });
  return sessionId;
}

describe('/team', () => {
  it('shows a manager their whole team in a table, those who never trained too, and a picture per criterion', async () => {
    const { bot, user, olga } = manager();
    bot.services.team.team = {
      members: [
        member(1, 'Анна', { lastTrainingAt: new Date('2030-03-04T15:00:00Z'), sessionsSince: 3, scored: 5 }),
        member(2, 'Константин-Александр', { lastTrainingAt: new Date('2030-02-20T08:00:00Z'), sessionsSince: 0, scored: 1 }),
        member(3, null, { username: 'petr' }),
      ],
      scenarioAverages: [
        { userId: 1 as UserId, scenarioKey: 'cold-call', average: 73, count: 4 },
        { userId: 1 as UserId, scenarioKey: 'upsell', average: 60, count: 1 },
        { userId: 2 as UserId, scenarioKey: 'cold-call', average: 41, count: 1 },
      ],
      criteria: [
        { criterion: 'Работа с возражениями', average: 52, count: 6 },
        { criterion: 'Установление контакта', average: 78, count: 6 },
      ],
      assignments: [{ userId: 1 as UserId, done: 2, open: 1, overdue: 1 }],
    };

    const reaction = await olga.send('/team');

    expect(bot.services.team.calls).toEqual([{ method: 'overview', args: [{ kind: 'manager', managerId: user.id }] }]);
    const [table, hint, picture] = reaction.messages;
    expect(table?.parse_mode).toBe('HTML');
    expect(table?.text).toBe(
      [
        '<b>Ваша команда: 3 чел.</b>',
        '«Посл.» — последняя тренировка, «Нед» — тренировок за 7 дней, S1… — средний балл по сценарию:',
        '«Задания» — сдано/открыто/просрочено.',
        'S1 — Холодный звонок',
        'S2 — Расширение тарифа',
        '',
        '<pre>Сотрудник    Посл. Нед Задания  S1  S2',
        'Анна         04.03   3 2/1/1    73  60',
        'Константин-… 20.02   0 —        41   —',
        '@petr        —       0 —         —   —</pre>',
      ].join('\n'),
    );
    expect(hint?.text).toBe('Кнопкой с именем откроете тренировки сотрудника: переписку, оценку и пересмотр.');
    expect(hint?.buttons).toEqual([
      { text: 'Анна', data: 'tm:1' },
      { text: 'Константин-Александр', data: 'tm:2' },
      { text: '@petr', data: 'tm:3' },
    ]);
    expect(picture?.text).toBe(
      'Средний балл команды по критериям. Ниже проходного (80): Работа с возражениями (52), Установление контакта (78).',
    );
    expect(PNG.sync.read(Buffer.from(picture!.photo!)).width).toBeGreaterThanOrEqual(1000);
  });

  it('names the five weakest criteria under the picture, weakest first, and counts the rest', async () => {
    const { bot, olga } = manager();
    const criteria = [61, 45, 70, 52, 79, 48, 66, 90].map((average, i) => ({ criterion: `К${i + 1}`, average, count: 3 }));
    bot.services.team.team = { members: [member(1, 'Анна')], scenarioAverages: [], criteria, assignments: [] };

    const picture = (await olga.send('/team')).messages.find((m) => m.photo !== undefined);
    expect(picture?.text).toBe(
      'Средний балл команды по критериям. Ниже проходного (80): К2 (45), К6 (48), К4 (52), К1 (61), К7 (66), и ещё 2.',
    );
  });

  it('an admin sees everybody', async () => {
    const bot = createHarness();
    bot.services.access.allow(7002, { role: 'admin' });
    bot.services.team.team = { members: [member(1, 'Анна')], scenarioAverages: [], criteria: [], assignments: [] };

    const reaction = await bot.user(7002).send('/team');

    expect(bot.services.team.calls).toEqual([{ method: 'overview', args: [{ kind: 'everybody' }] }]);
    // Nobody scored yet: a sentence, no empty picture.
    expect(reaction.methods).not.toContain('sendPhoto');
    expect(reaction.texts.at(-1)).toBe('Оценённых тренировок в команде пока нет — картинка по критериям появится после первой.');
  });

  it('a manager with nobody in the team is told how people get into it', async () => {
    const { olga } = manager();

    expect((await olga.send('/team')).texts).toEqual([
      'В вашей команде пока никого нет. Люди попадают в неё по вашему приглашению (/invite) или когда администратор закрепит их за вами.',
    ]);
  });

  it('keeps the table’s columns straight: a name’s direction controls are dropped, HTML is escaped', async () => {
    const { bot, olga } = manager();
    bot.services.team.team = { members: [member(4, '\u202e<b>Зв')], scenarioAverages: [], criteria: [], assignments: [] };

    const reaction = await olga.send('/team');

    expect(reaction.texts[0]).toContain('\n&lt;b&gt;Зв        —       0</pre>');
  });

  it('sends a big team in several messages, each under Telegram’s limit, the table never cut inside a row', async () => {
    const { bot, olga } = manager();
    bot.services.team.team = {
      members: Array.from({ length: 150 }, (_, i) => member(100 + i, `Сотрудник ${i}`)),
      scenarioAverages: [],
      criteria: [],
      assignments: [],
    };

    const reaction = await olga.send('/team');

    const tables = reaction.texts.filter((text) => text.includes('<pre>'));
    expect(tables.length).toBe(3);
    for (const text of reaction.texts) expect(text.length).toBeLessThanOrEqual(4096);
    expect(reaction.texts.join('\n').match(/Сотрудник \d+/g)).toHaveLength(150);
  });

  it('is refused to a trainee, who never sees the team', async () => {
    const bot = createHarness();
    bot.services.access.allow(7001);

    const reaction = await bot.user(7001).send('/team');

    expect(reaction.texts).toEqual(['Эта команда доступна руководителям и администраторам.']);
    expect(bot.services.team.calls).toEqual([]);
  });
});

describe('a person of the team, and their sessions', () => {
  it('opens a person’s sessions, then one session: its evaluation, the dialogue, and a review button', async () => {
    const { bot, olga } = manager();
    const anna = trainee(1, 'Анна');
    const sessionId = teamSession(bot, 41, anna, 62);
    bot.services.team.transcripts.set(sessionId, [
      { role: 'assistant', content: 'Алло, кто это?', spoken: false, at: new Date() },
      { role: 'user', content: 'Добрый день, <компания>', spoken: true, at: new Date() },
    ]);

    const list = await olga.pressForged('tm:1');
    expect(list.texts).toEqual(['Тренировки: \u2068Анна\u2069\n04.03, 18:00 · Холодный звонок · Сложный · 62/100']);
    expect(list.buttons).toEqual([{ text: '04.03, 18:00 Холодный звонок — 62/100', data: 'ts:41' }]);

    const opened = await olga.pressForged('ts:41');
    expect(opened.texts[0]?.split('\n').slice(0, 3)).toEqual(['<b>\u2068Анна\u2069, 04.03.2030, 18:00</b>', '', '<b>62/100</b>']);
    expect(opened.messages.at(-1)?.buttons).toEqual([
      { text: '📜 Переписка', data: 'tt:41' },
      { text: '✏️ Пересмотреть оценку', data: 'rv:41' },
      { text: '⬅️ Все тренировки сотрудника', data: 'tm:1' },
    ]);

    const dialogue = await olga.pressForged('tt:41');
    expect(dialogue.texts).toEqual([
      '<b>Переписка тренировки</b>\n<b>Клиент:</b> Алло, кто это?\n🎤 <b>Сотрудник:</b> Добрый день, &lt;компания&gt;',
    ]);
  });

  it('refuses, with an alert, any button for someone outside the team (callback data can be forged)', async () => {
    const { bot, olga } = manager();

    for (const data of ['tm:9', 'ts:99', 'tt:99', 'rv:99']) {
      const reaction = await olga.pressForged(data);
      expect(reaction.callbackAnswers).toEqual([
        { text: 'Эта тренировка недоступна: она не из вашей команды или её уже нет.', show_alert: true },
      ]);
      expect(reaction.texts).toEqual([]);
    }
    expect(bot.logs().filter((line) => /refused/.test(String(line.msg)))).toHaveLength(4);
  });

  it('a trainee pressing a forged team button gets the same refusal', async () => {
    const bot = createHarness();
    bot.services.access.allow(7001);
    teamSession(bot, 41, trainee(1, 'Анна'), 62);

    const reaction = await bot.user(7001).pressForged('ts:41');

    expect(reaction.callbackAnswers).toEqual([
      { text: 'Эта тренировка недоступна: она не из вашей команды или её уже нет.', show_alert: true },
    ]);
    expect(bot.services.team.calls).toEqual([]);
  });
});
