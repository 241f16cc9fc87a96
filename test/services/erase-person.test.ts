import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { asTelegramId, type TelegramId, type UserId } from '../../src/db/ids.js';
import { createInvite, redeemInvite, wasAdmittedByInvite } from '../../src/db/queries/invites.js';
import { appendMessage } from '../../src/db/queries/messages.js';
import { startSession } from '../../src/db/queries/sessions.js';
import { findUserByTelegramId, getOrCreateUser, setUserRole } from '../../src/db/queries/users.js';
import { conversationStates, invites, sheetErasures, sheetExports } from '../../src/db/schema.js';
import { createAccessService } from '../../src/services/access.js';
import {
  createPersonErasure,
  listenForErasures,
  type ErasureTiming,
  type PeopleCaches,
} from '../../src/services/erase-person.js';
import type { ManagersSheet } from '../../src/services/sheets/managers-sheet.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/database.js';
import {
  createSheetsWorld,
  finishSession,
  RESULTS,
  sheetSessionIds,
  TRAINEES,
  waitFor,
  type SheetsWorld,
} from './sheets/sheets-harness.js';

let database: TestDatabase;
let world: SheetsWorld | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});
afterEach(async () => {
  await world?.close();
  world = undefined;
  // Each test owns its queue: what one left is not the next one's business.
  await database.db.delete(sheetErasures);
  await database.db.update(sheetExports).set({ status: 'done' }).where(eq(sheetExports.status, 'pending'));
});

/** Seconds, not minutes: the last look at the sheet comes 300 ms after an erasure. */
const timing: Partial<ErasureTiming> = { leaseMs: 5_000, backoffBaseMs: 20, backoffCapMs: 100, busyWaitMs: 2_000, settleMs: 300 };

function recordingCaches() {
  const forgotten = { access: [] as TelegramId[], training: [] as UserId[], conversations: [] as string[], everyone: 0 };
  const caches: PeopleCaches = {
    access: { forget: (id) => void forgotten.access.push(id), forgetAll: () => undefined },
    training: { forget: (id) => void forgotten.training.push(id), forgetAll: () => void (forgotten.everyone += 1) },
    conversations: { forget: (key) => void forgotten.conversations.push(key), forgetAll: () => undefined },
  };
  return { caches, forgotten };
}

function erasure(sheet: ManagersSheet | undefined, caches?: PeopleCaches) {
  return createPersonErasure({ db: database.db, sheet, logger: world?.logger ?? silentLogger, caches, timing });
}

async function count(query: string): Promise<number> {
  return (await database.db.execute<{ n: number }>(sql.raw(`select count(*)::int as n from ${query}`)))[0]!.n;
}

async function erasuresLeft(): Promise<Array<{ telegramId: TelegramId | null }>> {
  return database.db.select({ telegramId: sheetErasures.telegramId }).from(sheetErasures);
}

