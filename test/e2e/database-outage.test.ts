import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isJudgeRequest, lastTraineeLine, scriptedModel } from '../support/model-script.js';
import type { FakeUser } from '../support/telegram-fake.js';
import { checkInvariants, count, startScenario, startWorld, type World } from '../support/world.js';

/**
 * PostgreSQL restarting under the bot: every statement a trainee's update depends on has its
 * connection cut exactly as it is sent (the proxy decides the moment, so no case depends on luck).
 * The trainee must get the same answer as without the fault, and nothing may be stored twice.
 */

/** Each case a trainee of its own: the access gate and the conversation store have not seen them yet. */
const firstTrainee = 7400;
const caseCount = 14;
const trainees = Array.from({ length: caseCount }, (_, i) => firstTrainee + i);
let nextTrainee = 0;
let world: World;
const sentTurns: string[] = [];

beforeAll(async () => {
  world = await startWorld({ trainees, databaseFaults: true });
});
afterAll(async () => {
  await world?.close();
});

const generic = /Что-то пошло не так|База данных бота/;
const answerTo = (text: string) => (m: { text: string }) => m.text === `Клиент отвечает на: ${text}`;

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

/**
 * Arms the cut and runs the trainee's action; then proves the cut happened, the trainee never saw
 * an error, and everything shown is recorded as delivered (or a restart would show it again).
 */
async function withCut(statement: RegExp, user: FakeUser, action: () => Promise<void>): Promise<void> {
  const cut = world.databaseFaults.cutOnNext(statement);
  try {
    await action();
    expect(await cut).toMatch(statement);
  } finally {
    world.databaseFaults.disarm();
  }
  // What the bot does after the awaited message (marking it delivered) has a moment to finish.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(user.messages().filter((m) => generic.test(m.text))).toEqual([]);
  expect(await undeliveredTo(user)).toBe(0);
}

describe('a PostgreSQL connection cut while the bot works', () => {
  const gate: Array<[string, RegExp]> = [
    ['registering the user at the access gate', /^insert into "users"/],
    ['reading the conversation state', /^select "value" from "conversation_states"/],
    ['starting the session', /^insert into "sessions"/],
    ['storing the opening line', /^insert into "messages"/],
  ];
  it.each(gate)('%s: the menu and the session work, the session is started once', async (_step, statement) => {
    const user = newTrainee();
    await withCut(statement, user, () => startScenario(user));
    await turn(user, `Первая реплика после сбоя у ${user.id}`);
    expect(await count(world.database, `select count(*)::int as n from sessions s join users u on u.id = s.user_id where u.telegram_id = ${user.id}`)).toBe(1);
  });

  const beforeTheModel: Array<[string, RegExp]> = [
    ['storing the trainee message', /^insert into "messages"/],
    ['reading the dialogue for the model', /^select "role", "content" from "messages"/],
  ];
  it.each(beforeTheModel)('%s: the turn is answered and stored once', async (_step, statement) => {
    const user = newTrainee();
    await startScenario(user);
    const text = `Реплика при обрыве у ${user.id}`;
    await withCut(statement, user, () => turn(user, text));
  });

  const afterTheModel: Array<[string, RegExp]> = [
    ['storing the client reply', /^insert into "messages"/],
    ['marking the reply delivered', /^update "messages" set "delivered_at"/],
  ];
  it.each(afterTheModel)('%s: the turn is answered once', async (_step, statement) => {
    const user = newTrainee();
    await startScenario(user);
    const text = `Реплика, ответ на которую сохраняется при обрыве, у ${user.id}`;
    const asked = world.openai.requests.length;
    world.openai.respondWith((request) => ({ content: `Клиент отвечает на: ${lastTraineeLine(request)}`, delayMs: 300 }));
    try {
      // Armed once the model is asked, so the cut falls on the statement after the model's answer.
      sentTurns.push(text);
      user.sendText(text);
      await world.telegram.waitUntil(() => (world.openai.requests.length > asked ? true : undefined));
      await withCut(statement, user, () => user.waitForMessage(answerTo(text), 20_000).then(() => undefined));
    } finally {
      world.openai.respondWith(scriptedModel());
    }
    expect(user.messages().filter(answerTo(text))).toHaveLength(1);
  });

  const finish: Array<[string, RegExp]> = [
    ['counting the trainee turns', /^select count\(\*\) from "messages"/],
    ['marking /finish requested', /^update "sessions" set "finish_requested_at"/],
    ['reading the transcript for the judge', /^select "id", "session_id", "role", "content"/],
    ['storing the evaluation and ending the session', /^\s*with finished as/],
    ['reading the stored evaluation back', /^select .* from "evaluations" where "evaluations"."session_id"/],
    ['marking the evaluation delivered', /^update "evaluations" set "delivered_at"/],
  ];
  it.each(finish)('/finish, %s: one evaluation, shown once', async (_step, statement) => {
    const user = newTrainee();
    await startScenario(user);
    await turn(user, `Реплика перед /finish у ${user.id}`);
    const judged = world.openai.requests.filter(isJudgeRequest).length;
    await withCut(statement, user, async () => {
      user.sendText('/finish');
      await user.waitForMessage((m) => /\d+\/100/.test(m.text), 20_000);
    });
    expect(world.openai.requests.filter(isJudgeRequest).length - judged).toBeLessThanOrEqual(1);
    expect(user.messages().filter((m) => /\d+\/100/.test(m.text))).toHaveLength(1);
  });

  it('every trainee text stored exactly once, every finished session one evaluation', async () => {
    expect(nextTrainee).toBe(caseCount);
    const problems = (await checkInvariants(world, sentTurns)).filter((p) => !p.includes('sheet rows'));
    expect(problems).toEqual([]);
  });
});
