import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asTelegramId, type TelegramId, type UserId } from '../../src/db/ids.js';
import { getEvaluation, SessionNotActiveError, storeEvaluationAndFinish } from '../../src/db/queries/evaluations.js';
import { appendMessage, lastMessages, sessionMessages } from '../../src/db/queries/messages.js';
import {
  abandonSession,
  ActiveSessionExistsError,
  getActiveSession,
  getUserSession,
  listUserSessions,
  startSession,
} from '../../src/db/queries/sessions.js';
import { userScoreStats, userScoreStatsByDifficulty } from '../../src/db/queries/stats.js';
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

  it('stores why each criterion got its score, the wrong figures and the versions it was scored with', async () => {
    const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(1009) });
    const session = await startSession(database.db, user.id, 'cold-call', 'medium');
    const reasoned = {
      ...evaluation,
      criteria: [
        {
          key: 'contact',
          title: 'Контакт',
          weight: 50,
          score: 80,
          evidence: '«Добрый день»',
          comment: 'Представился',
          quoteDropped: false,
        },
        { key: 'needs', title: 'Потребности', weight: 50, score: 40, evidence: '', comment: 'Один вопрос', quoteDropped: true },
      ],
      facts: [
        {
          claim: '«900 ₽ за пользователя»',
          correct: '1 200 ₽ при оплате за год',
          source: 'catalog.md › Тарифы › Тариф «Бизнес»',
        },
      ],
      rubricVersion: '0123456789ab',
      promptVersion: 'judge-2026-12-a+ba9876543210',
      judgeTemperature: 0.2,
    };
    const stored = await storeEvaluationAndFinish(database.db, session.id, reasoned);
    expect(stored.criteria).toEqual(reasoned.criteria);
    expect(stored.facts).toEqual(reasoned.facts);
    expect(stored).toMatchObject({ rubricVersion: '0123456789ab', promptVersion: 'judge-2026-12-a+ba9876543210' });
    expect(stored.judgeTemperature).toBeCloseTo(0.2);
  });

  it('an evaluation without them (as before the judge gave reasons) has no facts and no versions', async () => {
    const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(1010) });
    const session = await startSession(database.db, user.id, 'cold-call', 'easy');
    const stored = await storeEvaluationAndFinish(database.db, session.id, evaluation);
    expect(stored).toMatchObject({ facts: [], rubricVersion: null, promptVersion: null, judgeTemperature: null });
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

describe('stats', () => {
  /** One training of the user from start to end: scored, or abandoned (score null). */
  async function trained(userId: UserId, scenarioKey: string, difficulty: string, score: number | null) {
    const session = await startSession(database.db, userId, scenarioKey, difficulty);
    await appendMessage(database.db, session.id, 'user', 'Добрый день', { telegramMessageId: session.id });
    if (score === null) await abandonSession(database.db, session.id, userId);
    else await storeEvaluationAndFinish(database.db, session.id, { ...evaluation, totalScore: score });
    return session;
  }

  it('separates difficulties per scenario, easy to hard, and counts only scored sessions', async () => {
    const anna = await getOrCreateUser(database.db, { telegramId: asTelegramId(1101) });
    const boris = await getOrCreateUser(database.db, { telegramId: asTelegramId(1102) });
    await trained(anna.id, 'cold-call', 'hard', 60);
    await trained(anna.id, 'cold-call', 'easy', 80);
    await trained(anna.id, 'upsell', 'medium', 70);
    await trained(anna.id, 'cold-call', 'medium', 50);
    await trained(anna.id, 'cold-call', 'easy', 91);
    const abandoned = await trained(anna.id, 'cold-call', 'hard', null);
    await trained(boris.id, 'cold-call', 'hard', 100);
    await startSession(database.db, anna.id, 'cold-call', 'hard');

    expect(await userScoreStatsByDifficulty(database.db, anna.id)).toEqual([
      { scenarioKey: 'cold-call', difficulty: 'easy', count: 2, average: 86, best: 91, last: 91 },
      { scenarioKey: 'cold-call', difficulty: 'medium', count: 1, average: 50, best: 50, last: 50 },
      { scenarioKey: 'cold-call', difficulty: 'hard', count: 1, average: 60, best: 60, last: 60 },
      { scenarioKey: 'upsell', difficulty: 'medium', count: 1, average: 70, best: 70, last: 70 },
    ]);
    // The overall summary stays: every scored session of hers, whatever its level.
    expect(await userScoreStats(database.db, anna.id)).toEqual({ count: 5, average: 70, best: 91, last: 91 });
    // An abandoned training is never scored, so it never reaches the managers' sheet either.
    const exported = await database.db.select().from(sheetExports);
    expect(exported.map((e) => e.sessionId)).not.toContain(abandoned.id);
  });

  it('is empty for a trainee with no scored session', async () => {
    const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(1103) });
    await trained(user.id, 'cold-call', 'easy', null);

    expect(await userScoreStatsByDifficulty(database.db, user.id)).toEqual([]);
    expect(await userScoreStats(database.db, user.id)).toEqual({ count: 0, average: 0, best: 0, last: 0 });
  });

  it("finds a session by id only for its own user (a forged id of another's finds nothing)", async () => {
    const owner = await getOrCreateUser(database.db, { telegramId: asTelegramId(1104) });
    const other = await getOrCreateUser(database.db, { telegramId: asTelegramId(1105) });
    const session = await trained(owner.id, 'cold-call', 'easy', 75);

    expect((await getUserSession(database.db, owner.id, session.id))?.status).toBe('finished');
    expect(await getUserSession(database.db, other.id, session.id)).toBeUndefined();
  });
});
