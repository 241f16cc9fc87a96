import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/database.js';
import type { FakeUser, TelegramFake } from '../support/telegram-fake.js';
import { count, startScenario, startWorld, type World } from '../support/world.js';

const managerId = 7600;
const annaId = 7601;
const petrId = 7602;
const outsiderId = 7603;
let world: World;
let telegram: TelegramFake;
let database: TestDatabase;
let manager: FakeUser;
let anna: FakeUser;

async function idOf(telegramId: number): Promise<number> {
  return count(database, `select id as n from users where telegram_id = ${telegramId}`);
}

async function trainAndFinish(user: FakeUser): Promise<number> {
  await startScenario(user);
  user.sendText('Добрый день! Меня зовут Анна, компания «ОблакоСделка».');
  await user.waitForNextMessage(20_000);
  user.sendText('/finish');
  await user.waitForMessage((m) => /\d+\/100/.test(m.visibleText), 30_000);
  return count(
    database,
    `select max(s.id) as n from sessions s join users u on u.id = s.user_id where u.telegram_id = ${user.id}`,
  );
}

async function eventually(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the condition was not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  world = await startWorld({ trainees: [managerId, annaId, petrId, outsiderId] });
  ({ telegram, database } = world);
  manager = telegram.user(managerId, { firstName: 'Ольга' });
  anna = telegram.user(annaId, { firstName: 'Анна' });
  for (const [id, name] of [
    [managerId, 'Ольга'],
    [annaId, 'Анна'],
    [petrId, 'Пётр'],
    [outsiderId, 'Чужой'],
  ] as const) {
    const user = telegram.user(id, { firstName: name });
    user.sendText('/start');
    await user.waitForMessage((m) => m.reply_markup !== undefined);
  }
  // Teams are built elsewhere (invites, /assign): here the rows are set as they would be.
  await database.db.execute(`update users set role = 'manager' where telegram_id = ${managerId}`);
  await database.db.execute(
    `update users set manager_id = (select id from users where telegram_id = ${managerId}) where telegram_id in (${annaId}, ${petrId})`,
  );
  // The bot keeps who people are in memory: it reads the changed rows when it starts.
  await world.restartBot('SIGTERM');
}, 120_000);

afterAll(async () => {
  await world?.close();
});

