import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenBucket, TurnLimits } from '../../src/bot/helpers/turn-limits.js';
import { asTelegramId } from '../../src/db/ids.js';
import { startSession } from '../../src/db/queries/sessions.js';
import { getOrCreateUser, type User } from '../../src/db/queries/users.js';
import { modelUsage, users } from '../../src/db/schema.js';
import type { ChatModel } from '../../src/services/llm.js';
import { createMetrics } from '../../src/metrics.js';
import { dayIn, UsageLedger, withUsage, type UsageLimits } from '../../src/services/usage.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/database.js';

describe('the token bucket', () => {
  it('lets a burst through, then one request per refill, and says how long to wait', () => {
    let now = 0;
    const bucket = new TokenBucket<string>(5, 3_000, () => now); // 5 at once, 20 a minute
    for (let i = 0; i < 5; i++) expect(bucket.take('anna').ok).toBe(true);
    expect(bucket.take('anna')).toEqual({ ok: false, retryAfterMs: 3_000 });
    expect(bucket.take('boris').ok).toBe(true); // one person's burst takes nothing from another
    now = 1_000;
    expect(bucket.take('anna')).toEqual({ ok: false, retryAfterMs: 2_000 });
    now = 3_000;
    expect(bucket.take('anna').ok).toBe(true);
    expect(bucket.take('anna').ok).toBe(false);
    now = 60_000; // refilled, but never above the burst
    for (let i = 0; i < 5; i++) expect(bucket.take('anna').ok).toBe(true);
    expect(bucket.take('anna').ok).toBe(false);
  });

  it('tells a flooding person once per streak and counts every refusal', async () => {
    let now = 0;
    const metrics = createMetrics();
    const limits = new TurnLimits(
      { turnsPerMinute: 20, turnBurst: 2, finishesPerHour: 1 },
      { budgetFor: async () => ({ kind: 'ok' }) },
      metrics,
      () => now,
    );
    const anna = 1 as User['id'];
    expect(limits.takeTurn(anna).ok).toBe(true);
    expect(limits.takeTurn(anna).ok).toBe(true);
    expect(limits.takeTurn(anna)).toEqual({ ok: false, retryAfterMs: 3_000 });
    expect(limits.takeTurn(anna)).toEqual({ ok: false, retryAfterMs: 3_000, quiet: true });
    now = 3_000;
    expect(limits.takeTurn(anna).ok).toBe(true);
    expect(limits.takeTurn(anna)).toEqual({ ok: false, retryAfterMs: 3_000 }); // a new streak is told again
    expect(limits.takeFinish(anna).ok).toBe(true);
    expect(limits.takeFinish(anna)).toEqual({ ok: false, retryAfterMs: 3_600_000 });
    const text = await metrics.registry.metrics();
    expect(text).toContain('bot_limited_total{limit="turn-rate"} 3');
    expect(text).toContain('bot_limited_total{limit="finish-rate"} 1');
  });
});

