import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asTelegramId } from '../../src/db/ids.js';
import { createInvite } from '../../src/db/queries/invites.js';
import { getOrCreateUser } from '../../src/db/queries/users.js';
import type { TelegramFake } from '../support/telegram-fake.js';
import { count, startWorld, type World } from '../support/world.js';

const adminId = 7400;
const managerId = 7401;
let world: World;
let telegram: TelegramFake;

// The default access mode: before this, a manager's invite refused the invitee here.
beforeAll(async () => {
  world = await startWorld({ trainees: [], env: { ACCESS_MODE: 'allowlist', ADMIN_USER_IDS: String(adminId) } });
  ({ telegram } = world);
});

afterAll(async () => {
  await world?.close();
});

const clean = (text: string) => text.replace(/[\u2068\u2069]/g, '');
const buttonData = (markup: unknown) =>
  ((markup as { inline_keyboard?: Array<Array<{ callback_data?: string }>> } | undefined)?.inline_keyboard ?? [])
    .flat()
    .map((button) => button.callback_data);
const chatScope = (chatId: number) => ({ type: 'chat', chat_id: chatId });

describe('teams and access, managed from the bot', () => {
  it("a manager's invite admits in allowlist mode; the invitee is in the manager's team and the manager is told", async () => {
    const db = world.database.db;
    const manager = await getOrCreateUser(
      db,
      { telegramId: asTelegramId(managerId), firstName: 'Ольга', languageCode: 'ru' },
      'manager',
    );
    const invite = await createInvite(db, {
      createdBy: manager.id,
      role: 'trainee',
      maxUses: 1,
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const olga = telegram.user(managerId, { firstName: 'Ольга' });
    const petr = telegram.user(7402, { firstName: 'Пётр', username: 'petr_sales' });

    petr.sendText(`/start ${invite.code}`);
    expect((await petr.waitForNextMessage()).text).toBe('Приглашение принято, добро пожаловать в команду!');
    const told = await olga.waitForMessage((m) => m.text.includes('По вашему приглашению'));
    expect(clean(told.visibleText)).toBe(
      '👋 По вашему приглашению в тренажёр вошёл Пётр (@petr_sales), Telegram id: 7402.\n' +
        'Теперь он в вашей команде — его тренировки видны в /team.',
    );
    expect(
      await count(world.database, `select count(*)::int as n from users where telegram_id = 7402 and manager_id = ${manager.id}`),
    ).toBe(1);

    // Next message, no code: the grant in PostgreSQL admits him; the manager is not told twice.
    petr.sendText('/help');
    await petr.waitForMessage((m) => m.text.includes('/scenarios'));
    await world.restartBot('SIGTERM');
    petr.sendText('/help');
    await petr.waitForMessage((m) => m.text.includes('/scenarios'));
    expect(olga.messages().filter((m) => m.text.includes('По вашему приглашению'))).toHaveLength(1);
  });

  it('a refused stranger: the admin gets one notice with «Допустить»; pressed, both sides are told', async () => {
    const admin = telegram.user(adminId, { firstName: 'Админ', languageCode: 'ru' });
    admin.sendText('/start'); // the admin is known to the bot from here on
    await admin.waitForMessage((m) => m.text.startsWith('Выберите сценарий'));
    const stranger = telegram.user(7403, { firstName: 'Гость' });

    stranger.sendText('Здравствуйте');
    const refusal = await stranger.waitForNextMessage();
    expect(refusal.text).toContain('Ваш Telegram id: 7403');
    const notice = await admin.waitForMessage((m) => m.text.includes('пытается войти'));
    expect(clean(notice.visibleText)).toMatch(/^🔒 Гость, Telegram id: 7403, пытается войти в тренажёр/);
    expect(buttonData(notice.reply_markup)).toEqual(['admit:7403']);
    // Refused people are not employees: written nowhere but their request.
    expect(await count(world.database, 'select count(*)::int as n from users where telegram_id = 7403')).toBe(0);

    // A second try the same day: refused again, and the admin is not told again.
    stranger.sendText('Есть кто?');
    await stranger.waitForNextMessage();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(admin.messages().filter((m) => m.text.includes('пытается войти'))).toHaveLength(1);

    admin.pressButton('admit:7403', notice.message_id);
    const done = await admin.waitForMessage((m) => m.text.includes('допущен'));
    expect(done.text).toBe('✅ 7403 допущен; я сообщил ему об этом.');
    expect((await stranger.waitForNextMessage()).text).toBe(
      '✅ Вам открыли доступ к тренажёру продаж. Отправьте /start, чтобы начать.',
    );
    stranger.sendText('/start');
    expect((await stranger.waitForMessage((m) => m.text.startsWith('Выберите сценарий'))).text).toBe(
      'Выберите сценарий тренировки:',
    );
  });

  it('/revoke shuts a person out at once; /allow lets them back', async () => {
    const admin = telegram.user(adminId);
    const petr = telegram.user(7402);

    admin.sendText('/revoke 7402');
    expect(clean((await admin.waitForMessage((m) => m.text.startsWith('🔒'))).text)).toBe(
      '🔒 Доступ для Пётр (7402) закрыт — сразу, даже если id есть в ALLOWED_USER_IDS. Вернуть: /allow 7402',
    );
    petr.sendText('/help');
    expect((await petr.waitForNextMessage()).text).toMatch(/^Доступ к тренажёру продаж для вас закрыт/);

    admin.sendText(`/revoke ${adminId}`);
    expect((await admin.waitForMessage((m) => m.text.includes('ADMIN_USER_IDS, командой'))).text).toContain('нельзя');

    admin.sendText('/allow 7402');
    expect((await admin.waitForMessage((m) => m.text.startsWith('✅ Готово'))).text).toBe(
      '✅ Готово: 7402 допущен. Пусть напишет боту /start.',
    );
    petr.sendText('/help');
    await petr.waitForMessage((m) => m.text.includes('/scenarios'));
  });

  it('managers and admins get their own command menu in their chat; trainees keep the default one', async () => {
    const names = (commands: unknown[]) => commands.map((c) => (c as { command: string }).command);
    expect(names(telegram.commands('', chatScope(adminId)))).toEqual(
      expect.arrayContaining(['scenarios', 'team', 'invite', 'allow', 'revoke', 'erase']),
    );
    expect(names(telegram.commands('', chatScope(managerId)))).toEqual(expect.arrayContaining(['scenarios', 'team', 'invite']));
    expect(names(telegram.commands('', chatScope(managerId)))).not.toContain('allow');
    expect(telegram.commands('', chatScope(7402))).toEqual([]);
    expect(names(telegram.commands('ru'))).not.toContain('team');
  });
});