describe('a manager’s views of the team', () => {
  let annaSession: number;
  let outsiderSession: number;

  it('/team lists the whole team (the one who never trained too, nobody else) and sends the per-criterion picture', async () => {
    annaSession = await trainAndFinish(anna);
    outsiderSession = await trainAndFinish(telegram.user(outsiderId));

    manager.markSeen();
    manager.sendText('/team');
    const table = await manager.waitForMessage((m) => m.visibleText.includes('Ваша команда'));
    expect(table.visibleText).toContain('Ваша команда: 2 чел.');
    expect(table.visibleText).toMatch(/\nАнна +\d\d\.\d\d +1 +\d+/);
    expect(table.visibleText).toMatch(/\nПётр +— +0/);
    expect(table.visibleText).not.toContain('Чужой');
    const picture = await manager.waitForMessage((m) => m.photo !== undefined);
    const image = PNG.sync.read(picture.photo!.bytes);
    expect(image.width).toBeGreaterThanOrEqual(1000);
    expect(picture.visibleText).toMatch(/^Средний балл команды по критериям/);
  }, 120_000);

  it('opens a person, a session with its evaluation and its dialogue; another team’s session is refused', async () => {
    manager.pressButton(`tm:${await idOf(annaId)}`);
    const sessions = await manager.waitForMessage((m) => m.visibleText.startsWith('Тренировки:'));
    expect(sessions.visibleText).toContain('Холодный звонок');
    manager.pressButton(`ts:${annaSession}`);
    await manager.waitForMessage((m) => /\d+\/100/.test(m.visibleText) && m.visibleText.includes('Анна'));
    manager.pressButton(`tt:${annaSession}`);
    const dialogue = await manager.waitForMessage((m) => m.visibleText.startsWith('Переписка тренировки'));
    expect(dialogue.visibleText).toContain('Сотрудник: Добрый день! Меня зовут Анна');

    const answersBefore = manager.callbackAnswers().length;
    manager.sendForgedCallback(`ts:${outsiderSession}`);
    await telegram.waitUntil(
      () => manager.callbackAnswers().length > answersBefore || undefined,
      10_000,
      () => 'no answer to the forged button',
    );
    const refusal = manager.callbackAnswers().at(-1);
    expect(refusal?.show_alert).toBe(true);
    expect(refusal?.text).toContain('недоступна');
  }, 60_000);

  it('a review is stored beside the AI’s score and the trainee is told; /history shows both', async () => {
    const aiScore = await count(database, `select total_score as n from evaluations where session_id = ${annaSession}`);
    manager.pressButton(`rv:${annaSession}`);
    await manager.waitForMessage((m) => m.visibleText.includes('Какую оценку ставите вы'));
    manager.sendText('сто');
    await manager.waitForMessage((m) => m.visibleText.includes('целое число от 0 до 100'));
    manager.sendText('88');
    await manager.waitForMessage((m) => m.visibleText.includes('Теперь комментарий'));
    anna.markSeen();
    manager.sendText('Хорошее начало, но спросите о сроках');
    await manager.waitForMessage((m) => m.visibleText.startsWith('Готово'));

    const told = await anna.waitForMessage((m) => m.visibleText.includes('Руководитель пересмотрел'));
    expect(told.visibleText).toContain(`Оценка руководителя: 88/100 (ИИ: ${aiScore}/100)`);
    expect(told.visibleText).toContain('Комментарий руководителя: Хорошее начало, но спросите о сроках');
    expect(await count(database, `select score as n from evaluation_reviews where session_id = ${annaSession}`)).toBe(88);

    anna.sendText('/history');
    const history = await anna.waitForMessage((m) => m.visibleText.startsWith('Ваши последние тренировки'));
    expect(history.visibleText).toContain(`ИИ ${aiScore}/100 · руководитель 88/100`);
  }, 60_000);
});

describe('a trainee’s dispute', () => {
  it('is stored with the reason and the manager is told with a button to the session', async () => {
    const session = await trainAndFinish(anna);
    manager.markSeen();
    anna.pressButton(`dp:${session}`);
    await anna.waitForMessage((m) => m.visibleText.startsWith('Напишите, с чем вы не согласны'));
    anna.sendText('Я назвала цену, а в оценке написано, что нет');
    await anna.waitForMessage((m) => m.visibleText.startsWith('Спасибо, ваше несогласие записано'));

    const notice = await manager.waitForMessage((m) => m.visibleText.includes('оспаривает оценку'));
    expect(notice.visibleText).toContain('Причина: Я назвала цену, а в оценке написано, что нет');
    expect(JSON.stringify(notice.reply_markup)).toContain(`ts:${session}`);
    expect(
      await count(database, `select count(*)::int as n from evaluation_disputes where manager_notified_at is not null`),
    ).toBe(1);
  }, 60_000);

  it('a dispute stored but not told before a crash is told at the next start, and only once', async () => {
    const session = await trainAndFinish(anna);
    // What a crash between storing the dispute and telling the manager leaves behind.
    await database.db.execute(`insert into evaluation_disputes (session_id, reason) values (${session}, 'Не согласна с баллом')`);
    manager.markSeen();

    await world.restartBot('SIGKILL');
    const notice = await manager.waitForMessage((m) => m.visibleText.includes('Не согласна с баллом'), 30_000);
    expect(notice.visibleText).toContain('оспаривает оценку');
    await eventually(
      async () =>
        (await count(
          database,
          `select count(*)::int as n from evaluation_disputes where session_id = ${session} and manager_notified_at is not null`,
        )) === 1,
    );

    await world.restartBot('SIGTERM');
    manager.sendText('/help');
    await manager.waitForMessage((m) => m.visibleText.includes('/stats') || m.visibleText.includes('/history'), 30_000);
    const notices = manager.messages().filter((m) => m.visibleText.includes('Не согласна с баллом'));
    expect(notices).toHaveLength(1);
  }, 120_000);
});
