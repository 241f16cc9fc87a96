import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isJudgeRequest, lastTraineeLine, scriptedModel } from '../support/model-script.js';
import type { CutMoment } from '../support/postgres-fault-proxy.js';
import type { FakeUser } from '../support/telegram-fake.js';
import { checkInvariants, count, errorApology, startScenario, startWorld, type World } from '../support/world.js';

/**
 * PostgreSQL restarting under the bot: every statement a trainee's update depends on has its
 * connection cut at a moment the proxy chooses (so no case depends on luck) — before the statement
 * reaches the server, or after the server ran it and before the bot heard back. The trainee must
 * get the same answers as without the fault, and nothing may be stored or shown twice.
 */

type Case = readonly [step: string, moment: CutMoment, statement: RegExp];

const menuCases: Case[] = [
  ['registering the user at the access gate', 'before-sent', /^insert into "users"/],
  ['registering the user at the access gate', 'reply-lost', /^insert into "users"/],
  ['reading the conversation state', 'before-sent', /^select "value" from "conversation_states"/],
  ['starting the session', 'before-sent', /^insert into "sessions"/],
  ['starting the session', 'reply-lost', /^insert into "sessions"/],
  ['storing the opening line', 'before-sent', /^insert into "messages"/],
  ['storing the opening line', 'reply-lost', /^insert into "messages"/],
];
const turnCases: Case[] = [
  // One statement stores the turn and reads the dialogue for the model (a data-modifying CTE).
  ['storing the trainee message and reading the dialogue', 'before-sent', /^with inserted as \(\s*insert into messages/],
  ['storing the trainee message and reading the dialogue', 'reply-lost', /^with inserted as \(\s*insert into messages/],
];
const afterModelCases: Case[] = [
  ['storing the client reply', 'before-sent', /^insert into "messages"/],
  ['storing the client reply', 'reply-lost', /^insert into "messages"/],
  ['marking the reply delivered', 'before-sent', /^update "messages" set "delivered_at"/],
  ['marking the reply delivered', 'reply-lost', /^update "messages" set "delivered_at"/],
];
const finishCases: Case[] = [
  ['counting the trainee turns', 'before-sent', /^select count\(\*\) from "messages"/],
  ['marking /finish requested', 'before-sent', /^update "sessions" set "finish_requested_at"/],
  ['marking /finish requested', 'reply-lost', /^update "sessions" set "finish_requested_at"/],
  ['reading the transcript for the judge', 'before-sent', /^select "id", "session_id", "role", "content"/],
  ['storing the evaluation and ending the session', 'before-sent', /^\s*with finished as/],
  ['storing the evaluation and ending the session', 'reply-lost', /^\s*with finished as/],
  ['reading the stored evaluation back', 'before-sent', /^select .* from "evaluations" where "evaluations"."session_id"/],
  ['marking the evaluation delivered', 'before-sent', /^update "evaluations" set "delivered_at"/],
  ['marking the evaluation delivered', 'reply-lost', /^update "evaluations" set "delivered_at"/],
];
const switchCases: Case[] = [
  ['abandoning the running session', 'before-sent', /^update "sessions" set "status"/],
  ['abandoning the running session', 'reply-lost', /^update "sessions" set "status"/],
  ['saving the open question', 'before-sent', /^insert into "conversation_states"/],
  ['saving the open question', 'reply-lost', /^insert into "conversation_states"/],
];
const caseCount = menuCases.length + turnCases.length + afterModelCases.length + finishCases.length + switchCases.length;

/** Each case a trainee of its own: the access gate and the conversation store have not seen them yet. */
const trainees = Array.from({ length: caseCount }, (_, i) => 7400 + i);
let nextTrainee = 0;
let world: World;
const sentTurns: string[] = [];

beforeAll(async () => {
  world = await startWorld({ trainees, databaseFaults: true });
});
afterAll(async () => {
  await world?.close();
});

const answerTo = (text: string) => (m: { text: string }) => m.text === `Клиент отвечает на: ${text}`;
const isScore = (m: { text: string }) => /\d+\/100/.test(m.text);

function newTrainee(): FakeUser {
  return world.telegram.user(trainees[nextTrainee++]!);
}

async function turn(user: FakeUser, text: string): Promise<void> {
  sentTurns.push(text);
  user.sendText(text);
  await user.waitForMessage(answerTo(text), 20_000);
}

/** Replies and evaluations the trainee was shown but the database does not know were delivered. */
async function undeliveredTo(user: FakeUser): Promise<number> {
  const ofTrainee = `s.user_id = (select id from users where telegram_id = ${user.id})`;
  return count(
    world.database,
    `select ((select count(*) from messages m join sessions s on s.id = m.session_id where ${ofTrainee} and m.role = 'assistant' and m.delivered_at is null)
      + (select count(*) from evaluations e join sessions s on s.id = e.session_id where ${ofTrainee} and e.delivered_at is null))::int as n`,
  );
}

/** The client's lines stored for the trainee, in order. */
async function clientLinesOf(user: FakeUser): Promise<string[]> {
  const rows = await world.database.db.execute<{ content: string }>(
    `select m.content from messages m join sessions s on s.id = m.session_id
     where s.user_id = (select id from users where telegram_id = ${user.id}) and m.role = 'assistant' order by m.id`,
  );
  return rows.map((r) => r.content);
}

/**
 * Arms the cut and runs the trainee's action; then proves the cut happened, the trainee never saw
 * an error, and everything shown is recorded as delivered (or a restart would show it again).
 */
async function withCut([, moment, statement]: Case, user: FakeUser, action: () => Promise<unknown>): Promise<void> {
  const cut = world.databaseFaults.cutOnNext(statement, moment);
  try {
    await action();
    expect(await cut).toMatch(statement);
  } finally {
    world.databaseFaults.disarm();
  }
  // Marking a message delivered follows its sending: wait for it rather than for a fixed time.
  const deadline = Date.now() + 5_000;
  while ((await undeliveredTo(user)) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(await undeliveredTo(user)).toBe(0);
  expect(user.messages().filter((m) => errorApology.test(m.text))).toEqual([]);
}

describe('a PostgreSQL connection cut while the bot works', () => {
  it.each(menuCases)('menu, %s (cut %s): one session, its opening line once', async (...testCase) => {
    const user = newTrainee();
    await withCut(testCase, user, () => startScenario(user));
    await turn(user, `Первая реплика после сбоя у ${user.id}`);
    expect(
      await count(
        world.database,
        `select count(*)::int as n from sessions s join users u on u.id = s.user_id where u.telegram_id = ${user.id}`,
      ),
    ).toBe(1);
    expect(await clientLinesOf(user)).toEqual([
      'Да, слушаю. Кто это?',
      `Клиент отвечает на: Первая реплика после сбоя у ${user.id}`,
    ]);
    expect(user.messages().filter((m) => m.text === 'Да, слушаю. Кто это?')).toHaveLength(1);
  });

  it.each(turnCases)('turn, %s (cut %s): answered once, stored once', async (...testCase) => {
    const user = newTrainee();
    await startScenario(user);
    const text = `Реплика при обрыве у ${user.id}`;
    await withCut(testCase, user, () => turn(user, text));
    expect(user.messages().filter(answerTo(text))).toHaveLength(1);
  });

  it.each(afterModelCases)('turn, %s (cut %s): answered once, the reply stored once', async (...testCase) => {
    const user = newTrainee();
    await startScenario(user);
    const text = `Реплика, ответ на которую сохраняется при обрыве, у ${user.id}`;
    const asked = world.openai.requests.length;
    world.openai.respondWith((request) => ({ content: `Клиент отвечает на: ${lastTraineeLine(request)}`, delayMs: 300 }));
    try {
      // Armed once the model is asked, so the cut falls on the statements after the model's answer.
      sentTurns.push(text);
      user.sendText(text);
      await world.telegram.waitUntil(() => (world.openai.requests.length > asked ? true : undefined));
      await withCut(testCase, user, () => user.waitForMessage(answerTo(text), 20_000));
    } finally {
      world.openai.respondWith(scriptedModel());
    }
    expect(user.messages().filter(answerTo(text))).toHaveLength(1);
    expect(await clientLinesOf(user)).toEqual(['Да, слушаю. Кто это?', `Клиент отвечает на: ${text}`]);
  });

  it.each(finishCases)('/finish, %s (cut %s): one evaluation, shown once', async (...testCase) => {
    const user = newTrainee();
    await startScenario(user);
    await turn(user, `Реплика перед /finish у ${user.id}`);
    const judged = world.openai.requests.filter(isJudgeRequest).length;
    await withCut(testCase, user, async () => {
      user.sendText('/finish');
      await user.waitForMessage(isScore, 20_000);
    });
    expect(world.openai.requests.filter(isJudgeRequest).length - judged).toBeLessThanOrEqual(1);
    expect(user.messages().filter(isScore)).toHaveLength(1);
  });

  it.each(switchCases)(
    'switching scenario, %s (cut %s): the old session abandoned and said so, the new one started',
    async (...testCase) => {
      const user = newTrainee();
      await startScenario(user);
      user.sendText('/scenarios');
      await user.waitForMessage((m) => m.reply_markup !== undefined && /сценари/i.test(m.text));
      user.pressButton('sc:upsell');
      await user.waitForMessage((m) => m.text.includes('уровень сложности'));
      await withCut(testCase, user, async () => {
        user.pressButton('sd:upsell:easy');
        await user.waitForMessage((m) => m.text.includes('Прервать её'));
        user.pressButton('switch:yes');
        await user.waitForMessage((m) => m.text.includes('прервана'), 20_000);
        await user.waitForMessage((m) => m.text.includes('«Расширение тарифа»') && m.text.includes('началась'), 20_000);
      });
      const statuses = await world.database.db.execute<{ scenario_key: string; status: string }>(
        `select scenario_key, status from sessions s join users u on u.id = s.user_id where u.telegram_id = ${user.id} order by s.id`,
      );
      expect(statuses.map((r) => [r.scenario_key, r.status])).toEqual([
        ['cold-call', 'abandoned'],
        ['upsell', 'active'],
      ]);
      expect(user.messages().filter((m) => m.text.includes('прервана'))).toHaveLength(1);
    },
  );

  it('every trainee text stored exactly once, every finished session one evaluation', async () => {
    expect(nextTrainee).toBe(caseCount);
    const problems = (await checkInvariants(world, sentTurns)).filter((p) => !p.includes('sheet rows'));
    expect(problems).toEqual([]);
  });
});
