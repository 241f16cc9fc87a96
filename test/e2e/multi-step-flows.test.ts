import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/database.js';
import type { FakeUser, TelegramFake } from '../support/telegram-fake.js';
import { startWorld, type World } from '../support/world.js';

const admin = 8001;
let world: World;
let telegram: TelegramFake;
let database: TestDatabase;

beforeAll(async () => {
  world = await startWorld({ trainees: [], env: { ACCESS_MODE: 'invite', ADMIN_USER_IDS: String(admin) } });
  ({ telegram, database } = world);
});

afterAll(async () => {
  await world?.close();
});

async function startScenario(user: FakeUser, key: string): Promise<void> {
  user.sendText('/scenarios');
  await user.waitForMessage((m) => m.text.includes('Выберите сценарий'));
  user.pressButton(`sc:${key}`);
  await user.waitForMessage((m) => m.text.includes('уровень сложности'));
  user.pressButton(`sd:${key}:easy`);
}

describe('invites', () => {
  it('a manager creates an invite step by step and a newcomer joins with it', async () => {
    const manager = telegram.user(admin, { firstName: 'Ольга' });
    const newcomer = telegram.user(8100, { firstName: 'Пётр' });

    newcomer.sendText('/start');
    expect((await newcomer.waitForNextMessage()).text).toContain('по приглашениям');

    manager.sendText('/invite');
    await manager.waitForMessage((m) => m.text.includes('Сколько человек'));
    manager.sendText('пять');
    await manager.waitForMessage((m) => m.text.includes('кнопкой'));
    manager.pressButton('invite:1');
    await manager.waitForMessage((m) => m.text.includes('Сколько дней'));
    manager.pressButton('invite:1');
    await manager.waitForMessage((m) => m.text.includes('Кем будут'));
    manager.pressButton('invite:0');
    const created = await manager.waitForMessage((m) => m.text.includes('Приглашение готово'));
    const code = /start=([\w-]+)/.exec(created.text)?.[1];
    expect(code).toBeDefined();

    newcomer.sendText(`/start ${code}`);
    await newcomer.waitForMessage((m) => m.text.includes('Приглашение принято'));
    await newcomer.waitForMessage((m) => m.text.includes('Выберите сценарий'));

    const late = telegram.user(8101);
    late.sendText('/start wrong-code');
    const refusal = await late.waitForNextMessage();
    expect(refusal.text).toContain('Такого приглашения нет');
    expect(refusal.text).toContain('8101');
  });

  it('/cancel ends the invite flow', async () => {
    const manager = telegram.user(admin);
    manager.sendText('/invite');
    await manager.waitForMessage((m) => m.text.includes('Сколько человек'));
    manager.sendText('/cancel');
    await manager.waitForMessage((m) => m.text.includes('отменено'));
  });
});

describe('choosing a new scenario during a session', () => {
  it('asks first: "no" keeps the session, "yes" abandons it and starts the new one', async () => {
    const user = telegram.user(admin);
    await startScenario(user, 'cold-call');
    await user.waitForMessage((m) => m.text.includes('«Холодный звонок»') && m.text.includes('началась'));

    await startScenario(user, 'upsell');
    await user.waitForMessage((m) => m.text.includes('Прервать её и начать «Расширение тарифа»'));
    user.pressButton('switch:no');
    await user.waitForMessage((m) => m.text.includes('Продолжаем «Холодный звонок»'));

    await startScenario(user, 'upsell');
    await user.waitForMessage((m) => m.text.includes('Прервать её'));
    user.pressButton('switch:yes');
    await user.waitForMessage((m) => m.text.includes('прервана'));
    await user.waitForMessage((m) => m.text.includes('«Расширение тарифа»') && m.text.includes('началась'));

    const statuses = await database.db.execute<{ scenario_key: string; status: string }>(
      `select scenario_key, status from sessions s join users u on u.id = s.user_id where u.telegram_id = ${admin} order by s.id`,
    );
    expect(statuses.map((r) => [r.scenario_key, r.status])).toEqual([
      ['cold-call', 'abandoned'],
      ['upsell', 'active'],
    ]);
  });

  it('a text while the question is open leaves the question and is played as a turn', async () => {
    const user = telegram.user(admin);
    await startScenario(user, 'cold-call');
    await user.waitForMessage((m) => m.text.includes('Прервать её'));
    user.sendText('Продолжим разговор');
    await user.waitForMessage((m) => m.text === 'Клиент отвечает на: Продолжим разговор');
  });
});
