import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/database.js';
import { lastTraineeLine, scriptedModel } from '../support/model-script.js';
import type { OpenAiFake } from '../support/openai-fake.js';
import type { FakeUser, TelegramFake } from '../support/telegram-fake.js';
import { startScenario, startWorld, type World } from '../support/world.js';
import { recordCase, recordFigures } from './report.js';

const FLOOD = 650;
const flooderId = 7_401;
const otherId = 7_402;
let world: World;
let telegram: TelegramFake;
let openai: OpenAiFake;
let database: TestDatabase;

beforeAll(async () => {
  world = await startWorld({ trainees: [flooderId, otherId] });
  ({ telegram, openai, database } = world);
});
afterAll(async () => {
  await world?.close();
});

const answerTo = (line: string) => `Клиент отвечает на: ${line}`;
const forwarded = (i: number) => `Пересланное сообщение ${i}`;

/** Send → the client's answer to exactly this line, in ms. */
async function timeTurn(user: FakeUser, line: string, timeoutMs: number): Promise<number> {
  const sent = Date.now();
  user.sendText(line);
  await user.waitForMessage((m) => m.text === answerTo(line), timeoutMs);
  return Date.now() - sent;
}

describe('one trainee forwards 650 texts at once', () => {
  it(
    'another trainee is answered as fast as without them, and every forwarded text is stored and answered in order',
    { timeout: 600_000 },
    async (context) => {
      recordCase(context, {
        area: 'load',
        case: 'one chat floods 650 texts',
        action: 'one trainee forwards 650 texts at once (model 20–50 ms); another trainee sends one text right after',
        traineeSaw: 'the other trainee: an answer as fast as with no flood',
        checked: 'the other trainee’s wait; all 650 stored and answered in order',
      });
      const flooder = telegram.user(flooderId);
      const other = telegram.user(otherId);
      await startScenario(flooder);
      await startScenario(other);
      // A quick model: 20–50 ms an answer.
      openai.respondWith(
        scriptedModel((request) => ({ content: answerTo(lastTraineeLine(request)), delayMs: 20 + Math.random() * 30 })),
      );

      const alone: number[] = [];
      for (let i = 0; i < 3; i++) alone.push(await timeTurn(other, `Без потока ${i}`, 10_000));

      const opened = flooder.messages().length;
      for (let i = 0; i < FLOOD; i++) flooder.sendText(forwarded(i));
      const duringFlood = await timeTurn(other, 'Вопрос во время потока', 120_000);
      console.log(`the other trainee waited ${duringFlood} ms during the flood; ${alone.join(', ')} ms without it`);
      recordFigures(context, { 'other trainee ms (flood)': duringFlood, 'ms without flood': alone.join(' / ') });
      expect(duringFlood).toBeLessThan(2_000);

      const answered = () =>
        flooder
          .messages()
          .slice(opened)
          .filter((m) => m.text.startsWith('Клиент отвечает'));
      const floodStarted = Date.now();
      while (answered().length < FLOOD && Date.now() - floodStarted < 480_000) await sleep(500);
      console.log(`the flood was answered in ${Date.now() - floodStarted} ms`);
      expect(answered().map((m) => m.text)).toEqual(Array.from({ length: FLOOD }, (_, i) => answerTo(forwarded(i))));

      const stored = await database.db.execute<{ content: string }>(
        `select m.content from messages m join sessions s on s.id = m.session_id join users u on u.id = s.user_id
       where u.telegram_id = ${flooderId} and m.role = 'user' order by m.id`,
      );
      expect(stored.map((row) => row.content)).toEqual(Array.from({ length: FLOOD }, (_, i) => forwarded(i)));
    },
  );
});
