import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCase } from './report.js';
import { createInvite } from '../../src/db/queries/invites.js';
import { getOrCreateUser } from '../../src/db/queries/users.js';
import { asTelegramId } from '../../src/db/ids.js';
import { count, startWorld, type World } from '../support/world.js';

let world: World;

beforeAll(async () => {
  world = await startWorld({ trainees: [], env: { ACCESS_MODE: 'invite' } });
});

afterAll(async () => {
  await world?.close();
});

async function singleUseInvite() {
  const manager = await getOrCreateUser(
    world.database.db,
    { telegramId: asTelegramId(8100), firstName: 'Руководитель' },
    'manager',
  );
  // She is let in herself (as by an admin's /allow): she presses «Допустить» in the bot.
  await world.database.db.execute(
    `insert into access_grants (telegram_id, source) values (8100, 'admin') on conflict do nothing`,
  );
  return createInvite(world.database.db, {
    createdBy: manager.id,
    role: 'trainee',
    maxUses: 1,
    expiresAt: new Date(Date.now() + 3_600_000),
  });
}

describe('a stranger with an invite link', () => {
  it('is refused with a clear word for a wrong code, and written nowhere', async (context) => {
    recordCase(context, {
      area: 'security',
      case: 'a wrong invite code',
      action: 'in invite mode a stranger named «Звоните 8-800-555-35-35» sends /start with a made-up code, then a text',
      traineeSaw: '«Такого приглашения нет…» with their Telegram id',
      checked: 'no users row (so no line in «Сотрудники»)',
    });
    const stranger = world.telegram.user(8201, { firstName: 'Звоните 8-800-555-35-35' });
    stranger.sendText('/start wrongcode123');
    const refusal = await stranger.waitForNextMessage();
    expect(refusal.text).toContain('8201');
    expect(refusal.text).toMatch(/приглашени/i);
    expect(await count(world.database, 'select count(*)::int as n from users where telegram_id = 8201')).toBe(0);

    stranger.sendText('Привет');
    await stranger.waitForNextMessage();
    expect(await count(world.database, 'select count(*)::int as n from users where telegram_id = 8201')).toBe(0);
  });

  it('who loses a race for a single-use code is written nowhere; the winner joins', async (context) => {
    recordCase(context, {
      area: 'security',
      case: 'a race for a single-use invite',
      action: '20 strangers send /start with the same single-use code at once',
      traineeSaw: 'one is let in; 19 read «По этому приглашению уже зарегистрировались…»',
      checked: 'exactly one users row and one redemption',
    });
    const invite = await singleUseInvite();
    const racers = Array.from({ length: 20 }, (_, i) => world.telegram.user(8300 + i, { firstName: `Гонщик ${i}` }));
    for (const racer of racers) racer.sendText(`/start ${invite.code}`);
    await Promise.all(racers.map((racer) => racer.waitForNextMessage()));
    expect(await count(world.database, 'select count(*)::int as n from users where telegram_id between 8300 and 8319')).toBe(1);
    expect(await count(world.database, `select count(*)::int as n from invite_redemptions where code = '${invite.code}'`)).toBe(
      1,
    );
    // The 19 wait for someone to let them in: a request each, never an employee.
    expect(
      await count(world.database, 'select count(*)::int as n from access_requests where telegram_id between 8300 and 8319'),
    ).toBe(19);
  });

  it('who follows a used-up invite is announced once to its inviter, with a button that lets them in', async (context) => {
    recordCase(context, {
      area: 'security',
      case: 'a used-up invite, and the inviter told',
      action: 'a stranger opens a single-use link someone already used, then writes twice more',
      traineeSaw: '«По этому приглашению уже зарегистрировались…»; after the manager presses «Допустить», «Вам открыли доступ…»',
      checked: 'the inviter got one notice with «Допустить», not three; pressed, the stranger is in her team',
    });
    const invite = await singleUseInvite();
    const first = world.telegram.user(8400, { firstName: 'Первый' });
    first.sendText(`/start ${invite.code}`);
    await first.waitForNextMessage();
    const manager = world.telegram.user(8100, { firstName: 'Руководитель' });
    await manager.waitForMessage((m) => m.text.includes('Первый'));

    const late = world.telegram.user(8401, { firstName: 'Опоздавший' });
    late.sendText(`/start ${invite.code}`);
    expect((await late.waitForNextMessage()).text).toMatch(/^По этому приглашению уже зарегистрировались/);
    const notice = await manager.waitForMessage((m) => m.text.includes('Опоздавший'));
    for (const text of ['Алло', 'Есть кто?']) {
      late.sendText(text);
      await late.waitForNextMessage();
    }
    expect(manager.messages().filter((m) => m.text.includes('Опоздавший'))).toHaveLength(1);

    manager.pressButton('admit:8401', notice.message_id);
    expect((await late.waitForNextMessage()).text).toMatch(/^✅ Вам открыли доступ/);
    expect(
      await count(
        world.database,
        'select count(*)::int as n from users u join users m on m.id = u.manager_id where u.telegram_id = 8401 and m.telegram_id = 8100',
      ),
    ).toBe(1);
  });
});
