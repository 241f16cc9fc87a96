import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asTelegramId } from '../../src/db/ids.js';
import { createInvite, redeemInvite } from '../../src/db/queries/invites.js';
import { findUserByTelegramId, getOrCreateUser } from '../../src/db/queries/users.js';
import { createAccessService } from '../../src/services/access.js';
import { openDatabase } from '../../src/db/client.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/database.js';
import { PostgresFaultProxy, type CutMoment } from '../support/postgres-fault-proxy.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

const profile = (id: number) => ({ telegramId: asTelegramId(id), firstName: `User ${id}` });

describe('access', () => {
  it('allowlist admits listed people and admins, refuses and does not register strangers', async () => {
    const access = createAccessService(
      database.db,
      {
        mode: 'allowlist',
        allowedUserIds: [asTelegramId(1)],
        adminUserIds: [asTelegramId(2)],
      },
      silentLogger,
    );
    expect(await access.admit(profile(1))).toMatchObject({ admitted: true, user: { role: 'trainee' } });
    expect(await access.admit(profile(2))).toMatchObject({ admitted: true, user: { role: 'admin' } });
    expect(await access.admit(profile(3))).toEqual({ admitted: false, reason: 'not-allowed' });
    const rows = await database.db.execute<{ n: number }>('select count(*)::int as n from users where telegram_id = 3');
    expect(rows[0]!.n).toBe(0);
  });

  it('withdraws the admin role when the id leaves ADMIN_USER_IDS, and access with the allowlist', async () => {
    const before = createAccessService(
      database.db,
      { mode: 'allowlist', allowedUserIds: [], adminUserIds: [asTelegramId(20)] },
      silentLogger,
    );
    expect(await before.admit(profile(20))).toMatchObject({ admitted: true, user: { role: 'admin' } });
    const after = createAccessService(
      database.db,
      { mode: 'allowlist', allowedUserIds: [asTelegramId(20)], adminUserIds: [] },
      silentLogger,
    );
    expect(await after.admit(profile(20))).toMatchObject({ admitted: true, user: { role: 'trainee' } });
    const removed = createAccessService(database.db, { mode: 'allowlist', allowedUserIds: [], adminUserIds: [] }, silentLogger);
    expect(await removed.admit(profile(20))).toMatchObject({ admitted: false });
  });

  it('open mode admits everyone', async () => {
    const access = createAccessService(database.db, { mode: 'open', allowedUserIds: [], adminUserIds: [] }, silentLogger);
    expect(await access.admit(profile(30))).toMatchObject({ admitted: true });
  });

  it('invite mode admits with a valid code once per person, within its limit and expiry', async () => {
    const manager = await getOrCreateUser(database.db, profile(40), 'manager');
    const access = createAccessService(database.db, { mode: 'invite', allowedUserIds: [], adminUserIds: [] }, silentLogger);
    const invite = await createInvite(database.db, {
      createdBy: manager.id,
      role: 'trainee',
      maxUses: 1,
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    expect(await access.admit(profile(41))).toEqual({ admitted: false, reason: 'needs-invite' });
    expect(await access.admit(profile(41), 'nonexistent')).toEqual({ admitted: false, reason: 'invite-unknown' });
    expect(await findUserByTelegramId(database.db, profile(41).telegramId)).toBeUndefined();
    expect(await access.admit(profile(41), invite.code)).toMatchObject({ admitted: true, joinedByInvite: true });
    expect(await access.admit(profile(41))).toMatchObject({ admitted: true });
    expect(await access.admit(profile(42), invite.code)).toEqual({ admitted: false, reason: 'invite-used-up' });

    const expired = await createInvite(database.db, {
      createdBy: manager.id,
      role: 'trainee',
      maxUses: 5,
      expiresAt: new Date(Date.now() - 1000),
    });
    expect(await access.admit(profile(43), expired.code)).toEqual({ admitted: false, reason: 'invite-expired' });
    for (const refused of [42, 43]) expect(await findUserByTelegramId(database.db, profile(refused).telegramId)).toBeUndefined();
  });

  it('never lets two people race past an invite limit', async () => {
    const manager = await getOrCreateUser(database.db, profile(50), 'manager');
    const invite = await createInvite(database.db, {
      createdBy: manager.id,
      role: 'trainee',
      maxUses: 3,
      expiresAt: new Date(Date.now() + 60_000),
    });
    const people = Array.from({ length: 10 }, (_, i) => profile(500 + i));
    const results = await Promise.allSettled(people.map((p) => redeemInvite(database.db, invite.code, p)));
    const admitted = results.filter((r) => r.status === 'fulfilled' && r.value.ok);
    expect(admitted).toHaveLength(3);
    // The seven who lost the race are written nowhere.
    const [registered] = await database.db.execute<{ n: number }>(
      'select count(*)::int as n from users where telegram_id between 500 and 509',
    );
    expect(registered!.n).toBe(3);
  });

  it.each<CutMoment>(['before-sent', 'reply-lost'])(
    "a manager's invite makes a manager even when the connection drops as it is redeemed (cut %s)",
    async (moment) => {
      const admin = await getOrCreateUser(database.db, profile(60), 'admin');
      const invite = await createInvite(database.db, {
        createdBy: admin.id,
        role: 'manager',
        maxUses: 5,
        expiresAt: new Date(Date.now() + 60_000),
      });
      const proxy = await PostgresFaultProxy.start(database.url);
      const throughProxy = await openDatabase({ databaseUrl: proxy.url, dataDir: '/nonexistent' }, silentLogger);
      try {
        const access = createAccessService(
          throughProxy.db,
          { mode: 'invite', allowedUserIds: [], adminUserIds: [] },
          silentLogger,
        );
        const person = moment === 'before-sent' ? 61 : 62;
        const cut = proxy.cutOnNext(/^\s*with existing as/, moment);
        expect(await access.admit(profile(person), invite.code)).toMatchObject({ admitted: true, user: { role: 'manager' } });
        await cut;
        const [stored] = await database.db.execute<{ role: string; uses: number }>(
          `select u.role, (select uses from invites where code = '${invite.code}') as uses from users u where u.telegram_id = ${person}`,
        );
        expect(stored).toEqual({ role: 'manager', uses: 1 });
      } finally {
        await throughProxy.close();
        await proxy.close();
      }
    },
  );
});
