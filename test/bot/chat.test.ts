import { describe, expect, it } from 'vitest';
import { createHarness } from './harness.js';

function inTraining() {
  const bot = createHarness();
  const user = bot.services.access.allow(7001);
  bot.services.training.givenActive(user.id, 'cold-call');
  return { bot, user, anna: bot.user(7001), training: bot.services.training };
}

describe('a turn of the role-play', () => {
  it('passes the trainee’s text to the training and sends the client’s reply as written', async () => {
    const { anna, user, training } = inTraining();
    training.client = () => 'Дорого. <b>Очень</b> дорого & долго.';

    const reaction = await anna.send('Добрый день! Меня зовут Анна.');

    expect(training.callsOf('playTurn')).toEqual([
      [{ userId: user.id, text: 'Добрый день! Меня зовут Анна.', telegramMessageId: expect.any(Number) as unknown }],
    ]);
    expect(reaction.texts).toEqual(['Дорого. <b>Очень</b> дорого & долго.']);
    // Plain text: model output is never parsed as markup.
    expect(reaction.messages[0]?.parse_mode).toBeUndefined();
    expect(reaction.callsOf('sendChatAction')).toEqual([{ chat_id: 7001, action: 'typing' }]);
  });

  it('shows the reply as a live draft while it is generated, until the chat refuses drafts', async () => {
    const { bot, anna } = inTraining();

    const first = await anna.send('Добрый день!');
    expect(first.callsOf('sendMessageDraft')).toEqual([
      { chat_id: 7001, draft_id: expect.any(Number) as unknown, text: 'Клиент отвечает на: Добрый день!' },
    ]);

    bot.refuseNext('sendMessageDraft', { error_code: 400, description: 'Bad Request: drafts are not allowed in this chat' });
    await anna.send('Удобно говорить?');
    const third = await anna.send('Тогда коротко.');
    expect(third.callsOf('sendMessageDraft')).toEqual([]);
    expect(third.methods).toEqual(['sendChatAction', 'sendMessage']);
  });

  it('marks the reply delivered once Telegram has taken it', async () => {
    const { anna, training } = inTraining();

    await anna.send('Сколько у вас салонов?');

    expect(training.callsOf('markReplyDelivered')).toHaveLength(1);
  });

  it('sends a reply longer than one Telegram message in several', async () => {
    const { anna, training } = inTraining();
    const paragraph = 'Мы подумаем над вашим предложением. '.repeat(80).trim();
    training.client = () => `${paragraph}\n\n${paragraph}`;

    const reaction = await anna.send('Что скажете?');

    expect(reaction.texts).toEqual([paragraph, paragraph]);
  });

  it('without a running training, says how to start one', async () => {
    const bot = createHarness();
    bot.services.access.allow(7001);

    const reaction = await bot.user(7001).send('Здравствуйте');

    expect(reaction.texts).toEqual(['Сейчас нет активной тренировки. Выберите сценарий: /scenarios']);
    expect(bot.services.training.callsOf('markReplyDelivered')).toEqual([]);
  });

  it('leaves commands to their features: an unknown one is not a turn', async () => {
    const { anna, training } = inTraining();

    const reaction = await anna.send('/dance');

    expect(training.callsOf('playTurn')).toEqual([]);
    expect(reaction.texts).toEqual(['Не знаю такой команды. Список команд: /help']);
  });
});
