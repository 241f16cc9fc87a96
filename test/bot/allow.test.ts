import { describe, expect, it } from 'vitest';
import type { User } from '../../src/db/queries/users.js';
import type { UserId } from '../../src/db/ids.js';
import { createHarness } from './harness.js';

const adminId = 9100;
/** Names inside texts are wrapped in Unicode isolation marks (helpers/bidi.ts). */
const iso = (text: string) => `\u2068${text}\u2069`;

function admin() {
  const bot = createHarness({ env: { ADMIN_USER_IDS: String(adminId) } });
  bot.services.access.allow(adminId, { role: 'admin', firstName: 'Админ' });
  return { bot, access: bot.services.access, anna: bot.user(adminId) };
}

const ivanova = { id: 7 as UserId, firstName: 'Ольга', lastName: 'Иванова', username: 'ivanova' } as User;

describe('/allow', () => {
  it('lets a person in by Telegram id, into a manager’s team when one is named', async () => {
    const { access, anna } = admin();

    access.grantResult = { kind: 'allowed' };
    expect((await anna.send('/allow 123456789')).texts).toEqual(['✅ Готово: 123456789 допущен. Пусть напишет боту /start.']);
    access.grantResult = { kind: 'allowed', manager: ivanova };
    expect((await anna.send('/allow 123456789 @ivanova')).texts).toEqual([
      `✅ Готово: 123456789 допущен и в команде ${iso('Ольга Иванова')}. Пусть напишет боту /start.`,
    ]);
    expect(access.accessCalls).toEqual([
      { method: 'grant', args: [123456789, adminId, undefined] },
      { method: 'grant', args: [123456789, adminId, '@ivanova'] },
    ]);
  });

  it('tells a person who had been refused that they are in, in their language', async () => {
    const { bot, access, anna } = admin();
    access.grantResult = {
      kind: 'allowed',
      request: { telegramId: 5150, languageCode: 'en' } as never,
    };

    const reaction = await anna.send('/allow 5150');

    expect(reaction.callsOf('sendMessage').map((payload) => [payload.chat_id, payload.text])).toEqual([
      [adminId, '✅ Готово: 5150 допущен. Пусть напишет боту /start.'],
      [5150, '✅ You now have access to the sales trainer. Send /start to begin.'],
    ]);
    expect(bot.logs().some((line) => line.msg === '/allow' && line.result === 'allowed')).toBe(true);
  });

  it('answers each bad case clearly', async () => {
    const { access, anna } = admin();
    const usage = (await anna.send('/allow')).texts[0]!;
    expect(usage).toMatch(/^Как допустить человека: \/allow <Telegram id> \[<руководитель>\]/);
    for (const garbage of ['/allow abc', '/allow -5', '/allow 12345678901234567890', '/allow 1 @a extra']) {
      expect((await anna.send(garbage)).texts).toEqual([usage]);
    }
    expect(access.accessCalls).toEqual([]);

    access.grantResult = { kind: 'already-allowed' };
    expect((await anna.send('/allow 42')).texts).toEqual(['42 уже допущен — ничего менять не нужно.']);
    access.grantResult = { kind: 'manager-unknown' };
    expect((await anna.send('/allow 42 @nobody')).texts).toEqual([
      `Не нашёл руководителя «${iso('@nobody')}». Укажите Telegram id или @username человека, который уже пользуется ботом.`,
    ]);
    access.grantResult = { kind: 'not-a-manager', manager: { ...ivanova, username: null } };
    expect((await anna.send('/allow 42 7007')).texts).toEqual([
      `${iso('Ольга Иванова')} не руководитель: в команду можно поместить только к руководителю или администратору.`,
    ]);
  });

  it('a manager is told to use /invite; a trainee that only admins may; nobody is let in', async () => {
    const bot = createHarness({ env: { ADMIN_USER_IDS: String(adminId) } });
    bot.services.access.allow(8001, { role: 'manager' });
    bot.services.access.allow(8002, { role: 'trainee' });

    expect((await bot.user(8001).send('/allow 42')).texts).toEqual([
      'Допускать людей командой /allow могут только администраторы. Чтобы добавить человека в свою команду, отправьте ему приглашение: /invite',
    ]);
    expect((await bot.user(8002).send('/allow 42')).texts).toEqual(['Допускать людей могут только администраторы.']);
    expect((await bot.user(8001).send('/revoke 42')).texts).toEqual(['Закрывать доступ могут только администраторы.']);
    expect(bot.services.access.accessCalls).toEqual([]);
  });
});

describe('/revoke', () => {
  it('closes access and says each other case clearly', async () => {
    const { access, anna } = admin();
    const revoke = async (text: string) => (await anna.send(text)).texts;

    access.revokeResult = { kind: 'revoked', person: { ...ivanova, telegramId: 42 } as User };
    expect(await revoke('/revoke 42')).toEqual([
      `🔒 Доступ для ${iso('Ольга Иванова')} (42) закрыт — сразу, даже если id есть в ALLOWED_USER_IDS. Вернуть: /allow 42`,
    ]);
    access.revokeResult = { kind: 'admin' };
    expect(await revoke(`/revoke ${adminId}`)).toEqual([
      `${adminId} — администратор из ADMIN_USER_IDS, командой закрыть ему доступ нельзя. Уберите id из ADMIN_USER_IDS и перезапустите бота.`,
    ]);
    access.revokeResult = { kind: 'already-revoked' };
    expect(await revoke('/revoke 42')).toEqual(['Доступ для 42 уже закрыт.']);
    access.revokeResult = { kind: 'not-allowed' };
    expect(await revoke('/revoke 43')).toEqual(['У 43 и так нет доступа: этот человек не допущен и ботом не пользовался.']);
    expect(await revoke('/revoke сорок два')).toEqual(['Как закрыть доступ: /revoke <Telegram id>\nНапример: /revoke 123456789']);
    expect(access.accessCalls.map((call) => call.args[0])).toEqual([42, adminId, 42, 43]);
  });
});

describe('«Допустить» under a refused person’s notice', () => {
  it('lets them in, takes the button away and tells both sides', async () => {
    const { access, anna } = admin();
    access.admitResult = { kind: 'allowed', manager: ivanova, request: { telegramId: 5150, languageCode: 'ru' } as never };

    const reaction = await anna.pressForged('admit:5150');

    expect(reaction.methods).toEqual(['answerCallbackQuery', 'editMessageReplyMarkup', 'sendMessage', 'sendMessage']);
    expect(reaction.callsOf('sendMessage').map((payload) => [payload.chat_id, payload.text])).toEqual([
      [adminId, `✅ 5150 допущен и в команде ${iso('Ольга Иванова')}; я сообщил ему об этом.`],
      [5150, '✅ Вам открыли доступ к тренажёру продаж. Отправьте /start, чтобы начать.'],
    ]);
    expect(access.accessCalls).toEqual([{ method: 'admitRequest', args: [5150, adminId] }]);
  });

  it('pressed by someone who may not, or twice: a clear answer and nobody is told', async () => {
    const { access, anna } = admin();
    access.admitResult = { kind: 'forbidden' };
    const forbidden = await anna.pressForged('admit:5150');
    expect(forbidden.callbackAnswers).toEqual([
      {
        text: 'Допустить этого человека может администратор или руководитель, по чьему приглашению он пришёл.',
        show_alert: true,
      },
    ]);
    expect(forbidden.methods).toEqual(['answerCallbackQuery']);

    access.admitResult = { kind: 'already-allowed' };
    const twice = await anna.pressForged('admit:5150');
    expect(twice.texts).toEqual(['5150 уже допущен.']);
  });
});
