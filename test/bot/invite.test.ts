import { describe, expect, it } from 'vitest';
import type { UserRole } from '../../src/db/queries/users.js';
import { createHarness } from './harness.js';

const menuOutdated = { text: 'Это меню устарело. Откройте новое: /scenarios', show_alert: true };

function staff(role: UserRole, env: Record<string, string> = { ACCESS_MODE: 'invite' }) {
  const bot = createHarness({ env });
  const user = bot.services.access.allow(8001, { role, firstName: 'Ольга' });
  return { bot, user, olga: bot.user(8001), team: bot.services.team };
}

describe('/invite', () => {
  it('a manager answers two questions with buttons and gets a link for trainees', async () => {
    const { olga, user, team } = staff('manager');

    const uses = await olga.send('/invite');
    expect(uses.texts).toEqual(['Сколько человек смогут войти по приглашению?']);
    expect(uses.buttons).toEqual([
      { text: '1', data: 'invite:0' },
      { text: '5', data: 'invite:1' },
      { text: '20', data: 'invite:2' },
      { text: '100', data: 'invite:3' },
    ]);

    const days = await olga.press('invite:1');
    expect(days.methods).toEqual(['answerCallbackQuery', 'editMessageReplyMarkup', 'sendMessage']);
    expect(days.texts).toEqual(['Сколько дней действует приглашение?']);
    expect(days.buttons.map((b) => b.text)).toEqual(['1', '7', '30']);

    const created = await olga.press('invite:2');
    expect(team.calls).toEqual([
      { method: 'createInvite', args: [{ createdBy: user.id, role: 'trainee', maxUses: 5, days: 30 }] },
    ]);
    expect(created.texts).toEqual([
      'Приглашение готово: до 5 чел., действует до 31.01.2030, 12:00.\n' +
        'Отправьте эту ссылку сотрудникам:\n' +
        'https://t.me/sales_trainer_bot?start=Invite-Code-42',
    ]);
  });

  it('an admin also chooses whether the invitees become managers', async () => {
    const { olga, team } = staff('admin');
    await olga.send('/invite');
    await olga.press('invite:0');

    const role = await olga.press('invite:1');
    expect(role.texts).toEqual(['Кем будут приглашённые?']);
    expect(role.buttons).toEqual([
      { text: 'Стажёрами', data: 'invite:0' },
      { text: 'Руководителями', data: 'invite:1' },
    ]);

    await olga.press('invite:1');
    expect(team.calls.map((call) => call.args[0])).toEqual([
      { createdBy: expect.any(Number) as unknown, role: 'manager', maxUses: 1, days: 7 },
    ]);
  });

  it('hands out the link in allowlist mode too, with no warning: invites work in every access mode', async () => {
    const { olga } = staff('manager', { ACCESS_MODE: 'allowlist' });
    await olga.send('/invite');
    await olga.press('invite:0');

    const created = await olga.press('invite:0');

    expect(created.texts).toHaveLength(1);
    expect(created.texts[0]).toMatch(/^Приглашение готово: до 1 чел\./);
    expect(created.texts[0]).not.toMatch(/ACCESS_MODE/);
  });

  it('a text instead of a button gets a reminder, and the question stays', async () => {
    const { olga, team } = staff('manager');
    await olga.send('/invite');

    const reminder = await olga.send('пять');
    expect(reminder.texts).toEqual(['Выберите вариант кнопкой ниже или отправьте /cancel.']);

    expect((await olga.press('invite:1')).texts).toEqual(['Сколько дней действует приглашение?']);
    await olga.press('invite:0');
    expect(team.calls.map((call) => call.args[0])).toEqual([expect.objectContaining({ maxUses: 5, days: 1 })]);
  });

  it('/cancel ends the flow: no invite, and the question’s buttons are outdated', async () => {
    const { olga, team } = staff('manager');
    await olga.send('/invite');

    const cancelled = await olga.send('/cancel');

    expect(cancelled.texts).toEqual(['Создание приглашения отменено.']);
    expect((await olga.press('invite:1')).callbackAnswers).toEqual([menuOutdated]);
    expect(team.calls).toEqual([]);
  });

  it('another command leaves the flow and runs as usual', async () => {
    const { olga, team } = staff('manager');
    await olga.send('/invite');

    const history = await olga.send('/history');

    expect(history.texts).toEqual(['Вы ещё не проходили тренировок. Начать: /scenarios']);
    expect((await olga.press('invite:1')).callbackAnswers).toEqual([menuOutdated]);
    expect(team.calls).toEqual([]);
  });

  it('is refused to a trainee', async () => {
    const { olga, bot } = staff('trainee');

    const reaction = await olga.send('/invite');

    expect(reaction.texts).toEqual(['Создавать приглашения могут руководители и администраторы.']);
    expect(bot.conversationStates.size).toBe(0);
  });
});
