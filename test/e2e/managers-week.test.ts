import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotMessage, FakeUser } from '../support/telegram-fake.js';
import { count, startWorld, type World } from '../support/world.js';

const managerId = 7301;
const traineeId = 7302;
let world: World;
let programsDir: string;

beforeAll(async () => {
  programsDir = await mkdtemp(path.join(tmpdir(), 'programs-'));
  await writeFile(
    path.join(programsDir, 'first-week.yaml'),
    [
      'key: first-week',
      "title: 'Первая неделя'",
      'items:',
      '  - { scenario: cold-call, difficulty: easy, passMark: 70 }',
      '  - { scenario: upsell, difficulty: easy, passMark: 70 }',
      'validDays: 365',
    ].join('\n'),
  );
  world = await startWorld({
    trainees: [traineeId],
    env: {
      ADMIN_USER_IDS: String(managerId),
      PROGRAMS_DIR: programsDir,
      // The test runs at any hour: quiet hours are checked in test/services/notifications.test.ts.
      QUIET_HOURS: '0-0',
      NOTIFY_POLL_SECONDS: '1',
    },
  });
});

afterAll(async () => {
  await world?.close();
  await rm(programsDir, { recursive: true, force: true });
});

const buttons = (message: BotMessage) =>
  (
    (message.reply_markup as { inline_keyboard?: Array<Array<{ text: string; callback_data: string }>> } | undefined)
      ?.inline_keyboard ?? []
  ).flat();

/** Moves the chosen notices' time into the past: the clock of a week, without waiting for it. */
async function due(kind: string): Promise<void> {
  await world.database.db.execute(`update notifications set due_at = now() - interval '1 minute' where kind = '${kind}'`);
}

async function passTask(trainee: FakeUser, assignmentId: number): Promise<BotMessage> {
  trainee.pressButton(`task:${assignmentId}`);
  await trainee.waitForMessage((m) => m.text.includes('началась'));
  await trainee.waitForMessage((m) => m.text.includes('Карточка клиента'));
  await trainee.waitForNextMessage();
  trainee.sendText('Добрый день! Меня зовут Анна, компания «ОблакоСделка». Сколько у вас салонов?');
  await trainee.waitForMessage((m) => m.text.startsWith('Клиент отвечает'));
  trainee.sendText('/finish');
  return trainee.waitForMessage((m) => /\d+\/100/.test(m.text), 20_000);
}

