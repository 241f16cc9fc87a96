import { and, eq, isNotNull } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimDueExports, exportQueueState } from '../../../src/db/queries/sheet-exports.js';
import { insertModelUsage } from '../../../src/db/queries/usage.js';
import { getSession } from '../../../src/db/queries/sessions.js';
import { sheetExports } from '../../../src/db/schema.js';
import { backoffDelay, ExportWorker } from '../../../src/services/sheets/export-worker.js';
import { ManagersSheet } from '../../../src/services/sheets/managers-sheet.js';
import { RESULTS_LAYOUT, TRAINEES_LAYOUT, toSheetsDateTime } from '../../../src/services/sheets/sheet-layout.js';
import { SPREADSHEETS_SCOPE } from '../../support/sheets-fake.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import {
  appendsTo,
  createSheetsWorld,
  exportRow,
  fastTiming,
  finishSession,
  outageLines,
  problems,
  RESULTS,
  rowsOf,
  scenarioTitle,
  sheetSessionIds,
  TIME_ZONE,
  TRAINEES,
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
  // Each test owns its exports: whatever it left queued is not the next test's business.
  await database.db.update(sheetExports).set({ status: 'done' }).where(eq(sheetExports.status, 'pending'));
});

describe('the export worker', () => {
  it('creates the results tab with its header on the first export and writes the row, numbers as numbers', async () => {
    world = await createSheetsWorld(database.db);
    const sessionId = await finishSession(database.db, { username: 'ivan', firstName: 'Иван', lastName: 'Петров', score: 72 });
    await insertModelUsage(database.db, [
      { sessionId, purpose: 'client', model: 'gpt-4o-mini', promptTokens: 1_000, completionTokens: 200, costUsd: 0.00027 },
      { sessionId, purpose: 'judge', model: 'gpt-4o-mini', promptTokens: 3_000, completionTokens: 500, costUsd: 0.00075 },
    ]);
    const { worker } = world.exporter();
    worker.start();
    await waitFor('the row in the sheet', () => rowsOf(world.fake, sessionId).length === 1);
    await waitFor('the trainees tab', () => world.fake.rows(TRAINEES).length === 2);

    expect(world.fake.tabs()).toEqual(expect.arrayContaining([RESULTS, TRAINEES]));
    const [header] = world.fake.rows(RESULTS);
    expect(header).toEqual(RESULTS_LAYOUT.header);
    const outbox = await exportRow(database.db, sessionId);
    expect(outbox).toMatchObject({ status: 'done', attempts: 1, lastError: null });
    const [row] = rowsOf(world.fake, sessionId);
    const { finishedAt } = (await getSession(database.db, sessionId))!;
    expect(row).toEqual([
      sessionId,
      '@ivan',
      toSheetsDateTime(finishedAt!, TIME_ZONE),
      'Холодный звонок',
      0,
      5,
      72,
      '• Вежливо поздоровался\n• Назвал компанию',
      '• =ДОРОГО() — формула? нет, просто текст',
      '• Назовите цену тарифа',
      'Иван Петров',
      expect.any(Number),
      'Средний',
      'Контакт: 77\nВыявление потребностей: 67',
      4_700,
      0.001,
    ]);
    // The date column reads as a date, ids in full, the header stays in view.
    const formats = JSON.stringify(world.fake.formatting(RESULTS));
    expect(formats).toContain('"pattern":"dd.mm.yyyy hh:mm"');
    expect(formats).toContain('"frozenRowCount":1');
    expect(world.fake.rows(TRAINEES)[0]).toEqual(TRAINEES_LAYOUT.header);

    // Self-signed JWT with the spreadsheets scope; no token exchange ever happened.
    expect(world.fake.lastClaims).toMatchObject({
      iss: world.account.clientEmail,
      sub: world.account.clientEmail,
      scope: SPREADSHEETS_SCOPE,
    });
    expect(world.fake.lastClaims).not.toHaveProperty('aud');
    expect(world.fake.attempts('token')).toBe(0);
    expect(world.fake.authFailures).toBe(0);
    expect(problems(world.lines)).toEqual([]);
  });

  it('appends «Токены» and «Стоимость, $» to a results header written before them; rows already there keep their cells', async () => {
    world = await createSheetsWorld(database.db);
    const oldHeader = RESULTS_LAYOUT.header.slice(0, 14);
    const oldRow = [7, '@old', 46_000, 'Холодный звонок', 3, 6, 55, '', '', '', 'Старый Ряд', 1, 'Средний', 'Контакт: 50'];
    world.fake.addTab(RESULTS, [[...oldHeader], oldRow]);
    const sessionId = await finishSession(database.db, { score: 64 });
    await insertModelUsage(database.db, [
      { sessionId, purpose: 'client', model: 'gpt-4o-mini', promptTokens: 500, completionTokens: 100, costUsd: 0.0125 },
    ]);
    const { worker } = world.exporter();
    worker.start();
    await waitFor('the row in the sheet', () => rowsOf(world.fake, sessionId).length === 1);

    const [header, first] = world.fake.rows(RESULTS);
    expect(header).toEqual(RESULTS_LAYOUT.header);
    expect(header!.slice(14)).toEqual(['Токены', 'Стоимость, $']);
    expect(first).toEqual(oldRow);
    expect(rowsOf(world.fake, sessionId)[0]!.slice(14)).toEqual([600, 0.0125]);
    expect(problems(world.lines)).toEqual([]);
  });

  it('exports a fresh evaluation at once when notified, not at the next poll', async () => {
    world = await createSheetsWorld(database.db);
    const { worker } = world.exporter({ timing: { pollIntervalMs: 60_000 } });
    worker.start();
    await waitFor('the first, empty pass', () => world.fake.rows(TRAINEES).length > 0);
    const sessionId = await finishSession(database.db);
    const before = Date.now();
    worker.notify();
    await waitFor('the notified export', () => rowsOf(world.fake, sessionId).length === 1, 5_000);
    expect(Date.now() - before).toBeLessThan(5_000);
  });

  it('keeps results while Google is down and delivers each exactly once after it recovers', async () => {
    world = await createSheetsWorld(database.db);
    world.fake.down(503);
    const ids = [await finishSession(database.db), await finishSession(database.db), await finishSession(database.db)];
    const { worker } = world.exporter();
    worker.start();
    await waitFor('several failed attempts', () => world.fake.requests.filter((r) => r.status === 503).length >= 4);
    for (const id of ids) {
      // Between attempts a row says why it waits (while in flight, last_error is cleared).
      await waitFor(
        `session ${id} waiting with the reason`,
        async () => (await exportRow(database.db, id)).lastError?.includes('503') ?? false,
      );
      expect((await exportRow(database.db, id)).status).toBe('pending');
    }
    expect(world.fake.rows(RESULTS)).toEqual([]);

    world.fake.up();
    await waitFor('every row after recovery', () => ids.every((id) => rowsOf(world.fake, id).length === 1));
    await waitFor('trainees tab', () => world.fake.rows(TRAINEES).length > 1);
    expect(sorted(sheetSessionIds(world.fake))).toEqual(ids); // retries are jittered: any order, each once
    for (const id of ids) expect((await exportRow(database.db, id)).status).toBe('done');
    expect(outageLines(world.lines)).toHaveLength(1);
    expect(outageLines(world.lines)[0]).toMatchObject({ kind: 'unavailable', status: 503 });
    expect(world.lines.filter((line) => line.msg === 'Google Sheets export resumed')).toHaveLength(1);
    expect(world.alerts).toEqual([]); // Google's own outage passes by itself; admins are not paged
  });

  it('sends what waited out a long backoff as soon as Google works again', async () => {
    world = await createSheetsWorld(database.db);
    world.fake.down(503);
    const waiting = [await finishSession(database.db), await finishSession(database.db)];
    const { worker } = world.exporter();
    worker.start();
    // Both failed and now wait a long backoff (as after many attempts): an hour.
    await waitFor('both waiting an hour', async () => {
      await database.db
        .update(sheetExports)
        .set({ nextAttemptAt: new Date(Date.now() + 3_600_000) })
        .where(and(eq(sheetExports.status, 'pending'), isNotNull(sheetExports.lastError)));
      const rows = await Promise.all(waiting.map((id) => exportRow(database.db, id)));
      return rows.every((row) => row.nextAttemptAt.getTime() > Date.now() + 1_800_000);
    });

    world.fake.up();
    const fresh = await finishSession(database.db);
    worker.notify();
    await waitFor('all three rows', () => [...waiting, fresh].every((id) => rowsOf(world.fake, id).length === 1), 5_000);
    expect(world.lines.some((line) => line.msg === 'queued exports brought forward after the outage')).toBe(true);
  });

  it('does not append twice when Google applied a write whose answer never came (timeout)', async () => {
    world = await createSheetsWorld(database.db);
    const { worker } = world.exporter({ requestTimeoutMs: 800 });
    worker.start();
    expect(await worker.flush(5_000)).toBe(true); // the tabs exist, the queue is empty
    const appendsBefore = appendsTo(world.fake, RESULTS);

    world.fake.timeoutAfterApplyingNext(RESULTS);
    const sessionId = await finishSession(database.db);
    worker.notify();
    await waitFor('the export marked done', async () => (await exportRow(database.db, sessionId)).status === 'done');

    expect(rowsOf(world.fake, sessionId)).toHaveLength(1);
    expect(appendsTo(world.fake, RESULTS) - appendsBefore).toBe(1); // the retry read the column instead
    expect((await exportRow(database.db, sessionId)).attempts).toBeGreaterThanOrEqual(2);
    expect(world.lines.some((line) => line.msg.startsWith('results already in the sheet'))).toBe(true);
    expect(outageLines(world.lines)[0]?.msg).toContain('no answer within 800 ms');
  });

  it('exports what was queued before a restart with a new worker instance', async () => {
    world = await createSheetsWorld(database.db);
    world.fake.down(503);
    const first = world.exporter();
    const ids = [await finishSession(database.db), await finishSession(database.db)];
    first.worker.start();
    await waitFor('a failed attempt', async () => (await exportRow(database.db, ids[0]!)).attempts >= 1);
    await first.worker.stop(); // the bot stops with the exports still queued
    const queued = await first.worker.queueState();
    expect(queued.pending).toBe(2);

    world.fake.up();
    const second = world.exporter();
    second.worker.start();
    await waitFor('rows exported by the new instance', () => ids.every((id) => rowsOf(world.fake, id).length === 1));
    expect(sorted(sheetSessionIds(world.fake))).toEqual(ids);
  });

  it('stops at once while Google sits on an append, and the next instance does not write it twice', async () => {
    world = await createSheetsWorld(database.db);
    const first = world.exporter({ requestTimeoutMs: 30_000 });
    first.worker.start();
    expect(await first.worker.flush(5_000)).toBe(true);
    world.fake.timeoutAfterApplyingNext(RESULTS);
    const sessionId = await finishSession(database.db);
    first.worker.notify();
    await waitFor('the append reached Google', () => appendsTo(world.fake, RESULTS) === 1);

    const stopping = Date.now();
    await first.worker.stop();
    expect(Date.now() - stopping).toBeLessThan(2_000);
    expect(await exportRow(database.db, sessionId)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(outageLines(world.lines)).toEqual([]); // a shutdown is not an outage

    await database.db.update(sheetExports).set({ nextAttemptAt: new Date() }).where(eq(sheetExports.sessionId, sessionId));
    const second = world.exporter();
    expect(await second.worker.flush(5_000)).toBe(true);
    expect(rowsOf(world.fake, sessionId)).toHaveLength(1);
    expect(appendsTo(world.fake, RESULTS)).toBe(1);
    expect(await exportRow(database.db, sessionId)).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('does not repeat a write of an instance that died after Google applied it', async () => {
    world = await createSheetsWorld(database.db);
    const { worker: setup } = world.exporter();
    expect(await setup.flush(5_000)).toBe(true); // creates the tabs
    expect(world.fake.rows(RESULTS)).toEqual([RESULTS_LAYOUT.header]);
    await setup.stop();
    const sessionId = await finishSession(database.db);
    // The dead instance claimed the export and its append reached Google; then the process died.
    const [claim] = await claimDueExports(database.db, { limit: 10, leaseMs: 60_000 });
    expect(claim).toEqual({ sessionId, attempts: 1 });
    world.fake.seedRows(RESULTS, [[sessionId, '@ivan']]);
    // Its lease runs out.
    await database.db
      .update(sheetExports)
      .set({ nextAttemptAt: new Date(Date.now() - 1_000) })
      .where(eq(sheetExports.sessionId, sessionId));
    const appendsBefore = appendsTo(world.fake, RESULTS);

    const { worker } = world.exporter();
    expect(await worker.flush(5_000)).toBe(true);
    expect(rowsOf(world.fake, sessionId)).toHaveLength(1);
    expect(appendsTo(world.fake, RESULTS)).toBe(appendsBefore);
    expect(await exportRow(database.db, sessionId)).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('lets two bot instances share the queue without sending any row twice', async () => {
    world = await createSheetsWorld(database.db);
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push(await finishSession(database.db, { score: 50 + i }));
    const a = world.exporter({ timing: { batchSize: 3 } });
    const b = world.exporter({ timing: { batchSize: 3 } });
    a.worker.start();
    b.worker.start();
    await waitFor('all rows', () => sheetSessionIds(world.fake).length === ids.length);
    await a.worker.flush(5_000);
    await b.worker.flush(5_000);
    expect(sorted(sheetSessionIds(world.fake))).toEqual(ids);
    for (const id of ids) expect(await exportRow(database.db, id)).toMatchObject({ status: 'done', attempts: 1 }); // claimed once each
    expect(outageLines(world.lines)).toEqual([]);
  });

  it('an idle worker looks at the queue once per poll, not in a loop', async () => {
    world = await createSheetsWorld(database.db);
    expect((await exportQueueState(database.db)).nextDueInMs).toBeUndefined();
    let claims = 0;
    const counting = new Proxy(database.db, {
      get(target, property, receiver) {
        if (property === 'update') claims += 1;
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const sheet = new ManagersSheet(
      {
        spreadsheetId: world.fake.spreadsheetId,
        serviceAccountFile: world.account.file,
        apiRoot: world.fake.url,
        resultsTab: RESULTS,
        traineesTab: TRAINEES,
        timeZone: TIME_ZONE,
        scenarioTitle,
      },
      world.logger,
    );
    const worker = new ExportWorker({
      db: counting,
      sheet,
      logger: world.logger,
      timing: { ...fastTiming, pollIntervalMs: 60_000 },
    });
    worker.start();
    await new Promise((resolve) => setTimeout(resolve, 700));
    await worker.stop();
    expect(claims).toBeLessThanOrEqual(2); // the claim, and bringing waiting exports forward after the first success
  });

  it('draws retry delays with full jitter under an exponential ceiling', () => {
    const timing = { backoffBaseMs: 1_000, backoffCapMs: 600_000 };
    expect(backoffDelay(1, timing, () => 0.999)).toBe(999);
    expect(backoffDelay(4, timing, () => 0.5)).toBe(4_000);
    expect(backoffDelay(40, timing, () => 0.5)).toBe(300_000);
    expect(backoffDelay(3, timing, () => 0)).toBe(0);
  });
});

function sorted(ids: readonly unknown[]): number[] {
  return ids.map(Number).sort((a, b) => a - b);
}