describe('the usage ledger', () => {
  let database: TestDatabase;
  let manager: User;
  let anna: User;
  let boris: User;

  beforeAll(async () => {
    database = await createTestDatabase();
    manager = await getOrCreateUser(database.db, { telegramId: asTelegramId(9001), firstName: 'Мария' }, 'manager');
    anna = await getOrCreateUser(database.db, { telegramId: asTelegramId(9002), firstName: 'Анна' });
    boris = await getOrCreateUser(database.db, { telegramId: asTelegramId(9003), firstName: 'Борис' });
    for (const person of [anna, boris]) {
      await database.db.update(users).set({ managerId: manager.id }).where(eq(users.id, person.id));
    }
    anna = { ...anna, managerId: manager.id };
    boris = { ...boris, managerId: manager.id };
  });
  afterAll(() => database.drop());

  const limits: UsageLimits = { userDailyTokens: 1_000, teamDailyTokens: 1_100, pricePer1kInput: 0.15, pricePer1kOutput: 0.6 };
  const answering = (promptTokens: number, completionTokens: number): ChatModel => ({
    streamChat: async () => ({ text: 'Алло?', promptTokens, completionTokens }),
    completeJson: async () => ({ text: '{}', promptTokens, completionTokens }),
  });

  it('records each call with its person, session, tokens and cost, in batches, and counts them in /metrics', async () => {
    await database.db.delete(modelUsage);
    const metrics = createMetrics();
    const ledger = new UsageLedger({
      db: database.db,
      limits,
      timeZone: 'Europe/Moscow',
      logger: silentLogger,
      metrics,
      flushDelayMs: 50,
    });
    const session = await startSession(database.db, anna.id, 'cold-call', 'medium');
    const model = ledger.recording(answering(400, 100));
    const usage = { purpose: 'client', userId: anna.id, sessionId: session.id } as const;
    await model.streamChat({ model: 'gpt-4o-mini', messages: [], usage });
    await model.streamChat({ model: 'gpt-4o-mini', messages: [], usage });
    // Not written yet: the turn did not wait for its own INSERT.
    expect(await database.db.select().from(modelUsage)).toEqual([]);
    // The judge's tokens are written before its answer returns (the sheet reads them next).
    await withUsage({ purpose: 'judge', userId: anna.id, sessionId: session.id }, () =>
      model.completeJson({ model: 'judge-model', messages: [], format: 'json_object' }),
    );
    const rows = await database.db.select().from(modelUsage).orderBy(modelUsage.id);
    expect(rows.map((r) => [r.purpose, r.model, r.userId, r.sessionId, r.promptTokens, r.completionTokens])).toEqual([
      ['client', 'gpt-4o-mini', anna.id, session.id, 400, 100],
      ['client', 'gpt-4o-mini', anna.id, session.id, 400, 100],
      ['judge', 'judge-model', anna.id, session.id, 400, 100],
    ]);
    expect(rows[0]!.costUsd).toBeCloseTo(0.12, 6); // 0.4 × 0.15 + 0.1 × 0.6
    // A call nobody is billed for (no tag, no scope) is not recorded.
    await model.streamChat({ model: 'gpt-4o-mini', messages: [] });
    await ledger.stop();
    expect(await database.db.select().from(modelUsage)).toHaveLength(3);
    const text = await metrics.registry.metrics();
    expect(text).toContain('bot_model_tokens_total{purpose="client",kind="prompt"} 800');
    expect(text).toContain('bot_model_tokens_total{purpose="judge",kind="completion"} 100');
    expect(text).toMatch(/bot_model_cost_usd_total 0\.36/);
  });

  it("refuses a person whose day is spent, then their team, and renews at midnight in the team's zone", async () => {
    await database.db.delete(modelUsage);
    let now = new Date('2026-12-02T20:00:00Z'); // 23:00 in Moscow
    const ledger = new UsageLedger({ db: database.db, limits, timeZone: 'Europe/Moscow', logger: silentLogger, now: () => now });
    const model = ledger.recording(answering(500, 100));
    const turn = (person: User) =>
      model.streamChat({ model: 'm', messages: [], usage: { purpose: 'client', userId: person.id } });

    expect(await ledger.budgetFor(anna)).toEqual({ kind: 'ok' });
    await turn(anna);
    expect(await ledger.budgetFor(anna)).toEqual({ kind: 'ok' }); // 600 of 1000
    await turn(anna);
    const midnight = new Date('2026-12-02T21:00:00Z');
    expect(await ledger.budgetFor(anna)).toEqual({ kind: 'user-spent', resetsAt: midnight });
    expect(await ledger.budgetFor(boris)).toEqual({ kind: 'team-spent', resetsAt: midnight }); // the team has 1200 of 1100
    await ledger.flush();

    // Another process (or a restart) reads the day from the database.
    const restarted = new UsageLedger({
      db: database.db,
      limits,
      timeZone: 'Europe/Moscow',
      logger: silentLogger,
      now: () => now,
    });
    expect(await restarted.budgetFor(anna)).toMatchObject({ kind: 'user-spent' });
    expect(await restarted.budgetFor(manager)).toMatchObject({ kind: 'team-spent' });

    now = new Date('2026-12-02T21:00:01Z');
    expect(dayIn(now, 'Europe/Moscow')).toBe('2026-12-03');
    expect(await restarted.budgetFor(anna)).toEqual({ kind: 'ok' });
    expect(await restarted.budgetFor(boris)).toEqual({ kind: 'ok' });
  });

  it('records transcriptions and voice answers on the scope they run in, without tokens (billed by seconds and characters)', async () => {
    await database.db.delete(modelUsage);
    const ledger = new UsageLedger({ db: database.db, limits, timeZone: 'Europe/Moscow', logger: silentLogger });
    const stt = ledger.recordingSpeechToText({ transcribe: async () => 'Добрый день' }, 'whisper-1');
    const tts = ledger.recordingTextToSpeech({ synthesize: async () => new Uint8Array([1]) }, 'tts-1');
    const session = await startSession(database.db, boris.id, 'cold-call', 'easy');
    await withUsage({ purpose: 'transcription', userId: boris.id, sessionId: session.id }, async () => {
      expect(await stt.transcribe({ bytes: new Uint8Array(), fileName: 'a.ogg' })).toBe('Добрый день');
    });
    await withUsage({ purpose: 'speech', userId: boris.id }, () => tts.synthesize('Алло?'));
    await tts.synthesize('nobody asked'); // outside any scope: on nobody's bill, not recorded
    await ledger.stop();
    const rows = await database.db.select().from(modelUsage).orderBy(modelUsage.id);
    expect(rows.map((r) => [r.purpose, r.model, r.userId, r.sessionId, r.promptTokens + r.completionTokens])).toEqual([
      ['transcription', 'whisper-1', boris.id, session.id, 0],
      ['speech', 'tts-1', boris.id, null, 0],
    ]);
  });

  it('loses no turn when the usage cannot be written, and writes it once the database is back', async () => {
    await database.db.delete(modelUsage);
    let failing = true;
    const db = new Proxy(database.db, {
      get(target, property, receiver) {
        if (property === 'insert' && failing) return () => ({ values: () => Promise.reject(new Error('connection refused')) });
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const ledger = new UsageLedger({ db, limits, timeZone: 'Europe/Moscow', logger: silentLogger });
    const model = ledger.recording(answering(10, 5));
    const reply = await model.streamChat({ model: 'm', messages: [], usage: { purpose: 'client', userId: anna.id } });
    expect(reply.text).toBe('Алло?');
    await ledger.flush(); // fails, logged, kept
    expect(await database.db.select().from(modelUsage)).toEqual([]);
    failing = false;
    await ledger.flush();
    expect(await database.db.select().from(modelUsage)).toHaveLength(1);
    await ledger.stop();
  });
});