describe("a manager's week", () => {
  it('assigns a program → notified → reminded → overdue → passes → certified → digest; restarts lose and repeat nothing', async () => {
    const { telegram, database } = world;
    const manager = telegram.user(managerId, { firstName: 'Мария', languageCode: 'ru' });
    const trainee = telegram.user(traineeId, { firstName: 'Анна', languageCode: 'ru' });
    manager.sendText('/start');
    await manager.waitForMessage((m) => m.text.includes('Мария'));
    trainee.sendText('/start');
    await trainee.waitForMessage((m) => m.text.includes('Анна'));
    await database.db.execute(
      `update users set manager_id = (select id from users where telegram_id = ${managerId}) where telegram_id = ${traineeId}`,
    );

    // A deadline in the past gets a clear answer.
    manager.sendText('/assign');
    const what = await manager.waitForMessage((m) => m.text.startsWith('Что назначить?'));
    expect(buttons(what)[0]?.text).toBe('📚 Первая неделя');
    manager.pressButton(buttons(what)[0]!.callback_data);
    await manager.waitForMessage((m) => m.text.startsWith('Срок?'));
    manager.sendText('01.01.2020');
    await manager.waitForMessage((m) => m.text === 'Этот срок уже прошёл. Укажите будущую дату или число дней.');
    manager.sendText('3');
    const who = await manager.waitForMessage((m) => m.text === 'Кому назначить?');
    manager.pressButton(buttons(who).find((b) => b.text.startsWith('👥'))!.callback_data);
    await manager.waitForMessage((m) => m.text.startsWith('✅ Назначено: программа «Первая неделя» (2 сценария)'));

    const assigned = await trainee.waitForMessage((m) => m.text.startsWith('📌 Новое задание: «Холодный звонок»'));
    await trainee.waitForMessage((m) => m.text.startsWith('📌 Новое задание: «Расширение тарифа»'));
    expect(buttons(assigned).map((b) => b.text)).toEqual(['▶️ Начать']);

    trainee.sendText('/tasks');
    const tasks = await trainee.waitForMessage((m) => m.text.startsWith('Ваши задания'));
    expect(buttons(tasks).map((b) => b.text)).toEqual(['▶️ Холодный звонок', '▶️ Расширение тарифа']);

    // A practice session first: marked as practice, counts toward nothing.
    trainee.sendText('/scenarios');
    const menu = await trainee.waitForMessage((m) => m.reply_markup !== undefined && m.text.includes('сценари'));
    trainee.pressButton('sc:needs-discovery', menu.message_id);
    await trainee.waitForMessage((m) => m.text.includes('уровень сложности'));
    trainee.pressButton('sd:needs-discovery:easy');
    await trainee.waitForMessage((m) => m.text.includes('Карточка клиента'));
    await trainee.waitForNextMessage();
    trainee.sendText('Добрый день, подскажите, чем вы сейчас пользуетесь для учёта клиентов?');
    await trainee.waitForMessage((m) => m.text.startsWith('Клиент отвечает'));
    trainee.sendText('/finish');
    const practice = await trainee.waitForMessage((m) => /\d+\/100/.test(m.text), 20_000);
    expect(practice.visibleText).toContain('Практика — эта тренировка не входит в задания.');

    const ids = async (scenario: string) => count(database, `select id as n from assignments where scenario_key = '${scenario}'`);
    const first = await passTask(trainee, await ids('cold-call'));
    expect(first.visibleText).toContain('Задание зачтено ✅ (проходной балл 70)');

    // A crash in the middle of the week: nothing scheduled is lost, nothing sent is sent again.
    await world.restartBot('SIGKILL');

    await due('reminder');
    const reminder = await trainee.waitForMessage((m) => m.text.startsWith('⏰ Напоминание'), 15_000);
    expect(reminder.text).toContain('«Расширение тарифа»');
    await due('overdue');
    await due('manager-overdue');
    await trainee.waitForMessage((m) => m.text.startsWith('⚠️ Срок задания «Расширение тарифа»'), 15_000);
    const overdue = await manager.waitForMessage((m) => m.text.startsWith('⚠️ Просрочено: Анна'), 15_000);
    expect(buttons(overdue).map((b) => b.text)).toEqual(['👤 Открыть сотрудника']);

    const second = await passTask(trainee, await ids('upsell'));
    expect(second.visibleText).toContain('Задание зачтено ✅ (проходной балл 70)');
    const certified = await trainee.waitForMessage((m) => m.text.startsWith('🎓 Поздравляем!'), 15_000);
    expect(certified.text).toContain('«Первая неделя»');
    await manager.waitForMessage((m) => m.text.startsWith('🎓 Сертификат: Анна — программа «Первая неделя» пройдена'), 15_000);

    await due('digest');
    const digest = await manager.waitForMessage((m) => m.text.startsWith('📊 Неделя команды'), 15_000);
    expect(digest.text).toContain('Тренировались: Анна (3)');
    expect(digest.text).toContain('Сдали задания: Анна — «Холодный звонок», Анна — «Расширение тарифа»');

    // Another restart, and a few rounds of the worker: no notice is sent twice.
    await world.restartBot('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const texts = [...trainee.messages(), ...manager.messages()].map((m) => m.text);
    for (const prefix of [
      '📌 Новое задание: «Холодный звонок»',
      '📌 Новое задание: «Расширение тарифа»',
      '⏰',
      '⚠️ Срок',
      '⚠️ Просрочено: Анна',
      '🎓 Поздравляем',
      '🎓 Сертификат: Анна',
      '📊',
    ]) {
      expect(
        texts.filter((text) => text.startsWith(prefix)),
        prefix,
      ).toHaveLength(1);
    }
    expect(await count(database, `select count(*)::int as n from certifications`)).toBe(1);

    // What the manager sees afterwards: /team with both assignments passed, the picture, and the sheet.
    manager.markSeen();
    manager.sendText('/team');
    const table = await manager.waitForMessage((m) => m.visibleText.includes('Ваша команда'));
    expect(table.visibleText).toMatch(/\nАнна +\d\d\.\d\d +\d+ +2\/0\/0 /);
    const picture = await manager.waitForMessage((m) => m.photo !== undefined);
    expect(picture.visibleText).toMatch(/^Средний балл команды по критериям/);
    await world.telegram.waitUntil(() => {
      const tasks = world.sheets.rows('Задания').slice(1);
      return tasks.length === 2 && tasks.every((row) => row[6] === 'зачтено') ? true : undefined;
    }, 15_000);
    const [certificate] = world.sheets.rows('Сертификаты').slice(1);
    expect([certificate?.[0], certificate?.[2]]).toEqual(['Анна', 'Первая неделя']);
    expect(world.sheets.rows('Критерии').length).toBeGreaterThan(1);

    const transcript = [
      '# Неделя руководителя: что видели руководитель и сотрудник',
      '',
      '## Руководитель (Мария)',
      ...manager.messages().map((m) => `> ${m.visibleText.replaceAll('\n', '\n> ')}\n`),
      '## Сотрудник (Анна)',
      ...trainee.messages().map((m) => `> ${m.visibleText.replaceAll('\n', '\n> ')}\n`),
    ].join('\n');
    await writeFile(path.join(tmpdir(), 'managers-week-transcript.md'), transcript);
    process.stdout.write(`${transcript}\n`);
  }, 120_000);
});
