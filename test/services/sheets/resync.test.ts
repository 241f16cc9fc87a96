import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SessionId } from '../../../src/db/ids.js';
import { claimDueExports } from '../../../src/db/queries/sheet-exports.js';
import { sessions, sheetExports } from '../../../src/db/schema.js';
import { resyncSheet } from '../../../src/services/sheets/resync.js';
import { RESULTS_LAYOUT } from '../../../src/services/sheets/sheet-layout.js';
import { createManagersSheet } from '../../../src/services/sheets/sheets-export.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import {
  createSheetsWorld,
  exportRow,
  finishSession,
  RESULTS,
  rowsOf,
  scenarioTitle,
  sheetSessionIds,
  TIME_ZONE,
  TRAINEES,
  outageLines,
  waitFor,
  type SheetsWorld,
} from './sheets-harness.js';

const run = promisify(execFile);

let database: TestDatabase;
let world: SheetsWorld;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});
beforeEach(async () => {
  // Each test starts from an empty queue and history: the sheet mirrors the whole database.
  await database.db.delete(sessions);
});
afterEach(async () => {
  await world.close();
});

function resyncDeps() {
  const sheet = createManagersSheet(
    {
      enabled: true,
      spreadsheetId: world.fake.spreadsheetId,
      serviceAccountFile: world.account.file,
      apiRoot: world.fake.url,
      resultsTab: RESULTS,
      traineesTab: TRAINEES,
    },
    TIME_ZONE,
    scenarioTitle,
    world.logger,
  );
  return { db: database.db, sheet, logger: world.logger };
}

async function exportAll(): Promise<void> {
  const { worker } = world.exporter();
  expect(await worker.flush(10_000)).toBe(true);
  await worker.stop();
}

async function finishedAt(sessionId: SessionId, instant: string): Promise<void> {
  await database.db
    .update(sessions)
    .set({ finishedAt: new Date(instant) })
    .where(eq(sessions.id, sessionId));
}

