import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/database.js';
import type { SheetsFake } from '../support/sheets-fake.js';
import type { FakeUser, TelegramFake } from '../support/telegram-fake.js';
import { count, errorApology, startScenario, startWorld, type World } from '../support/world.js';
import { recordCase } from './report.js';

const admin = 7501;
const anna = 7502;
const boris = 7503;
const newcomer = 7504;
const root = path.resolve(import.meta.dirname, '../..');
const TELEGRAM_ID_COLUMN = 11;

let world: World;
let telegram: TelegramFake;
let database: TestDatabase;
let sheets: SheetsFake;

beforeAll(async () => {
  world = await startWorld({ trainees: [anna, boris], env: { ADMIN_USER_IDS: String(admin) } });
  ({ telegram, database, sheets } = world);
});

afterAll(async () => {
  await world?.close();
});

/** Every row of every table that still names the person, by Telegram id or through their sessions. */
async function rowsAbout(telegramId: number): Promise<Record<string, number>> {
  const found: Record<string, number> = {
    users: await count(database, `select count(*)::int as n from users where telegram_id = ${telegramId}`),
    conversation_states: await count(database, `select count(*)::int as n from conversation_states where key = '${telegramId}'`),
    sheet_erasures: await count(database, `select count(*)::int as n from sheet_erasures where telegram_id = ${telegramId}`),
    // Sessions of nobody: the person's, if any survived the user row.
    orphan_sessions: await count(
      database,
      'select count(*)::int as n from sessions s where not exists (select 1 from users u where u.id = s.user_id)',
    ),
  };
  return Object.fromEntries(Object.entries(found).filter(([, n]) => n > 0));
}

function sheetMentions(telegramId: number, name: string): string[] {
  const results = sheets.rows('Результаты').filter((row) => row[TELEGRAM_ID_COLUMN] === telegramId);
  const trainees = sheets.rows('Сотрудники').filter((row) => row.includes(telegramId) || JSON.stringify(row).includes(name));
  return [...results, ...trainees].map((row) => JSON.stringify(row));
}

/** The environment the bot runs with, for a command run beside it (the world keeps it to itself). */
async function botEnvironment(): Promise<Record<string, string>> {
  const raw = await readFile(`/proc/${world.bot.child.pid}/environ`, 'utf8');
  return Object.fromEntries(
    raw
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

/** `npm run user:erase -- <id> --yes`, as an operator runs it next to the running bot. */
async function eraseFromTheCommandLine(telegramId: number): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'src/cli/user-erase.ts'), String(telegramId), '--yes'],
    {
      cwd: root,
      env: { ...(await botEnvironment()), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, output };
}

async function trainAndFinish(user: FakeUser): Promise<void> {
  await startScenario(user);
  user.sendText('Здравствуйте, меня зовут Анна, компания «ОблакоСделка».');
  await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает'));
  user.sendText('/finish');
  await user.waitForMessage((m) => /\d+\/100/.test(m.text), 30_000);
}

