import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asTelegramFileId, asTelegramId } from '../../src/db/ids.js';
import {
  appendMessage,
  lastMessages,
  markMessageDelivered,
  sessionMessages,
  storeTurnAndReadDialogue,
} from '../../src/db/queries/messages.js';
import { startSession } from '../../src/db/queries/sessions.js';
import { getOrCreateUser } from '../../src/db/queries/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

async function newSession(telegramId: number) {
  const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(telegramId) });
  return startSession(database.db, user.id, 'cold-call', 'easy');
}

describe("a trainee's turn stored and its dialogue read in one statement", () => {
  it('stores the turn and returns the dialogue it ends, oldest first, as the separate read would', async () => {
    const session = await newSession(3_100_001);
    await appendMessage(database.db, session.id, 'assistant', 'Алло?');
    await appendMessage(database.db, session.id, 'user', 'Добрый день', { telegramMessageId: 1 });
    await appendMessage(database.db, session.id, 'assistant', 'Слушаю.');

    const turn = await storeTurnAndReadDialogue(database.db, session.id, 'Сколько стоит «Бизнес»?', 2, 200);

    const stored = await sessionMessages(database.db, session.id);
    expect(stored.at(-1)).toMatchObject({
      id: turn!.messageId,
      role: 'user',
      content: 'Сколько стоит «Бизнес»?',
      telegramMessageId: 2,
    });
    expect(turn!.dialogue).toEqual(await lastMessages(database.db, session.id, 200));
    expect(turn!.dialogue).toEqual([
      { role: 'assistant', content: 'Алло?' },
      { role: 'user', content: 'Добрый день' },
      { role: 'assistant', content: 'Слушаю.' },
      { role: 'user', content: 'Сколько стоит «Бизнес»?' },
    ]);
  });

  it('keeps to the limit, the new turn included, and leaves out spoken turns without words', async () => {
    const session = await newSession(3_100_002);
    for (let i = 1; i <= 4; i++) await appendMessage(database.db, session.id, 'user', `реплика ${i}`, { telegramMessageId: i });
    await appendMessage(database.db, session.id, 'user', '', {
      telegramMessageId: 5,
      spoken: { kind: 'voice', seconds: 3, telegramFileId: asTelegramFileId('voice-file-5') },
    });

    const turn = await storeTurnAndReadDialogue(database.db, session.id, 'реплика 6', 6, 3);

    expect(turn!.dialogue).toEqual([
      { role: 'user', content: 'реплика 3' },
      { role: 'user', content: 'реплика 4' },
      { role: 'user', content: 'реплика 6' },
    ]);
  });

  it('writes nothing for a redelivered Telegram message and says so', async () => {
    const session = await newSession(3_100_003);
    const first = await storeTurnAndReadDialogue(database.db, session.id, 'Здравствуйте', 77, 200);
    const again = await storeTurnAndReadDialogue(database.db, session.id, 'Здравствуйте', 77, 200);

    expect(first).toBeDefined();
    expect(again).toBeUndefined();
    const stored = await sessionMessages(database.db, session.id);
    expect(stored.map((m) => m.id)).toEqual([first!.messageId]);
    // The duplicate's path finds the row the first delivery stored.
    const duplicate = await appendMessage(database.db, session.id, 'user', 'Здравствуйте', { telegramMessageId: 77 });
    expect(duplicate).toMatchObject({ duplicate: true, message: { id: first!.messageId } });
  });

  it("keeps each session's turns apart when many are stored at once", async () => {
    const sessions = await Promise.all(Array.from({ length: 8 }, (_, i) => newSession(3_100_100 + i)));
    const turns = await Promise.all(
      sessions.map((session, i) => storeTurnAndReadDialogue(database.db, session.id, `реплика сессии ${i}`, 1, 200)),
    );
    turns.forEach((turn, i) => expect(turn!.dialogue).toEqual([{ role: 'user', content: `реплика сессии ${i}` }]));
  });
});

describe('the statements prepared once per database', () => {
  it("marks a reply delivered and stores the client's reply with its tokens", async () => {
    const session = await newSession(3_100_004);
    const reply = await appendMessage(database.db, session.id, 'assistant', 'Дорого.', {
      promptTokens: 120,
      completionTokens: 8,
    });
    expect(reply.message).toMatchObject({ role: 'assistant', promptTokens: 120, completionTokens: 8, deliveredAt: null });

    await markMessageDelivered(database.db, reply.message.id);
    await markMessageDelivered(database.db, reply.message.id);

    const [stored] = await sessionMessages(database.db, session.id);
    expect(stored!.deliveredAt).toBeInstanceOf(Date);
    expect(Math.abs(stored!.deliveredAt!.getTime() - Date.now())).toBeLessThan(60_000);
  });
});
