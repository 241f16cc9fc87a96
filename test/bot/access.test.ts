import { describe, expect, it } from 'vitest';
import { INFO } from '../support/log-capture.js';
import { createHarness } from './harness.js';

const refusal =
  'Извините, у вас пока нет доступа к тренажёру продаж.\nВаш Telegram id: 9009 — передайте его руководителю, чтобы вас добавили.';

describe('the access gate', () => {
  it('a refused stranger is told their Telegram id and never reaches the services', async () => {
    const bot = createHarness();
    const stranger = bot.user(9009, { firstName: 'Гость' });

    const reactions = [await stranger.send('/start'), await stranger.send('Добрый день'), await stranger.send('/finish')];

    expect(reactions.map((reaction) => reaction.texts)).toEqual([[refusal], [refusal], [refusal]]);
    expect(bot.services.training.calls).toEqual([]);
    expect(bot.services.team.calls).toEqual([]);
    expect(bot.services.hints!.requests).toEqual([]);
    expect(bot.conversationStates.size).toBe(0);
    const refused = bot.logs().filter((line) => line.msg === 'access refused');
    expect(refused).toHaveLength(3);
    expect(refused[0]).toMatchObject({ level: INFO, telegramId: 9009, reason: 'not-allowed' });
  });

  it('a refused stranger pressing a button gets the refusal as an alert, and nothing happens', async () => {
    const bot = createHarness();

    const reaction = await bot.user(9009).pressForged('sd:cold-call:easy');

    expect(reaction.methods).toEqual(['answerCallbackQuery']);
    expect(reaction.callbackAnswers).toEqual([{ text: refusal, show_alert: true }]);
    expect(bot.services.training.calls).toEqual([]);
  });

  it('in invite mode, a stranger is told to ask for an invite', async () => {
    const bot = createHarness();
    bot.services.access.refusal = 'needs-invite';

    const reaction = await bot.user(9009).send('/start');

    expect(reaction.texts).toEqual([
      'Тренажёр работает по приглашениям. Попросите у руководителя ссылку-приглашение и откройте её.\nВаш Telegram id: 9009',
    ]);
  });

  it('a newcomer with an invite link is welcomed into the team, then sees the menu', async () => {
    const bot = createHarness();
    bot.services.access.invites.set('Invite-Code-42', 'trainee');

    const reaction = await bot.user(8100, { firstName: 'Пётр' }).send('/start Invite-Code-42');

    expect(bot.services.access.calls.map((call) => call.args[1])).toEqual(['Invite-Code-42']);
    expect(reaction.texts).toEqual([
      'Приглашение принято, добро пожаловать в команду!',
      expect.stringMatching(/^Здравствуйте, Пётр! Это тренажёр продаж\./),
      'Выберите сценарий тренировки:',
    ]);
  });

  it('hands the gate the sender’s Telegram profile', async () => {
    const bot = createHarness();
    bot.services.access.allow(7001);

    await bot.user(7001, { firstName: 'Анна', languageCode: 'ru' }).send('/help');

    expect(bot.services.access.calls).toEqual([
      {
        method: 'admit',
        args: [{ telegramId: 7001, username: undefined, firstName: 'Анна', lastName: undefined, languageCode: 'ru' }, undefined],
      },
    ]);
  });

  it('says in one line that training is one to one and leaves a group it was added to, reading nothing', async () => {
    const bot = createHarness();
    bot.services.access.allow(7001);
    const anna = bot.user(7001);

    const inGroup = await anna.sendMessage({ text: 'Всем привет', chat: { id: -100500, type: 'group', title: 'Отдел продаж' } });

    expect(inGroup.methods).toEqual(['sendMessage', 'leaveChat']);
    expect(inGroup.texts[0]).toMatch(
      /^Тренировки проходят в личном чате с ботом: откройте @\w+ и нажмите «Старт»\. Из группы я выхожу\.$/,
    );
    expect(inGroup.callsOf('leaveChat')).toEqual([{ chat_id: -100500 }]);
    expect(bot.services.access.calls).toEqual([]);
  });

  it('ignores other bots entirely: no answer, not even a look-up', async () => {
    const bot = createHarness();
    const fromBot = await bot
      .user(7777)
      .sendMessage({ text: '/start', from: { id: 7777, is_bot: true, first_name: 'Другой бот' } });

    expect(fromBot.calls).toEqual([]);
    expect(bot.services.access.calls).toEqual([]);
  });

  it('a person whose role changed gets the menu of the new role in their chat; a demoted one the default again', async () => {
    const bot = createHarness();
    const access = bot.services.access;
    const lead = access.allow(7100, { role: 'manager' });
    const admit = access.admit.bind(access);
    access.admit = async (...args) => ({ ...(await admit(...args)), menuChanged: true });

    const promoted = await bot.user(7100, { languageCode: 'en' }).send('/help');
    const [menu] = promoted.callsOf('setMyCommands');
    expect(menu!.scope).toEqual({ type: 'chat', chat_id: 7100 });
    const commands = (menu!.commands as Array<{ command: string; description: string }>).map((c) => c.command);
    expect(commands).toEqual([
      'scenarios',
      'tasks',
      'finish',
      'cancel',
      'hint',
      'voice',
      'history',
      'stats',
      'help',
      'team',
      'assign',
      'invite',
    ]);

    Object.assign(lead, { role: 'trainee' });
    const demoted = await bot.user(7100).send('/help');
    expect(demoted.callsOf('deleteMyCommands')).toEqual([{ scope: { type: 'chat', chat_id: 7100 } }]);
    expect(demoted.callsOf('setMyCommands')).toEqual([]);
  });

  it('a refused person has their refusal first, then admins are told (the service decides whether, once a day)', async () => {
    const bot = createHarness();
    bot.services.access.refusal = 'revoked';
    const revoked = await bot.user(9010).send('Привет');
    expect(revoked.texts).toEqual([
      'Доступ к тренажёру продаж для вас закрыт. Если это ошибка, обратитесь к руководителю.\nВаш Telegram id: 9010',
    ]);
    bot.services.access.refusal = 'not-allowed';
    await bot.user(9011).send('Привет');
    // Revoked people were shut out on purpose: nobody is asked about them.
    expect(bot.services.access.refusalsTold).toEqual([9011]);
  });
});