describe('npm run sheets:resync', () => {
  it('puts back rows deleted by hand and duplicates nothing, however often it runs', async () => {
    world = await createSheetsWorld(database.db);
    const ids: SessionId[] = [];
    for (let i = 0; i < 5; i++) ids.push(await finishSession(database.db, { score: 60 + i }));
    await exportAll();
    expect(sheetSessionIds(world.fake)).toEqual(ids);

    const deleted = [ids[1]!, ids[3]!];
    expect(world.fake.deleteRows(RESULTS, (row) => deleted.includes(row[0] as SessionId))).toBe(2);

    const report = await resyncSheet(resyncDeps());
    expect(report).toEqual({ sessionsInRange: 5, alreadyInSheet: 3, appended: deleted, leftToWorker: [] });
    expect(sorted(sheetSessionIds(world.fake))).toEqual(ids);
    expect(rowsOf(world.fake, ids[1]!)[0]).toEqual(expect.arrayContaining(['Холодный звонок', 61, '@ivan']));

    const again = await resyncSheet(resyncDeps());
    expect(again.appended).toEqual([]);
    expect(sheetSessionIds(world.fake)).toHaveLength(5);
  });

  it('recreates the results tab a manager deleted while the bot runs; resync brings the old rows back', async () => {
    world = await createSheetsWorld(database.db);
    const { worker } = world.exporter();
    worker.start();
    const old = [await finishSession(database.db), await finishSession(database.db)];
    worker.notify();
    await waitFor('the first rows', () => sheetSessionIds(world.fake).length === 2);

    world.fake.removeTab(RESULTS);
    const fresh = await finishSession(database.db);
    worker.notify();
    await waitFor('the recreated tab with the new row', () => rowsOf(world.fake, fresh).length === 1);
    expect(world.fake.rows(RESULTS)[0]).toEqual(RESULTS_LAYOUT.header);
    expect(outageLines(world.lines)).toEqual([]); // healed in the same attempt, not an outage
    await worker.stop();

    const report = await resyncSheet(resyncDeps());
    expect(report.appended).toEqual(old);
    expect(sorted(sheetSessionIds(world.fake))).toEqual([...old, fresh]);
  });

  it('limits itself to the requested days, in the team time zone, both ends included', async () => {
    world = await createSheetsWorld(database.db);
    const early = await finishSession(database.db);
    const lateEvening = await finishSession(database.db);
    const afterMidnight = await finishSession(database.db);
    await finishedAt(early, '2026-11-23T20:59:00Z'); // 23:59 MSK on the 23rd
    await finishedAt(lateEvening, '2026-11-24T20:30:00Z'); // 23:30 MSK on the 24th
    await finishedAt(afterMidnight, '2026-11-24T21:10:00Z'); // 00:10 MSK on the 25th
    await database.db.update(sheetExports).set({ status: 'done' });

    const { startOfDayInZone } = await import('../../../src/services/sheets/sheet-layout.js');
    const report = await resyncSheet(resyncDeps(), {
      from: startOfDayInZone('2026-11-24', TIME_ZONE),
      to: startOfDayInZone('2026-11-25', TIME_ZONE),
    });
    expect(report.appended).toEqual([lateEvening]);
    expect(sheetSessionIds(world.fake)).toEqual([lateEvening]);
  });

  it('sends queued exports nobody holds, leaves to the bot those it is sending, and records what it wrote', async () => {
    world = await createSheetsWorld(database.db);
    const queuedWhileBotDown = await finishSession(database.db);
    const heldByBot = await finishSession(database.db);
    const withoutOutboxRow = await finishSession(database.db);
    await claimDueExports(database.db, { limit: 1, leaseMs: 60_000, onlySessions: [heldByBot] }); // in flight elsewhere
    await database.db.delete(sheetExports).where(eq(sheetExports.sessionId, withoutOutboxRow));

    const report = await resyncSheet(resyncDeps());
    expect(report.appended).toEqual([queuedWhileBotDown, withoutOutboxRow]);
    expect(report.leftToWorker).toEqual([heldByBot]);
    expect(sheetSessionIds(world.fake)).toEqual([queuedWhileBotDown, withoutOutboxRow]);
    expect(await exportRow(database.db, queuedWhileBotDown)).toMatchObject({ status: 'done' });
    expect(await exportRow(database.db, withoutOutboxRow)).toMatchObject({ status: 'done' });
    expect(await exportRow(database.db, heldByBot)).toMatchObject({ status: 'pending' });
    // The trainees tab is rewritten too.
    expect(world.fake.rows(TRAINEES).length).toBeGreaterThan(1);
  });

  it('runs as a command: a Russian summary, exit code 0; a broken configuration exits with 2', async () => {
    world = await createSheetsWorld(database.db);
    const ids = [await finishSession(database.db), await finishSession(database.db)];
    await database.db.update(sheetExports).set({ status: 'done' }).where(inArray(sheetExports.sessionId, ids));
    const cwd = await mkdtemp(path.join(tmpdir(), 'resync-cli-'));
    const tsx = path.resolve('node_modules/.bin/tsx');
    const script = path.resolve('src/cli/sheets-resync.ts');
    const env = {
      PATH: process.env.PATH,
      BOT_TOKEN: '123456789:AAExampleExampleExampleExample',
      OPENAI_API_KEY: 'sk-test',
      DATABASE_URL: database.url,
      GOOGLE_SHEETS_ID: world.fake.spreadsheetId,
      GOOGLE_SERVICE_ACCOUNT_FILE: world.account.file,
      GOOGLE_SHEETS_API_ROOT: world.fake.url,
      SCENARIOS_DIR: path.resolve('scenarios'),
      TEAM_TIME_ZONE: TIME_ZONE,
    };
    try {
      // The period is in the team's time zone: today there, not in UTC (they differ late in the UTC evening).
      const today = new Date().toLocaleDateString('sv-SE', { timeZone: TIME_ZONE });
      const { stdout } = await run(tsx, [script, '--from', '2020-01-01', '--to', today], { cwd, env });
      expect(stdout).toContain('Дописано: 2');
      expect(stdout).toContain('Уже были в таблице: 0');
      expect(sheetSessionIds(world.fake)).toEqual(ids);
      expect(rowsOf(world.fake, ids[0]!)[0]).toContain('Холодный звонок'); // title from scenarios/

      const failed = await run(tsx, [script], { cwd, env: { ...env, BOT_TOKEN: '' } }).catch((error: unknown) => error);
      expect(failed).toMatchObject({ code: 2 });
      expect((failed as { stderr: string }).stderr).toContain('BOT_TOKEN');
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  }, 60_000);
});

function sorted(ids: readonly unknown[]): number[] {
  return ids.map(Number).sort((a, b) => a - b);
}