describe('erasing a person', () => {
  it('an admin erases a trainee with /erase: nothing is left in PostgreSQL or the sheet, and the trainee starts afresh', async (context) => {
    recordCase(context, {
      area: 'privacy',
      case: '/erase by an admin',
      action: 'a trainee trains and finishes (sheet row); the admin sends /erase <id> and confirms',
      traineeSaw: 'the admin: what was removed; the trainee: a fresh start',
      checked: 'no row in PostgreSQL or the sheet; the next message gets no error',
    });
    const trainee = telegram.user(anna, { firstName: 'Анна', username: 'anna_erased' });
    await trainAndFinish(trainee);
    await telegram.waitUntil(
      () => (sheetMentions(anna, 'anna_erased').length === 2 ? true : undefined),
      20_000,
      () => 'her result row and her line in «Сотрудники»',
    );

    const olga = telegram.user(admin, { firstName: 'Ольга' });
    olga.sendText(`/erase ${anna}`);
    await olga.waitForMessage((m) => m.text.startsWith('Удалить все данные о сотруднике') && m.text.includes('Анна'));
    olga.pressButton(`erase:yes:${anna}`);
    const report = await olga.waitForMessage((m) => m.text.startsWith(`Данные о Telegram id ${anna} удалены.`), 30_000);
    expect(report.text).toContain('сотрудник — 1, тренировок — 1');
    expect(report.text).toContain('оценок — 1');
    expect(report.text).toContain('с листа результатов удалено строк — 1');

    expect(await rowsAbout(anna)).toEqual({});
    expect(await count(database, 'select count(*)::int as n from evaluations')).toBe(0);
    expect(await count(database, 'select count(*)::int as n from messages')).toBe(0);
    expect(sheetMentions(anna, 'anna_erased')).toEqual([]);

    // Still on ALLOWED_USER_IDS: her next message is a new beginning, not an error.
    trainee.markSeen();
    trainee.sendText('Алло, вы меня слышите?');
    const next = await trainee.waitForNextMessage();
    expect(next.text).toBe('Сейчас нет активной тренировки. Выберите сценарий: /scenarios');
    expect(trainee.messages().filter((m) => errorApology.test(m.text))).toEqual([]);
  });

  it('npm run user:erase, beside the running bot, erases a trainee mid-dialogue; the bot forgets him at once', async (context) => {
    recordCase(context, {
      area: 'privacy',
      case: 'npm run user:erase beside the bot',
      action: 'the CLI erases a trainee in the middle of a dialogue while the bot runs',
      traineeSaw: 'the ordinary answer, never «Что-то пошло не так»',
      checked: 'the bot’s caches forgot the person at once',
    });
    const trainee = telegram.user(boris, { firstName: 'Борис', username: 'boris_cut' });
    await startScenario(trainee);
    trainee.sendText('Добрый день! Удобно говорить?');
    await trainee.waitForMessage((m) => m.text.startsWith('Клиент отвечает'));

    const run = await eraseFromTheCommandLine(boris);
    expect(run.output).toContain(`Данные о Telegram id ${boris} удалены.`);
    expect(run.output).toContain('сообщений — 3');
    expect(run.code).toBe(0);
    expect(await rowsAbout(boris)).toEqual({});
    expect(sheetMentions(boris, 'boris_cut')).toEqual([]);
    const again = await eraseFromTheCommandLine(boris);
    expect(again.output).toContain('ничего не хранится');
    expect(again.code).toBe(0);

    // The bot had him (and his session) cached: it heard of the erasure and asks PostgreSQL afresh.
    trainee.markSeen();
    trainee.sendText('Так что насчёт демо?');
    const next = await trainee.waitForNextMessage();
    expect(next.text).toBe('Сейчас нет активной тренировки. Выберите сценарий: /scenarios');
    expect(trainee.messages().filter((m) => errorApology.test(m.text))).toEqual([]);
  });

  it('in invite mode, an erased newcomer gets the ordinary answer to someone without an invite', async (context) => {
    recordCase(context, {
      area: 'privacy',
      case: 'an erased invitee',
      action: 'in invite mode a person who joined by invite is erased and writes again',
      traineeSaw: '«Тренажёр работает по приглашениям…»',
      checked: 'no error; not registered again',
    });
    await world.restartBot('SIGTERM', { ACCESS_MODE: 'invite' });
    const olga = telegram.user(admin, { firstName: 'Ольга' });
    olga.markSeen();
    olga.sendText('/invite');
    await olga.waitForMessage((m) => m.text.includes('Сколько человек'));
    olga.pressButton('invite:1');
    await olga.waitForMessage((m) => m.text.includes('Сколько дней'));
    olga.pressButton('invite:1');
    await olga.waitForMessage((m) => m.text.includes('Кем будут'));
    olga.pressButton('invite:0');
    const created = await olga.waitForMessage((m) => m.text.includes('Приглашение готово'));
    const code = /start=([\w-]+)/.exec(created.text)![1]!;

    const person = telegram.user(newcomer, { firstName: 'Вера' });
    person.sendText(`/start ${code}`);
    await person.waitForMessage((m) => m.text.includes('Приглашение принято'));
    await startScenario(person);

    olga.sendText(`/erase ${newcomer}`);
    await olga.waitForMessage((m) => m.text.includes('Удалить все данные'));
    olga.pressButton(`erase:yes:${newcomer}`);
    await olga.waitForMessage((m) => m.text.startsWith(`Данные о Telegram id ${newcomer} удалены.`), 30_000);
    expect(await rowsAbout(newcomer)).toEqual({});
    // The admin's invite stays, with its creator: only the newcomer's redemption of it went.
    expect(
      await count(database, `select count(*)::int as n from invites where code = '${code}' and created_by is not null`),
    ).toBe(1);

    person.markSeen();
    person.sendText('Здравствуйте, я продолжу?');
    const answer = await person.waitForNextMessage();
    expect(answer.text).toContain('Тренажёр работает по приглашениям');
    expect(answer.text).toContain(String(newcomer));
    expect(person.messages().filter((m) => errorApology.test(m.text))).toEqual([]);
  });
});
