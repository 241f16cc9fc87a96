import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asTelegramId } from '../../../src/db/ids.js';
import { startSession } from '../../../src/db/queries/sessions.js';
import { getOrCreateUser, setUserRole } from '../../../src/db/queries/users.js';
import { sessions } from '../../../src/db/schema.js';
import { TRAINEES_LAYOUT, toSheetsDateTime } from '../../../src/services/sheets/sheet-layout.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { createSheetsWorld, finishSession, TIME_ZONE, TRAINEES, waitFor, type SheetsWorld } from './sheets-harness.js';

let database: TestDatabase;
let world: SheetsWorld;

beforeAll(async () => {
  database = await createTestDatabase();
  world = await createSheetsWorld(database.db);
});
afterAll(async () => {
  await world.close();
  await database.drop();
});

const anna = { telegramId: 501, username: 'anna', firstName: 'Анна', lastName: 'Смирнова' };
const boris = { telegramId: 502, username: 'boris', firstName: 'Борис', lastName: 'Орлов' };

describe('the trainees tab', () => {
  it('shows every trainee with sessions, average, best and last score and last activity; rewritten after each export', async () => {
    // A manager prepared the tab with the right header but no formats.
    world.fake.addTab(TRAINEES, [[...TRAINEES_LAYOUT.header]]);
    for (const score of [60, 80, 70]) await finishSession(database.db, { ...anna, score });
    const borisSession = await finishSession(database.db, { ...boris, score: 55 });
    // Boris has started another session since: that is his last activity.
    const borisUser = await getOrCreateUser(database.db, { ...boris, telegramId: asTelegramId(boris.telegramId) });
    const active = await startSession(database.db, borisUser.id, 'upsell', 'easy');
    // Вера has not trained yet; a manager who never trained is not a trainee.
    await getOrCreateUser(database.db, { telegramId: asTelegramId(503), firstName: 'Вера' });
    const manager = await getOrCreateUser(database.db, { telegramId: asTelegramId(504), firstName: 'Глеб' });
    await setUserRole(database.db, manager.id, 'manager');

    const { worker } = world.exporter();
    expect(await worker.flush(10_000)).toBe(true);

    const activeStart = (await database.db.select().from(sessions).where(eq(sessions.id, active.id)))[0]!.startedAt;
    const rows = world.fake.rows(TRAINEES);
    expect(rows[0]).toEqual(TRAINEES_LAYOUT.header);
    expect(rows.slice(1).map((row) => row.slice(0, 7))).toEqual([
      ['Анна Смирнова', '@anna', 501, 3, 70, 80, 70],
      ['Борис Орлов', '@boris', 502, 1, 55, 55, 55],
      ['Вера', '', 503, 0], // trailing empty cells are not stored
    ]);
    expect(rows[2]![7]).toBe(toSheetsDateTime(activeStart, TIME_ZONE));
    expect(rows[3]![7] ?? '').toBe('');
    expect(JSON.stringify(world.fake.formatting(TRAINEES))).toContain('"pattern":"0.0"');

    // Boris finishes another one: the tab is rewritten with his new numbers, nothing left over.
    world.fake.seedRows(TRAINEES, [['Уволенный', '', 1, 1, 1, 1, 1], ['Заметка руководителя']]);
    await database.db.update(sessions).set({ status: 'abandoned' }).where(eq(sessions.id, active.id));
    await finishSession(database.db, { ...boris, score: 90 });
    worker.start();
    await waitFor('the rewritten tab', () => world.fake.rows(TRAINEES)[2]?.[3] === 2);
    await worker.stop();
    expect(
      world.fake
        .rows(TRAINEES)
        .slice(1)
        .map((row) => row.slice(0, 7)),
    ).toEqual([
      ['Анна Смирнова', '@anna', 501, 3, 70, 80, 70],
      ['Борис Орлов', '@boris', 502, 2, 72.5, 90, 90],
      ['Вера', '', 503, 0], // trailing empty cells are not stored
    ]);
    expect(borisSession).toBeGreaterThan(0);
  });
});
