import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/database.js';
import { lastTraineeLine, scriptedModel } from '../support/model-script.js';
import type { OpenAiFake } from '../support/openai-fake.js';
import type { TelegramFake } from '../support/telegram-fake.js';
import { startScenario, startWorld, type World } from '../support/world.js';
import { recordCase, recordFigures } from './report.js';

const TRAINEES = 50;
const MODEL_MS = 500;
const trainees = Array.from({ length: TRAINEES }, (_, i) => 7_301 + i);
let world: World;
let telegram: TelegramFake;
let openai: OpenAiFake;
let database: TestDatabase;

beforeAll(async () => {
  // The turns wait on a hung model until the kill: no timeout may answer them first.
  world = await startWorld({ trainees, env: { LLM_TIMEOUT_MS: '60000' } });
  ({ telegram, openai, database } = world);
});
afterAll(async () => {
  await world?.close();
});

const interrupted = (i: number) => `Вопрос ${i} перед сбоем`;
const fresh = (i: number) => `Новый вопрос ${i}`;
const answerTo = (line: string) => `Клиент отвечает на: ${line}`;

/** The `time` of the first log line of a process whose message matches. */
function logTime(output: string, msg: RegExp): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { time: number; msg: string };
    if (msg.test(entry.msg)) return entry.time;
  }
  return undefined;
}

describe('start-up recovery after a crash with 50 interrupted turns', () => {
  it(
    'runs beside polling: polling starts at once, each turn is answered once, and before the chat’s next text',
    { timeout: 180_000 },
    async (context) => {
      recordCase(context, {
        area: 'faults',
        case: 'recovery of 50 interrupted turns',
        action:
          'the bot is killed while 50 trainees wait for the client (model 0.5 s), restarted, and every trainee writes again at once',
        traineeSaw: 'the owed reply first, then the reply to the new text',
        checked: 'polling starts within 2 s; each interrupted turn answered once, before the chat’s next text',
      });
      const users = trainees.map((id) => telegram.user(id));
      await Promise.all(users.map((user) => startScenario(user)));

      const requestsBefore = openai.requests.length;
      openai.respondWith(() => ({ hang: true }));
      users.forEach((user, i) => user.sendText(interrupted(i)));
      await telegram.waitUntil(() => (openai.requests.length >= requestsBefore + TRAINEES ? true : undefined), 30_000);

      openai.respondWith(scriptedModel((request) => ({ content: answerTo(lastTraineeLine(request)), delayMs: MODEL_MS })));
      const bot = await world.restartBot('SIGKILL');

      const output = bot.output();
      const started = logTime(output, /./)!;
      const polling = logTime(output, /^bot is polling for updates$/)!;
      console.log(
        `polling started ${polling - started} ms after the first log line (${TRAINEES} interrupted turns, model ${MODEL_MS} ms)`,
      );
      recordFigures(context, { 'ms to polling': polling - started });
      expect(polling - started).toBeLessThan(2_000);

      // Every trainee writes again at once: each chat's new text waits for the reply it was owed.
      users.forEach((user, i) => user.sendText(fresh(i)));
      await Promise.all(
        users.map(async (user, i) => {
          const first = await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает'), 60_000);
          expect(first.text).toBe(answerTo(interrupted(i)));
          const second = await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает'), 60_000);
          expect(second.text).toBe(answerTo(fresh(i)));
        }),
      );
      await telegram.waitUntil(
        () => (/"msg":"finished work that the last stop interrupted"/.test(bot.output()) ? true : undefined),
        30_000,
      );
      console.log(
        `recovery took ${logTime(bot.output(), /^finished work that the last stop interrupted$/)! - polling} ms after polling started`,
      );

      for (const [i, user] of users.entries()) {
        expect(
          user.messages().filter((m) => m.text === answerTo(interrupted(i))),
          `trainee ${i}`,
        ).toHaveLength(1);
      }
      const stored = await database.db.execute<{ content: string; n: number }>(
        `select content, count(*)::int as n from messages where content like '%перед сбоем' group by content`,
      );
      expect(stored).toHaveLength(2 * TRAINEES);
      expect(stored.every((row) => row.n === 1)).toBe(true);
      expect(bot.output()).toMatch(new RegExp(`"turnsAnswered":${TRAINEES}[,}]`));
    },
  );
});
