import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asTelegramId } from '../../src/db/ids.js';
import { createInvite, redeemInvite } from '../../src/db/queries/invites.js';
import { findUserByTelegramId, getOrCreateUser } from '../../src/db/queries/users.js';
import type { JoinNotice, RefusalNotice } from '../../src/services/access.js';
import { listTraineeSummaries } from '../../src/db/queries/sheet-exports.js';
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

describe('the PostgreSQL allowlist', () => {
  const allowlist = (allowed: number[] = [], admins: number[] = []) =>
    createAccessService(
      database.db,
      { mode: 'allowlist', allowedUserIds: allowed.map(asTelegramId), adminUserIds: admins.map(asTelegramId) },
      silentLogger,
    );
  const inADay = () => new Date(Date.now() + 86_400_000);

  it("an invite admits in allowlist mode, is a grant from then on, and puts the invitee in the manager's team", async () => {
    const manager = await getOrCreateUser(database.db, profile(1000), 'manager');
    const access = allowlist();
    const invite = await createInvite(database.db, { createdBy: manager.id, role: 'trainee', maxUses: 2, expiresAt: inADay() });

    const joined = await access.admit(profile(1001), invite.code);
    expect(joined).toMatchObject({ admitted: true, joinedByInvite: true, user: { managerId: manager.id, role: 'trainee' } });
    // Another process (a restart): the grant in PostgreSQL admits them without the code.
    expect(await allowlist().admit(profile(1001))).toMatchObject({ admitted: true });
    expect(await access.admit(profile(1001), invite.code)).toMatchObject({ admitted: true, joinedByInvite: false });
    const [grant] = await database.db.execute<{ source: string; granted_by: number }>(
      'select source, granted_by from access_grants where telegram_id = 1001',
    );
    expect(grant).toEqual({ source: 'invite', granted_by: manager.id });
  });

  it('a trainee’s invite admits, but places nobody in the trainee’s team', async () => {
    const trainee = await getOrCreateUser(database.db, profile(1010), 'trainee');
    const invite = await createInvite(database.db, { createdBy: trainee.id, role: 'trainee', maxUses: 1, expiresAt: inADay() });
    expect(await allowlist().admit(profile(1011), invite.code)).toMatchObject({ admitted: true, user: { managerId: null } });
  });

  it('/allow admits at once, into a team when named; twice is said; a non-manager or unknown manager is refused', async () => {
    const admin = await getOrCreateUser(database.db, profile(1020), 'admin');
    const manager = await getOrCreateUser(database.db, { ...profile(1021), username: 'Ivanova' }, 'manager');
    const trainee = await getOrCreateUser(database.db, profile(1022), 'trainee');
    const access = allowlist([], [1020]);
    expect(await access.admit(profile(1023))).toEqual({ admitted: false, reason: 'not-allowed' });

    expect(await access.grant(asTelegramId(1023), admin, '@ivanova')).toMatchObject({
      kind: 'allowed',
      manager: { id: manager.id },
      request: { telegramId: 1023, firstName: 'User 1023' },
    });
    expect(await access.admit(profile(1023))).toMatchObject({ admitted: true, user: { managerId: manager.id } });
    expect(await access.grant(asTelegramId(1023), admin)).toMatchObject({ kind: 'already-allowed' });
    expect(await access.grant(asTelegramId(1024), admin, '@nobody_here')).toEqual({ kind: 'manager-unknown' });
    expect(await access.grant(asTelegramId(1024), admin, String(trainee.telegramId))).toMatchObject({ kind: 'not-a-manager' });
    expect(await access.admit(profile(1024))).toMatchObject({ admitted: false });
    // The refused request is gone once they are in: they are no longer waiting.
    const [left] = await database.db.execute<{ n: number }>(
      'select count(*)::int as n from access_requests where telegram_id = 1023',
    );
    expect(left!.n).toBe(0);
  });

  it('/revoke shuts out at once even someone ALLOWED_USER_IDS lists, never an admin, and /allow lets them back', async () => {
    const admin = await getOrCreateUser(database.db, profile(1030), 'admin');
    const access = allowlist([1031], [1030]);
    expect(await access.admit(profile(1031))).toMatchObject({ admitted: true }); // now cached

    expect(await access.revoke(asTelegramId(1031), admin)).toMatchObject({ kind: 'revoked', person: { telegramId: 1031 } });
    expect(await access.admit(profile(1031))).toEqual({ admitted: false, reason: 'revoked' });
    expect(await allowlist([1031]).admit(profile(1031))).toEqual({ admitted: false, reason: 'revoked' });
    expect(await access.revoke(asTelegramId(1031), admin)).toEqual({ kind: 'already-revoked' });
    expect(await access.revoke(asTelegramId(1030), admin)).toEqual({ kind: 'admin' });
    expect(await access.revoke(asTelegramId(1039), admin)).toEqual({ kind: 'not-allowed' });

    // Revoked people are not asked about: no request is recorded for them.
    const [requests] = await database.db.execute<{ n: number }>(
      'select count(*)::int as n from access_requests where telegram_id = 1031',
    );
    expect(requests!.n).toBe(0);
    // A revoked person following an invite stays out, and spends no use of it.
    const invite = await createInvite(database.db, { createdBy: admin.id, role: 'trainee', maxUses: 1, expiresAt: inADay() });
    expect(await access.admit(profile(1031), invite.code)).toEqual({ admitted: false, reason: 'revoked' });

    expect(await access.grant(asTelegramId(1031), admin)).toMatchObject({ kind: 'allowed' });
    expect(await access.admit(profile(1031))).toMatchObject({ admitted: true });
  });

  it('tells of a refused person at most once a day, to admins and the inviter whose invite no longer works', async () => {
    const admin = await getOrCreateUser(database.db, { ...profile(1040), languageCode: 'en' }, 'admin');
    const manager = await getOrCreateUser(database.db, profile(1041), 'manager');
    const access = allowlist([], [1040]);
    const invite = await createInvite(database.db, { createdBy: manager.id, role: 'trainee', maxUses: 1, expiresAt: inADay() });
    expect(await access.admit(profile(1042), invite.code)).toMatchObject({ admitted: true });

    expect(await access.admit(profile(1043), invite.code)).toEqual({ admitted: false, reason: 'invite-used-up' });
    const told: RefusalNotice[] = [];
    const tell = async (notice: RefusalNotice) => void told.push(notice);
    // A send that fails leaves it untold: the next refusal tries again.
    await expect(access.tellRefusal(asTelegramId(1043), () => Promise.reject(new Error('Telegram down')))).rejects.toThrow();
    expect(await access.tellRefusal(asTelegramId(1043), tell)).toBe(true);
    expect(await access.tellRefusal(asTelegramId(1043), tell)).toBe(false);
    expect(told).toHaveLength(1);
    expect(told[0]!.person).toMatchObject({ telegramId: 1043, firstName: 'User 1043' });
    expect(told[0]!.recipients.map((r) => r.telegramId).sort()).toEqual(
      [admin.telegramId, manager.telegramId, ...(await adminsBesides(1040))].sort(),
    );

    // The inviter may let them in with the button; another manager may not.
    const other = await getOrCreateUser(database.db, profile(1044), 'manager');
    expect(await access.admitRequest(asTelegramId(1043), other)).toEqual({ kind: 'forbidden' });
    expect(await access.admitRequest(asTelegramId(1043), manager)).toMatchObject({
      kind: 'allowed',
      manager: { id: manager.id },
      request: { telegramId: 1043 },
    });
    expect(await access.admit(profile(1043))).toMatchObject({ admitted: true, user: { managerId: manager.id } });
    expect(await access.admitRequest(asTelegramId(1043), admin)).toEqual({ kind: 'already-allowed' });
  });

  it('tells the inviter of each newcomer once, also those a crash left untold', async () => {
    const manager = await getOrCreateUser(database.db, profile(1050), 'manager');
    const access = allowlist();
    const invite = await createInvite(database.db, { createdBy: manager.id, role: 'trainee', maxUses: 5, expiresAt: inADay() });
    // Two join; the process dies before telling anyone.
    await access.admit({ ...profile(1051), username: 'petrov' }, invite.code);
    await access.admit(profile(1052), invite.code);

    const told: JoinNotice[] = [];
    await expect(access.tellJoins(() => Promise.reject(new Error('Telegram down')))).rejects.toThrow();
    expect(await access.tellJoins(async (notice) => void told.push(notice))).toBeGreaterThanOrEqual(2);
    expect(await access.tellJoins(async (notice) => void told.push(notice))).toBe(0);
    const mine = told.filter((notice) => notice.inviter.telegramId === manager.telegramId);
    expect(mine.map((notice) => notice.person)).toEqual([
      { telegramId: 1051, username: 'petrov', firstName: 'User 1051', lastName: null },
      { telegramId: 1052, username: null, firstName: 'User 1052', lastName: null },
    ]);
  });
});

