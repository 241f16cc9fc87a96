import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sheetExports } from '../../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import {
  createSheetsWorld,
  exportRow,
  finishSession,
  outageLines,
  problems,
  RESULTS,
  rowsOf,
  waitFor,
  type SheetsWorld,
} from './sheets-harness.js';

let database: TestDatabase;
let world: SheetsWorld;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});
afterEach(async () => {
  await world.close();
  await database.db.update(sheetExports).set({ status: 'done' }).where(eq(sheetExports.status, 'pending'));
});

describe('a Google Sheets outage that needs a person', () => {
  it('revoked credentials: nothing lost, one log line and one alert, then one line when exports resume', async () => {
    world = await createSheetsWorld(database.db);
    const { worker } = world.exporter();
    worker.start();
    const before = await finishSession(database.db);
    worker.notify();
    await waitFor('a first export while the key works', () => rowsOf(world.fake, before).length === 1);

    world.fake.revokeKey();
    const ids = [await finishSession(database.db), await finishSession(database.db)];
    worker.notify();
    await waitFor('several refused retries', () => world.fake.authFailures >= 5);

    for (const id of ids) expect((await exportRow(database.db, id)).status).toBe('pending');
    const lines = outageLines(world.lines);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, kind: 'credentials', status: 401, serviceAccount: world.account.clientEmail });
    expect(lines[0]!.msg).toContain(world.account.file);
    expect(problems(world.lines)).toHaveLength(1);
    expect(world.failures.filter((kind) => kind === 'credentials').length).toBeGreaterThanOrEqual(5); // counted per attempt
    expect(world.alerts).toHaveLength(1);
    expect(world.alerts[0]).toContain('Google не принимает ключ');
    expect(world.alerts[0]).toContain('Результаты не потеряны');
    expect(JSON.stringify(world.lines)).not.toMatch(/eyJ[\w-]+\.[\w-]+\./); // no JWT in the log

    world.fake.restoreKey();
    await waitFor('the queued rows after the key works again', () => ids.every((id) => rowsOf(world.fake, id).length === 1));
    await waitFor('the resumed line', () => world.lines.some((line) => line.msg === 'Google Sheets export resumed'));
    expect(world.lines.filter((line) => line.msg === 'Google Sheets export resumed')).toHaveLength(1);
    expect(outageLines(world.lines)).toHaveLength(1);
    await worker.stop();
    expect(world.alerts).toHaveLength(2);
    expect(world.alerts[1]).toContain('снова работает');
  });

  it('no write access: the alert names the address to share the spreadsheet with', async () => {
    world = await createSheetsWorld(database.db);
    world.fake.denyAccess();
    const sessionId = await finishSession(database.db);
    const { worker } = world.exporter();
    worker.start();
    await waitFor('several refused retries', () => world.fake.requests.filter((r) => r.status === 403).length >= 4);
    expect(outageLines(world.lines)).toHaveLength(1);
    expect(outageLines(world.lines)[0]).toMatchObject({ kind: 'no-access', status: 403 });
    expect(outageLines(world.lines)[0]!.msg).toContain('share the spreadsheet with it as an Editor');
    await waitFor('the alert', () => world.alerts.length === 1);
    expect(world.alerts[0]).toContain(`добавьте ${world.account.clientEmail} как редактора`);

    world.fake.grantAccess();
    await waitFor('the row once access is granted', () => rowsOf(world.fake, sessionId).length === 1);
  });

  it('a missing spreadsheet: one line and one alert pointing at GOOGLE_SHEETS_ID, the row waits', async () => {
    world = await createSheetsWorld(database.db);
    const sessionId = await finishSession(database.db);
    const { worker } = world.exporter({ spreadsheetId: 'no-such-spreadsheet' });
    worker.start();
    await waitFor('several 404s', () => world.fake.requests.filter((r) => r.status === 404).length >= 4);
    await worker.stop();
    expect(outageLines(world.lines)).toHaveLength(1);
    expect(outageLines(world.lines)[0]).toMatchObject({ kind: 'spreadsheet-missing', status: 404 });
    expect(world.alerts).toHaveLength(1);
    expect(world.alerts[0]).toContain('GOOGLE_SHEETS_ID');
    expect((await exportRow(database.db, sessionId)).status).toBe('pending');
    expect(world.fake.rows(RESULTS)).toEqual([]);
  });

  it('the Sheets API switched off in the Cloud project is named as such', async () => {
    world = await createSheetsWorld(database.db);
    world.fake.disableApi();
    const { worker } = world.exporter();
    worker.start();
    await waitFor('the alert', () => world.alerts.length === 1);
    await worker.stop();
    expect(outageLines(world.lines)[0]).toMatchObject({ kind: 'api-disabled' });
    expect(world.alerts[0]).toContain('Google Sheets API');
  });

  it('a missing key file: a clear line naming the file; the key is picked up once it is in place', async () => {
    world = await createSheetsWorld(database.db);
    const keyFile = path.join(world.dir, 'not-yet-there.json');
    const sessionId = await finishSession(database.db);
    const { worker } = world.exporter({ keyFile });
    worker.start();
    await waitFor('the outage line', () => outageLines(world.lines).length === 1);
    const [line] = outageLines(world.lines);
    expect(line).toMatchObject({ level: 50, kind: 'credentials' });
    expect(line!.msg).toContain(`key file ${keyFile}: the file does not exist`);
    expect(world.alerts[0]).toContain(keyFile);
    expect(world.fake.requests).toHaveLength(0); // nothing was sent without a key

    await copyFile(world.account.file, keyFile);
    await waitFor('the row once the key is in place', () => rowsOf(world.fake, sessionId).length === 1);
    expect(outageLines(world.lines)).toHaveLength(1);
  });
});
