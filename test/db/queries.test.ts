import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asTelegramId, type TelegramId, type UserId } from '../../src/db/ids.js';
import { getEvaluation, SessionNotActiveError, storeEvaluationAndFinish } from '../../src/db/queries/evaluations.js';
import { appendMessage, lastMessages, sessionMessages } from '../../src/db/queries/messages.js';
import {
  abandonSession,
  ActiveSessionExistsError,
  getActiveSession,
  listUserSessions,
  startSession,
} from '../../src/db/queries/sessions.js';
import { getOrCreateUser } from '../../src/db/queries/users.js';
import { sheetExports } from '../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

const evaluation = {
  totalScore: 72,
  criteria: [{ key: 'contact', title: 'Контакт', weight: 100, score: 72, evidence: '«Добрый день»', comment: '' }],
  strengths: ['Вежливо поздоровался'],
  mistakes: ['«Это дорого не будет» — обещание без цифр'],
  recommendations: ['Назовите цену тарифа'],
  summary: 'Неплохо',
  model: 'judge-model',
};

describe('users', () => {
  it('creates a user once per Telegram id and keeps the profile current', async () => {
    const telegramId = asTelegramId(5_000_000_001);
    const first = await getOrCreateUser(database.db, { telegramId, username: 'ivan', firstName: 'Иван' });
    const again = await getOrCreateUser(database.db, { telegramId, username: 'ivan_new', firstName: 'Иван' });
    expect(again.id).toBe(first.id);
    expect(again.username).toBe('ivan_new');
    expect(first.telegramId).toBe(telegramId);
    expect(first.id).not.toBe(telegramId);
    expect(first.role).toBe('trainee');
  });
});

describe('sessions', () => {
  it('starts one active session per user and refuses a second', async () => {
    const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(1001) });
    const session = await startSession(database.db, user.id, 'cold-call', 'medium');
    expect(session.status).toBe('active');
    expect(session.userId).toBe(user.id);
    await expect(startSession(database.db, user.id, 'upsell', 'easy')).rejects.toBeInstanceOf(ActiveSessionExistsError);
    expect((await getActiveSession(database.db, user.id))?.id).toBe(session.id);

    expect(await abandonSession(database.db, session.id, user.id)).toBe(true);
    expect(await abandonSession(database.db, session.id, user.id)).toBe(false);
    const next = await startSession(database.db, user.id, 'upsell', 'easy');
    expect(next.id).not.toBe(session.id);
  });

  it('refuses a second active session even when two starts race', async () => {
    const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(1002) });
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => startSession(database.db, user.id, 'cold-call', 'easy')),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(4);
  });

  it('makes passing a Telegram id where a user id belongs a compile error', () => {
    const telegramId: TelegramId = asTelegramId(42);
    const call = () =>
      // @ts-expect-error a TelegramId is not a UserId
      startSession(database.db, telegramId, 'cold-call', 'easy');
    const plainNumber = () =>
      // @ts-expect-error a plain number is not a UserId either
      startSession(database.db, 42, 'cold-call', 'easy');
    expect(typeof call).toBe('function');
    expect(typeof plainNumber).toBe('function');
    const ok: UserId | undefined = undefined;
    expect(ok).toBeUndefined();
  });
});

describe('messages', () => {
  it('appends messages and returns the last N in the model shape, oldest first', async () => {
    const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(1003) });
    const session = await startSession(database.db, user.id, 'cold-call', 'easy');
    await appendMessage(database.db, session.id, 'assistant', 'Алло?');
    for (let i = 1; i <= 5; i++) {
      await appendMessage(database.db, session.id, 'user', `реплика ${i}`, { telegramMessageId: i });
    }
    expect(await lastMessages(database.db, session.id, 3)).toEqual([
      { role: 'user', content: 'реплика 3' },
      { role: 'user', content: 'реплика 4' },
      { role: 'user', content: 'реплика 5' },
    ]);
    expect(await lastMessages(database.db, session.id, 100)).toHaveLength(6);
  });

  it('stores a redelivered Telegram message once', async () => {
    const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(1004) });
    const session = await startSession(database.db, user.id, 'cold-call', 'easy');
    const first = await appendMessage(database.db, session.id, 'user', 'Здравствуйте', { telegramMessageId: 77 });
    const again = await appendMessage(database.db, session.id, 'user', 'Здравствуйте', { telegramMessageId: 77 });
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.message.id).toBe(first.message.id);
    expect(await sessionMessages(database.db, session.id)).toHaveLength(1);
  });
});

describe('evaluations', () => {
  it('stores the evaluation, finishes the session and enqueues the export in one statement', async () => {
    const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(1005) });
    const session = await startSession(database.db, user.id, 'cold-call', 'hard');
    await appendMessage(database.db, session.id, 'user', 'Добрый день', { telegramMessageId: 1 });
    const stored = await storeEvaluationAndFinish(database.db, session.id, evaluation);
    expect(stored.totalScore).toBe(72);
    expect(await getActiveSession(database.db, user.id)).toBeUndefined();
    const exports = await database.db.select().from(sheetExports);
    expect(exports.map((e) => e.sessionId)).toContain(session.id);

    expect(stored.criteria).toEqual(evaluation.criteria);
    expect(stored.strengths).toEqual(evaluation.strengths);

    // Run again (the reply to the first run was lost): the stored evaluation, not a second one.
    const again = await storeEvaluationAndFinish(database.db, session.id, { ...evaluation, totalScore: 10 });
    expect(again).toEqual(stored);
    expect(await database.db.select().from(sheetExports)).toHaveLength(exports.length);
  });

  it('refuses a session that was abandoned', async () => {
    const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(1008) });
    const session = await startSession(database.db, user.id, 'cold-call', 'easy');
    await abandonSession(database.db, session.id, user.id);
    await expect(storeEvaluationAndFinish(database.db, session.id, evaluation)).rejects.toBeInstanceOf(SessionNotActiveError);
    expect(await getEvaluation(database.db, session.id)).toBeUndefined();
  });

  it('leaves the session active when the evaluation cannot be stored', async () => {
    const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(1006) });
    const session = await startSession(database.db, user.id, 'cold-call', 'easy');
    await expect(storeEvaluationAndFinish(database.db, session.id, { ...evaluation, totalScore: 250 })).rejects.toThrow();
    expect((await getActiveSession(database.db, user.id))?.id).toBe(session.id);
    expect(await getEvaluation(database.db, session.id)).toBeUndefined();
  });

  it("lists a user's sessions with their scores, newest first", async () => {
    const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(1007) });
    const scored = await startSession(database.db, user.id, 'cold-call', 'easy');
    await appendMessage(database.db, scored.id, 'user', 'Привет', { telegramMessageId: 1 });
    await storeEvaluationAndFinish(database.db, scored.id, { ...evaluation, totalScore: 55 });
    const open = await startSession(database.db, user.id, 'upsell', 'medium');
    const list = await listUserSessions(database.db, user.id);
    expect(list.map((s) => [s.id, s.totalScore, s.status, s.messageCount])).toEqual([
      [open.id, null, 'active', 0],
      [scored.id, 55, 'finished', 1],
    ]);
  });
});