describe('who is an employee («Сотрудники»), and whose menu changes', () => {
  it('lists neither a person refused at the door nor a revoked one', async () => {
    const admin = await getOrCreateUser(database.db, profile(1060), 'admin');
    const listed = createAccessService(
      database.db,
      { mode: 'allowlist', allowedUserIds: [asTelegramId(1061), asTelegramId(1062)], adminUserIds: [] },
      silentLogger,
    );
    for (const id of [1061, 1062]) expect(await listed.admit(profile(id))).toMatchObject({ admitted: true });
    const names = async () =>
      (await listTraineeSummaries(database.db)).map((t) => t.telegramId).filter((id) => id >= 1060 && id < 1070);
    expect(await names()).toEqual([1061, 1062]);

    // 1061 leaves ALLOWED_USER_IDS and is refused; 1062 is revoked.
    const after = createAccessService(
      database.db,
      { mode: 'allowlist', allowedUserIds: [asTelegramId(1062)], adminUserIds: [] },
      silentLogger,
    );
    expect(await after.admit(profile(1061))).toEqual({ admitted: false, reason: 'not-allowed' });
    expect(await after.revoke(asTelegramId(1062), admin)).toMatchObject({ kind: 'revoked' });
    expect(await names()).toEqual([]);
    expect(await after.grant(asTelegramId(1062), admin)).toMatchObject({ kind: 'allowed' });
    expect(await names()).toEqual([1062]);
  });

  it('says when a role moves between trainee and manager/admin, so the command menu follows', async () => {
    const asAdmin = createAccessService(
      database.db,
      { mode: 'open', allowedUserIds: [], adminUserIds: [asTelegramId(1070)] },
      silentLogger,
    );
    expect(await asAdmin.admit(profile(1070))).toMatchObject({ admitted: true, menuChanged: true, user: { role: 'admin' } });
    expect(
      await createAccessService(
        database.db,
        { mode: 'open', allowedUserIds: [], adminUserIds: [asTelegramId(1070)] },
        silentLogger,
      ).admit(profile(1070)),
    ).not.toHaveProperty('menuChanged');
    const demoted = createAccessService(database.db, { mode: 'open', allowedUserIds: [], adminUserIds: [] }, silentLogger);
    expect(await demoted.admit(profile(1070))).toMatchObject({ admitted: true, menuChanged: true, user: { role: 'trainee' } });
    expect(await demoted.admit(profile(1071))).not.toHaveProperty('menuChanged');
  });
});

/** Admins other tests of this file registered (they share the database). */
async function adminsBesides(id: number): Promise<number[]> {
  const rows = await database.db.execute<{ telegram_id: number }>(
    `select telegram_id::float8 as telegram_id from users where role = 'admin' and telegram_id <> ${id}`,
  );
  return rows.map((row) => Number(row.telegram_id));
}
