import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCase, recordFigures } from './report.js';
import { getOrCreateUser, placeInTeam } from '../../src/db/queries/users.js';
import { asTelegramId } from '../../src/db/ids.js';
import { inlineButtons } from '../support/telegram-fake.js';
import { startWorld, type World } from '../support/world.js';

const manager = 7801;
const trainees = Array.from({ length: 50 }, (_, i) => 7900 + i);
let world: World;

beforeAll(async () => {
  world = await startWorld({ trainees: [manager, ...trainees] });
  const { db } = world.database;
  const olga = await getOrCreateUser(db, { telegramId: asTelegramId(manager), firstName: 'Ольга' }, 'manager');
  // Fifty people with long names, one of them with a right-to-left override, each with a scored session.
  for (const [i, id] of trainees.entries()) {
    const name = i === 7 ? '\u202eЗвоните 8-800' : `Константин-Александр ${i}`;
    const user = await getOrCreateUser(db, {
      telegramId: asTelegramId(id),
      firstName: name,
      lastName: 'Воскресенский-Преображенский'.repeat(3),
    });
    // Her team: as if each had joined through her invite (/team shows a manager only her own people).
    await placeInTeam(db, user.telegramId, olga.id);
    await db.execute(`
      with s as (insert into sessions (user_id, scenario_key, difficulty, status, finished_at)
                 values (${user.id}, 'cold-call', 'easy', 'finished', now()) returning id)
      insert into evaluations (session_id, total_score, criteria, strengths, mistakes, recommendations, summary, model, delivered_at)
      select id, 77, '[]', '[]', '[]', '[]', '', 'test', now() from s`);
  }
});

afterAll(async () => {
  await world?.close();
});

describe('a manager with a big team', () => {
  it('gets /team whole, in as many messages as it takes, with no name turning the table around', async (context) => {
    recordCase(context, {
      area: 'hostile input',
      case: '/team for 50 long names, one with a right-to-left override',
      action: 'a manager sends /team; 50 trainees with 100-character names, one starting with U+202E',
      traineeSaw: 'the whole team as a table, a button per person; every row reads left to right',
      checked: 'each message under 4096 characters; 50 rows and 50 buttons; no direction control left in the table',
    });
    const olga = world.telegram.user(manager, { firstName: 'Ольга' });
    olga.sendText('/team');
    await olga.waitForMessage((m) => m.text.includes('Ваша команда: 50'));
    const rowsOf = (text: string) => text.split('\n').filter((line) => /\s77(<\/pre>)?$/.test(line));
    await world.telegram.waitUntil(() => {
      const rows = olga.messages().flatMap((m) => rowsOf(m.text));
      const buttons = olga.messages().flatMap((m) => inlineButtons(m.reply_markup));
      return rows.length >= 50 && buttons.length >= 50 ? true : undefined;
    }, 10_000);
    const texts = olga.messages().map((m) => m.text);
    recordFigures(context, { messages: texts.length });
    for (const text of texts) expect(text.length).toBeLessThanOrEqual(4096);
    const rows = texts.flatMap(rowsOf);
    expect(rows).toHaveLength(50);
    const overridden = rows.find((line) => line.includes('Звоните'))!;
    expect(overridden).toBeDefined();
    expect(overridden).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
  });
});

describe('the bot added to a group', () => {
  it('says in one line that training is one to one and leaves', async (context) => {
    recordCase(context, {
      area: 'operator',
      case: 'the bot added to a group',
      action: 'a manager adds the bot to a group and writes there',
      traineeSaw: '«Тренировки проходят в личном чате с ботом… Из группы я выхожу.»',
      checked: 'one message in the group, then leaveChat',
    });
    const olga = world.telegram.user(manager);
    world.telegram.postInGroup(-100500, olga, 'Всем привет! Бот, оцени нас');
    await world.telegram.waitUntil(() => (world.telegram.hasLeft(-100500) ? true : undefined), 10_000);
    expect(world.telegram.groupMessages(-100500)).toEqual([
      'Тренировки проходят в личном чате с ботом: откройте @test_bot и нажмите «Старт». Из группы я выхожу.',
    ]);
  });
});
