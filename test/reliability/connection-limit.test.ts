import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCase, recordFigures } from './report.js';
import { count, errorApology, startScenario, startWorld, type World } from '../support/world.js';

/**
 * A managed PostgreSQL (or `kb:index` running beside the bot) leaves fewer free connections than the
 * bot's pool wants: the server answers 53300 "too many connections" to the rest.
 */
const trainees = Array.from({ length: 20 }, (_, i) => 7400 + i);
const role = `limited_${process.pid}`;
let world: World;
let admin: postgres.Sql;

beforeAll(async () => {
  world = await startWorld({ trainees });
  admin = postgres(world.database.url, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create role ${role} login password 'limited' connection limit 3`);
  const database = new URL(world.database.url).pathname.slice(1);
  // Migrations run at every start: `create schema if not exists drizzle` needs the right to create.
  await admin.unsafe(`grant create on database ${database} to ${role}`);
  await admin.unsafe(`grant all on schema public, drizzle to ${role}`);
  await admin.unsafe(`grant all on all tables in schema public to ${role}`);
  await admin.unsafe(`grant all on all sequences in schema public to ${role}`);
  await admin.unsafe(`grant select on all tables in schema drizzle to ${role}`);
  const limited = new URL(world.database.url);
  limited.username = role;
  limited.password = 'limited';
  // The pool asks for 10 connections; the server grants this role 3.
  await world.restartBot('SIGTERM', { DATABASE_URL: limited.toString(), DATABASE_POOL_SIZE: '10' });
});

afterAll(async () => {
  await world?.close();
  await admin?.unsafe(`drop owned by ${role}`).catch(() => undefined);
  await admin?.unsafe(`drop role if exists ${role}`).catch(() => undefined);
  await admin?.end();
});

describe('a database with fewer free connections than the pool', () => {
  it('answers every trainee and loses no text: «too many connections» is waited out', async (context) => {
    recordCase(context, {
      area: 'operator',
      case: 'fewer free connections than the pool',
      action:
        'the bot connects as a role PostgreSQL grants 3 connections (its pool wants 10); 20 trainees start a scenario and send a text at once',
      traineeSaw: 'the client’s answers, a little later; no error',
      checked: 'every text stored once and answered; 20 sessions; no apology',
    });
    const started = performance.now();
    const users = trainees.map((id) => world.telegram.user(id, { firstName: `Сотрудник ${id}` }));
    await Promise.all(users.map((user) => startScenario(user)));
    await Promise.all(
      users.map(async (user, i) => {
        user.sendText(`Добрый день, это реплика номер ${i}`);
        await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает'));
      }),
    );
    recordFigures(context, { 'seconds for all 20': ((performance.now() - started) / 1000).toFixed(1) });
    for (const user of users) expect(user.messages().filter((m) => errorApology.test(m.text))).toEqual([]);
    expect(
      await count(
        world.database,
        "select count(*)::int as n from messages where role = 'user' and content like 'Добрый день, это реплика номер %'",
      ),
    ).toBe(20);
    expect(await count(world.database, "select count(*)::int as n from sessions where status = 'active'")).toBe(20);
  });
});
