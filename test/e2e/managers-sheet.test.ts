import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SheetsFake } from '../support/sheets-fake.js';
import type { TelegramFake } from '../support/telegram-fake.js';
import { startWorld, type World } from '../support/world.js';

const admin = 7401;
let world: World;
let telegram: TelegramFake;
let sheets: SheetsFake;

beforeAll(async () => {
  world = await startWorld({ trainees: [], env: { ADMIN_USER_IDS: String(admin) } });
  ({ telegram, sheets } = world);
});

afterAll(async () => {
  await world?.close();
});

describe("the managers' sheet", () => {
  it('gets one row per finished session, with the score as a number, right after /finish', async () => {
    const user = telegram.user(admin, { firstName: 'Мария', username: 'maria' });
    user.sendText('/scenarios');
    await user.waitForMessage((m) => m.text.includes('Выберите сценарий'));
    user.pressButton('sc:needs-discovery');
    await user.waitForMessage((m) => m.text.includes('уровень сложности'));
    user.pressButton('sd:needs-discovery:hard');
    await user.waitForMessage((m) => m.text.includes('началась'));
    user.sendText('Расскажите, как у вас устроен учёт заказов?');
    await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает'));
    user.sendText('/finish');
    await user.waitForMessage((m) => /\d+\/100/.test(m.text));

    await telegram.waitUntil(() => (sheets.rows('Результаты').length >= 2 ? true : undefined), 15_000);
    const [header, row] = sheets.rows('Результаты');
    expect(header).toContain('Балл');
    expect(row).toContain(70);
    expect(row).toContain('Выявление потребностей');
    expect(row).toContain('@maria');
    await telegram.waitUntil(() => (sheets.rows('Сотрудники').length >= 2 ? true : undefined), 15_000);
    expect(JSON.stringify(sheets.rows('Сотрудники')[1])).toContain('Мария');
  });
});