describe('erasing a person', () => {
  it('removes them from PostgreSQL and from both tabs of the sheet, keeps everyone else, and says what went', async () => {
    world = await createSheetsWorld(database.db);
    const exporter = world.exporter();
    const person = 8300;
    const colleague = 8400;
    const first = await finishSession(database.db, {
      telegramId: person,
      firstName: 'Ольга',
      lastName: 'Стёркина',
      username: 'olga',
    });
    const colleagues = await finishSession(database.db, {
      telegramId: colleague,
      firstName: 'Пётр',
      lastName: 'Остаюшкин',
      username: 'petr',
    });
    const second = await finishSession(database.db, {
      telegramId: person,
      firstName: 'Ольга',
      lastName: 'Стёркина',
      username: 'olga',
    });
    const user = (await findUserByTelegramId(database.db, asTelegramId(person)))!;
    // She is a manager too: she invited a newcomer, and came in herself by another manager's invite.
    await setUserRole(database.db, user.id, 'manager');
    const hers = await createInvite(database.db, {
      createdBy: user.id,
      role: 'trainee',
      maxUses: 5,
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    expect(await redeemInvite(database.db, hers.code, { telegramId: asTelegramId(8200), firstName: 'Новичок' })).toMatchObject({
      ok: true,
    });
    const boss = await getOrCreateUser(database.db, { telegramId: asTelegramId(8100), firstName: 'Начальник' }, 'manager');
    const bosses = await createInvite(database.db, {
      createdBy: boss.id,
      role: 'trainee',
      maxUses: 5,
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    expect(await redeemInvite(database.db, bosses.code, { telegramId: asTelegramId(person) })).toMatchObject({ ok: true });
    // And she is in the middle of a training, in a multi-step flow.
    const active = await startSession(database.db, user.id, 'cold-call', 'easy');
    await appendMessage(database.db, active.id, 'assistant', 'Алло?');
    await database.db.insert(conversationStates).values({ key: String(person), value: { waiting: true } });

    exporter.worker.start();
    await waitFor('three rows', () => sheetSessionIds(world!.fake).length === 3);
    expect(await exporter.worker.flush(5_000)).toBe(true);
    expect(sheetSessionIds(world.fake)).toEqual([first, colleagues, second]);
    expect(JSON.stringify(world.fake.rows(TRAINEES))).toContain('Стёркина');

    const { caches, forgotten } = recordingCaches();
    const report = await erasure(exporter.sheet, caches).erase(asTelegramId(person));

    expect(report).toMatchObject({
      telegramId: person,
      found: true,
      removed: {
        users: 1,
        sessions: 3,
        messages: 2 * 5 + 1,
        evaluations: 2,
        inviteRedemptions: 1,
        conversationStates: 1,
        sheetExports: 2,
        accessGrants: 1,
        accessRequests: 0,
      },
      invites: { detached: 1, closed: 1 },
      sheet: { kind: 'erased', rowsDeleted: 2 },
    });
    expect(report.sheet.kind === 'erased' && report.sheet.recheckAt).toBeInstanceOf(Date);

    // Nothing of hers in PostgreSQL.
    expect(await findUserByTelegramId(database.db, asTelegramId(person))).toBeUndefined();
    expect(await count(`sessions where id in (${first}, ${second}, ${active.id})`)).toBe(0);
    expect(await count(`messages where session_id in (${first}, ${second}, ${active.id})`)).toBe(0);
    expect(await count(`evaluations where session_id in (${first}, ${second})`)).toBe(0);
    expect(await count(`sheet_exports where session_id in (${first}, ${second})`)).toBe(0);
    expect(await count(`invite_redemptions where user_id = ${user.id}`)).toBe(0);
    expect(await count(`conversation_states where key = '${person}'`)).toBe(0);
    // The row left for the last look at the sheet keeps session numbers only, not who she was.
    expect(await erasuresLeft()).toEqual([{ telegramId: null }]);

    // Her invite stays, nameless and closed: the newcomer she admitted keeps access.
    const [invite] = await database.db.select().from(invites).where(eq(invites.code, hers.code));
    expect(invite?.createdBy).toBeNull();
    expect(invite!.expiresAt.getTime()).toBeLessThanOrEqual(Date.now());
    const newcomer = (await findUserByTelegramId(database.db, asTelegramId(8200)))!;
    expect(await wasAdmittedByInvite(database.db, newcomer.id)).toBe(true);

    // The sheet: her rows gone (two runs, one request, the lower run deleted first), the colleague's kept.
    expect(sheetSessionIds(world.fake)).toEqual([colleagues]);
    const deletions = world.fake
      .formatting(RESULTS)
      .flatMap((r) => ('deleteDimension' in r ? [r.deleteDimension as { range: { startIndex: number } }] : []));
    expect(deletions.map((d) => d.range.startIndex)).toEqual([3, 1]);
    const trainees = JSON.stringify(world.fake.rows(TRAINEES));
    expect(trainees).not.toContain('Стёркина');
    expect(trainees).not.toContain(String(person));
    expect(trainees).toContain('Остаюшкин');

    // This process's caches forgot her.
    expect(forgotten.access).toEqual([person]);
    expect(forgotten.training).toEqual([user.id]);
    expect(forgotten.conversations).toEqual([String(person)]);

    // The running worker takes the last look and the queue empties.
    await waitFor('the last look at the sheet', async () => (await erasuresLeft()).length === 0);
    expect(sheetSessionIds(world.fake)).toEqual([colleagues]);
  });

  it('erasing someone already erased says there was nothing, and changes nothing', async () => {
    world = await createSheetsWorld(database.db);
    const exporter = world.exporter();
    await finishSession(database.db, { telegramId: 8310, firstName: 'Дважды' });
    const eraser = erasure(exporter.sheet);
    expect((await eraser.erase(asTelegramId(8310))).found).toBe(true);
    await database.db.delete(sheetErasures); // the last look, not needed here
    const requestsBefore = world.fake.requests.length;

    const again = await eraser.erase(asTelegramId(8310));
    expect(again).toEqual({
      telegramId: 8310,
      found: false,
      removed: {
        users: 0,
        sessions: 0,
        messages: 0,
        evaluations: 0,
        inviteRedemptions: 0,
        conversationStates: 0,
        sheetExports: 0,
        accessGrants: 0,
        accessRequests: 0,
      },
      invites: { detached: 0, closed: 0 },
      sheet: { kind: 'nothing' },
    });
    expect(world.fake.requests.length).toBe(requestsBefore);
    expect(await eraser.preview(asTelegramId(8310))).toEqual({ telegramId: 8310, person: undefined, sheetPending: 0 });
  });

  it('with Google down, the database part is done and the sheet part waits in PostgreSQL until the worker does it', async () => {
    world = await createSheetsWorld(database.db);
    const exporter = world.exporter();
    const session = await finishSession(database.db, { telegramId: 8320, firstName: 'Недоступная', lastName: 'Гуглова' });
    exporter.worker.start();
    await waitFor('the row', () => sheetSessionIds(world!.fake).includes(session));
    await exporter.worker.stop();
    world.fake.down();

    const eraser = erasure(exporter.sheet);
    expect(await eraser.preview(asTelegramId(8320))).toEqual({
      telegramId: 8320,
      person: { name: 'Недоступная Гуглова', role: 'trainee', sessions: 1 },
      sheetPending: 0,
    });
    const report = await eraser.erase(asTelegramId(8320));
    expect(report).toMatchObject({
      found: true,
      removed: { users: 1, sessions: 1 },
      sheet: { kind: 'queued', reason: 'google-unavailable' },
    });
    expect(await findUserByTelegramId(database.db, asTelegramId(8320))).toBeUndefined();
    expect(await erasuresLeft()).toEqual([{ telegramId: 8320 }]);
    expect(await eraser.preview(asTelegramId(8320))).toEqual({ telegramId: 8320, person: undefined, sheetPending: 1 });
    expect(sheetSessionIds(world.fake)).toContain(session);

    world.fake.up();
    exporter.worker.start();
    await waitFor('the row deleted by the worker', () => !sheetSessionIds(world!.fake).includes(session));
    // The trainees tab is rewritten right after the rows go, in a second request.
    await waitFor('the trainees tab without her', () => !JSON.stringify(world!.fake.rows(TRAINEES)).includes('Гуглова'));
    await waitFor('the queue empty after the last look', async () => (await erasuresLeft()).length === 0);
  });

  it('a row an export writes after the erasure is caught by the last look', async () => {
    world = await createSheetsWorld(database.db);
    const exporter = world.exporter();
    const session = await finishSession(database.db, { telegramId: 8330, firstName: 'Запоздалая' });
    exporter.worker.start();
    await waitFor('the row', () => sheetSessionIds(world!.fake).includes(session));
    const late = world.fake.rows(RESULTS).find((row) => row[0] === session)!;

    const report = await erasure(exporter.sheet).erase(asTelegramId(8330));
    expect(report.sheet).toMatchObject({ kind: 'erased', rowsDeleted: 1 });
    // An append begun before the erasure lands after it.
    world.fake.seedRows(RESULTS, [late]);
    await waitFor('the late row deleted', () => !sheetSessionIds(world!.fake).includes(session));
    await waitFor('the queue empty', async () => (await erasuresLeft()).length === 0);
  });

  it('a refused person, who never became a user, has their request erased; a revoked one their allowlist entry', async () => {
    const access = createAccessService(
      database.db,
      { mode: 'allowlist', allowedUserIds: [asTelegramId(8361)], adminUserIds: [] },
      silentLogger,
    );
    expect(await access.admit({ telegramId: asTelegramId(8360), firstName: 'Отказ' })).toMatchObject({ admitted: false });
    const admin = await getOrCreateUser(database.db, { telegramId: asTelegramId(8362), firstName: 'Админ' }, 'admin');
    expect(await access.admit({ telegramId: asTelegramId(8361), firstName: 'Отозван' })).toMatchObject({ admitted: true });
    expect(await access.revoke(asTelegramId(8361), admin)).toMatchObject({ kind: 'revoked' });

    const refused = await erasure(undefined).erase(asTelegramId(8360));
    expect(refused).toMatchObject({ found: true, removed: { users: 0, accessRequests: 1, accessGrants: 0 } });
    const revoked = await erasure(undefined).erase(asTelegramId(8361));
    expect(revoked).toMatchObject({ found: true, removed: { users: 1, accessRequests: 0, accessGrants: 1 } });
    expect(await count('access_requests where telegram_id in (8360, 8361)')).toBe(0);
    expect(await count('access_grants where telegram_id in (8360, 8361)')).toBe(0);
  });

  it('without a sheet (export off) erases the database and says there is no sheet', async () => {
    await getOrCreateUser(database.db, { telegramId: asTelegramId(8340), firstName: 'Безтаблицы' });
    const report = await erasure(undefined).erase(asTelegramId(8340));
    expect(report).toMatchObject({ found: true, removed: { users: 1 }, sheet: { kind: 'off' } });
    expect(await erasuresLeft()).toEqual([]);
  });
});

describe('a bot process', () => {
  it('hears of an erasure done by another process: its access cache admits the person afresh', async () => {
    const access = createAccessService(database.db, { mode: 'open', allowedUserIds: [], adminUserIds: [] }, silentLogger);
    const { caches, forgotten } = recordingCaches();
    const listener = await listenForErasures(database.db, { ...caches, access }, silentLogger);
    try {
      const profile = { telegramId: asTelegramId(8350), firstName: 'Слушатель' };
      const before = await access.admit(profile);
      expect(before.admitted && before.user.id).toBeTypeOf('number');
      expect(forgotten.everyone).toBe(1); // the first LISTEN: nothing may be trusted that came before it

      // Another process (npm run user:erase): no caches of ours.
      await erasure(undefined).erase(asTelegramId(8350));
      await waitFor('the notice', () => forgotten.training.length === 1);
      expect(forgotten.conversations).toEqual(['8350']);
      const after = await access.admit(profile);
      expect(after.admitted && before.admitted && after.user.id !== before.user.id).toBe(true);

      // Its connection cut (a PostgreSQL restart): it listens again and forgets everyone, since notices may have been lost.
      await database.db.execute(
        sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'sales-trainer-bot erasure listener' and datname = current_database()`,
      );
      await waitFor('listening again', () => forgotten.everyone === 2);
    } finally {
      await listener.stop();
    }
  });
});
