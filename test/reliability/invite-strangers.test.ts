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
  });
});
