import { describe, expect, it } from 'vitest';
import { decodeAdminCallback, decodeCallback, encodeCallback } from '../../src/bot/helpers/callback-data.js';
import { asTelegramId } from '../../src/db/ids.js';
import type { UserRole } from '../../src/db/queries/users.js';
import { createHarness } from './harness.js';
import { erasableTraineeId, fakeServices } from './fakes.js';

const admin = 8001;
const trainee = erasableTraineeId;

function world(role: UserRole = 'admin') {
  const services = fakeServices();
  const erasure = services.erase;
  const bot = createHarness({
    services,
    env: { ADMIN_USER_IDS: role === 'admin' ? String(admin) : '' },
  });
  bot.services.access.allow(admin, { role, firstName: 'Ольга' });
  return { bot, erasure, olga: bot.user(admin) };
}

describe('/erase', () => {
  it('an admin names the person, confirms with a button and is shown what was removed', async () => {
    const { erasure, olga } = world();

    const question = await olga.send(`/erase ${trainee}`);
    expect(question.texts).toEqual([
      `Удалить все данные о сотруднике \u2068Анна Стажёрова\u2069 (Telegram id ${trainee})?\n` +
        'Тренировок: 3. Переписка, оценки и его строки в Google-таблице будут удалены безвозвратно.',
    ]);
    expect(question.buttons).toEqual([
      { text: 'Да, удалить', data: `erase:yes:${trainee}` },
      { text: 'Отмена', data: `erase:no:${trainee}` },
    ]);
    expect(erasure.calls.map((c) => c.method)).toEqual(['preview']); // nothing deleted by the question

    const done = await olga.press(`erase:yes:${trainee}`);
    expect(done.methods.slice(0, 2)).toEqual(['answerCallbackQuery', 'editMessageReplyMarkup']);
    expect(erasure.calls).toEqual([
      { method: 'preview', args: [trainee] },
      { method: 'erase', args: [trainee] },
    ]);
    expect(done.texts).toEqual([
      'Удаляю…',
      [
        `Данные о Telegram id ${trainee} удалены.`,
        'Из базы удалено: сотрудник — 1, тренировок — 3, сообщений — 40, оценок — 2, входов по приглашению — 1, незаконченных диалогов с ботом — 0, записей очереди выгрузки в таблицу — 2.',
        'Google-таблица: с листа результатов удалено строк — 2, лист сотрудников переписан без него.',
        'После 31.01.2030 12:05 бот ещё раз просмотрит таблицу и удалит строку, если её успела дописать выгрузка, начатая до удаления.',
      ].join('\n\n'),
    ]);
  });

  it('says when the sheet part is queued because Google does not answer', async () => {
    const { erasure, olga } = world();
    erasure.sheet = { kind: 'queued', reason: 'google-unavailable' };
    await olga.send(`/erase ${trainee}`);
    const done = await olga.press(`erase:yes:${trainee}`);
    expect(done.texts.at(-1)).toContain(
      'Google-таблица: удалить строки сейчас не удалось — Google Sheets не отвечает.\nУдаление сохранено в очереди в базе',
    );
  });

  it('«Отмена» deletes nothing', async () => {
    const { erasure, olga } = world();
    await olga.send(`/erase ${trainee}`);
    const cancelled = await olga.press(`erase:no:${trainee}`);
    expect(cancelled.texts).toEqual(['Удаление отменено, ничего не изменилось.']);
    expect(erasure.calls.map((c) => c.method)).toEqual(['preview']);
  });

  it('an id nothing is stored about gets a plain answer and no button', async () => {
    const { olga } = world();
    const answer = await olga.send('/erase 123456');
    expect(answer.texts).toEqual(['О Telegram id 123456 в боте ничего не хранится.']);
    expect(answer.buttons).toEqual([]);
  });

  it('without an id, or with something else, explains how to call it', async () => {
    const { erasure, olga } = world();
    for (const text of ['/erase', '/erase @anna', '/erase 12 34', '/erase -5']) {
      const answer = await olga.send(text);
      expect(answer.texts[0]).toMatch(/^Укажите Telegram id того, чьи данные удалить: \/erase 123456789/);
    }
    expect(erasure.calls).toEqual([]);
  });

  it('a manager, not an admin, may not erase anyone, not even with a forged button', async () => {
    const { erasure, olga } = world('manager');
    expect((await olga.send(`/erase ${trainee}`)).texts).toEqual(['Удалять данные сотрудников могут только администраторы.']);
    const forged = await olga.pressForged(`erase:yes:${trainee}`);
    expect(forged.callbackAnswers).toEqual([
      { text: 'Удалять данные сотрудников могут только администраторы.', show_alert: true },
    ]);
    expect(forged.texts).toEqual([]);
    expect(erasure.calls).toEqual([]);
  });

  it('a button pressed twice erases once and then finds nothing', async () => {
    const { erasure, olga } = world();
    await olga.send(`/erase ${trainee}`);
    await olga.press(`erase:yes:${trainee}`);
    const again = await olga.pressForged(`erase:yes:${trainee}`);
    expect(again.texts.at(-1)).toContain(`О Telegram id ${trainee} в базе ничего не было.`);
    expect(erasure.calls.filter((c) => c.method === 'erase')).toHaveLength(2);
  });

  it('malformed erase buttons are outdated menus, not erasures', async () => {
    const { erasure, olga } = world();
    for (const data of ['erase:yes:', 'erase:maybe:5', 'erase:yes:0', 'erase:yes:99999999999999999', 'erase:yes:5:6']) {
      const answer = await olga.pressForged(data);
      expect(answer.callbackAnswers).toEqual([{ text: 'Это меню устарело. Откройте новое: /scenarios', show_alert: true }]);
    }
    expect(erasure.calls).toEqual([]);
  });
});

describe('the erase button data', () => {
  it('round-trips, fits 64 bytes with the longest id, and is never taken for a trainee button', () => {
    for (const answer of ['yes', 'no'] as const) {
      const action = { type: 'erase' as const, answer, telegramId: asTelegramId(9_007_199_254_740_991) };
      const data = encodeCallback(action);
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
      expect(decodeAdminCallback(data)).toEqual(action);
      expect(decodeCallback(data)).toBeUndefined();
    }
    expect(decodeAdminCallback('switch:yes')).toBeUndefined();
  });
});
