import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UserId } from '../../../src/db/ids.js';
import { storeDispute, storeReview } from '../../../src/db/queries/reviews.js';
import { findUserByTelegramId, getOrCreateUser } from '../../../src/db/queries/users.js';
import { asTelegramId } from '../../../src/db/ids.js';
import { programCatalog } from '../../../src/services/programs.js';
import { loadScenarios, type ScenarioCatalog } from '../../../src/services/scenarios.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { createSheetsWorld, finishSession, TIME_ZONE, waitFor, type SheetsWorld } from './sheets-harness.js';

let database: TestDatabase;
let world: SheetsWorld | undefined;
let scenarios: ScenarioCatalog;

beforeAll(async () => {
  database = await createTestDatabase();
  scenarios = await loadScenarios('scenarios');
});
afterAll(async () => {
  await database.drop();
});
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe('the tabs rewritten whole from the database', () => {
  it('«Критерии» has a row per criterion per session; «Пересмотры» the manager’s score beside the AI’s, and the dispute', async () => {
    world = await createSheetsWorld(database.db);
    const sources = { scenarios, programs: programCatalog([]), defaultPassMark: 80, timeZone: TIME_ZONE };
    const exporter = world.exporter({ summarySources: sources });
    const session = await finishSession(database.db, { telegramId: 8_500, firstName: 'Вера', lastName: 'Критерьева', score: 72 });
    exporter.worker.start();
    await waitFor('the criteria rows', () => world!.fake.rows('Критерии').length === 3);
    await waitFor('the last of the tabs', () => world!.fake.rows('Сертификаты').length === 1);

    const [header, ...rows] = world.fake.rows('Критерии');
    expect(header).toEqual([
      'ID сессии',
      'Сотрудник',
      'Telegram ID',
      'Дата',
      'Сценарий',
      'Сложность',
      'Критерий',
      'Балл',
      'Вес',
      'Проходной балл',
    ]);
    const passMark = scenarios.get('cold-call').passMark ?? 80;
    expect(rows.map((row) => [row[0], row[1], row[2], row[4], row[5], row[6], row[7], row[8], row[9]])).toEqual([
      [session, 'Вера Критерьева', 8_500, 'Холодный звонок', 'Средний', 'Контакт', 77, 40, passMark],
      [session, 'Вера Критерьева', 8_500, 'Холодный звонок', 'Средний', 'Выявление потребностей', 67, 60, passMark],
    ]);
    expect(typeof rows[0]![3]).toBe('number'); // a date the sheet can sort and filter by
    expect(world.fake.rows('Пересмотры')).toHaveLength(1); // the header only: nothing reviewed yet
    for (const tab of ['Задания', 'Сертификаты']) expect(world.fake.rows(tab)).toHaveLength(1);

    const boss = await getOrCreateUser(database.db, { telegramId: asTelegramId(8_501), firstName: 'Ольга' });
    expect(await storeDispute(database.db, await traineeOf(8_500), session, 'Цену я назвала')).toBe(true);
    await storeReview(database.db, { sessionId: session, reviewerId: boss.id, score: 85, comment: 'Цена названа, засчитываю' });
    exporter.worker.refreshSummaries();
    await waitFor('the review row', () => world!.fake.rows('Пересмотры').length === 2);
    const review = world.fake.rows('Пересмотры')[1]!;
    expect([review[0], review[1], review[4], review[5], review[6], review[8]]).toEqual([
      session,
      'Вера Критерьева',
      72,
      85,
      'Цена названа, засчитываю',
      'Цену я назвала',
    ]);
  });
});

async function traineeOf(telegramId: number): Promise<UserId> {
  const user = await findUserByTelegramId(database.db, asTelegramId(telegramId));
  return user!.id;
}
