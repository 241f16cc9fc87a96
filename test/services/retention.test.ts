import { randomUUID } from 'node:crypto';
import { inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asTelegramId, type SessionId } from '../../src/db/ids.js';
import { takeJobLease } from '../../src/db/queries/job-runs.js';
import { appendMessage } from '../../src/db/queries/messages.js';
import { abandonSession, startSession } from '../../src/db/queries/sessions.js';
import { getOrCreateUser } from '../../src/db/queries/users.js';
import { evaluations, jobRuns, messages, sessions } from '../../src/db/schema.js';
import { retentionJob, RetentionJob, startRetention } from '../../src/services/retention.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/database.js';
import { finishSession, waitFor } from './sheets/sheets-harness.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});
beforeEach(async () => {
  // Each test starts with the job never run, and with no sessions of an earlier test still to expire.
  await database.db.delete(jobRuns);
  await database.db
    .update(sessions)
    .set({ transcriptDeletedAt: sql`now()` })
    .where(sql`${sessions.transcriptDeletedAt} is null`);
});

let nextTelegramId = 9_100_000;

/** A session that ended `daysAgo` days ago, finished with an evaluation or abandoned. */
async function endedSession(kind: 'finished' | 'abandoned', daysAgo: number): Promise<SessionId> {
  let id: SessionId;
  if (kind === 'finished') {
    id = await finishSession(database.db, { telegramId: nextTelegramId++ });
  } else {
    const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(nextTelegramId++) });
    const session = await startSession(database.db, user.id, 'cold-call', 'easy');
    await appendMessage(database.db, session.id, 'assistant', 'Алло?');
    await appendMessage(database.db, session.id, 'user', 'Я передумал', { telegramMessageId: 1 });
    await abandonSession(database.db, session.id, user.id);
    id = session.id;
  }
  await database.db.execute(
    sql`update sessions set finished_at = now() - make_interval(days => ${daysAgo}::int), started_at = now() - make_interval(days => ${daysAgo}::int) where id = ${id}`,
  );
  return id;
}

/** A session still running, started `daysAgo` days ago. */
async function runningSession(daysAgo: number): Promise<SessionId> {
  const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(nextTelegramId++) });
  const session = await startSession(database.db, user.id, 'cold-call', 'easy');
  await appendMessage(database.db, session.id, 'assistant', 'Алло?');
  await database.db.execute(
    sql`update sessions set started_at = now() - make_interval(days => ${daysAgo}::int) where id = ${session.id}`,
  );
  return session.id;
}

async function messageCount(ids: readonly SessionId[]): Promise<number> {
  const rows = await database.db
    .select({ n: sql<number>`count(*)::int` })
    .from(messages)
    .where(inArray(messages.sessionId, [...ids]));
  return rows[0]!.n;
}

async function marked(id: SessionId): Promise<boolean> {
  const [row] = await database.db
    .select({ at: sessions.transcriptDeletedAt })
    .from(sessions)
    .where(sql`${sessions.id} = ${id}`);
  return row?.at instanceof Date;
}

describe('RETENTION_DAYS', () => {
  it('deletes the transcripts of sessions ended longer ago; evaluations, scores and the sessions stay', async () => {
    const oldFinished = await endedSession('finished', 40);
    const oldAbandoned = await endedSession('abandoned', 31);
    const recent = await endedSession('finished', 29);
    const running = await runningSession(60);
    expect(await messageCount([oldFinished, oldAbandoned])).toBe(7);

    const job = new RetentionJob({ db: database.db, retentionDays: 30, logger: silentLogger, timing: { batchSize: 1 } });
    expect(await job.runIfDue()).toEqual({ sessions: 2, messages: 7 });

    expect(await messageCount([oldFinished, oldAbandoned])).toBe(0);
    expect(await marked(oldFinished)).toBe(true);
    expect(await marked(oldAbandoned)).toBe(true);
    const kept = await database.db
      .select()
      .from(evaluations)
      .where(inArray(evaluations.sessionId, [oldFinished]));
    expect(kept).toHaveLength(1);
    expect(kept[0]!.totalScore).toBe(72);
    expect(await messageCount([recent])).toBe(5);
    expect(await marked(recent)).toBe(false);
    // A session never finished is not «finished or abandoned»: its dialogue stays.
    expect(await messageCount([running])).toBe(1);
  });

  it('runs once a day whichever process asks, and again after a run that was cut short', async () => {
    await endedSession('finished', 100);
    const a = new RetentionJob({ db: database.db, retentionDays: 30, logger: silentLogger });
    const b = new RetentionJob({ db: database.db, retentionDays: 30, logger: silentLogger });
    const runs = await Promise.all([a.runIfDue(), b.runIfDue()]);
    expect(runs.filter((run) => run !== undefined)).toEqual([{ sessions: 1, messages: 5 }]);
    // Completed a moment ago: not due for either until tomorrow.
    await endedSession('finished', 100);
    expect(await a.runIfDue()).toBeUndefined();
    expect(await b.runIfDue()).toBeUndefined();

    // A process died holding the job: nobody runs it until its lease ends, then anyone does.
    await database.db.delete(jobRuns);
    expect(await takeJobLease(database.db, retentionJob, randomUUID(), 300)).toBeDefined();
    expect(await a.runIfDue()).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await a.runIfDue()).toEqual({ sessions: 1, messages: 5 });
  });

  it('started, looks at once and then at every check; stops cleanly', async () => {
    const first = await endedSession('finished', 45);
    const job = startRetention({
      db: database.db,
      retentionDays: 30,
      logger: silentLogger,
      timing: { checkIntervalMs: 50, runEveryMs: 100 },
    });
    try {
      await waitFor('the run at start', () => marked(first));
      const later = await endedSession('abandoned', 45);
      await waitFor('a later run', () => marked(later));
    } finally {
      await job.stop();
    }
  });

  it('unset, keeps every transcript', async () => {
    const old = await endedSession('finished', 4000);
    const job = startRetention({
      db: database.db,
      retentionDays: undefined,
      logger: silentLogger,
      timing: { checkIntervalMs: 10 },
    });
    expect(await job.runIfDue()).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await job.stop();
    expect(await messageCount([old])).toBe(5);
    expect(await marked(old)).toBe(false);
  });
});
