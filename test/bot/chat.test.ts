import { describe, expect, it } from 'vitest';
import type { BotTraining } from '../../src/bot/services.js';
import type { UserId } from '../../src/db/ids.js';
import type { ActiveTraining, TurnResult } from '../../src/services/training/index.js';
import { defaultEvaluation, FakeTraining, fakeServices } from './fakes.js';
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

/**
 * The fake training with a client that can hang up, as the real one does: the turn's answer says
 * so, then the session shows the line closed and every later turn is refused by the service.
 */
class CallTraining extends FakeTraining {
  /** Trainee lines after which the client says its goodbye and hangs up. */
  readonly hangUpAfter = new Set<string>();
  /** `active` still shows the line open: a turn that raced the hang-up is refused by the service alone. */
  staleActive = false;
  private readonly closed = new Set<UserId>();

  override async active(userId: UserId): Promise<ActiveTraining | undefined> {
    const training = await super.active(userId);
    if (!training || !this.closed.has(userId) || this.staleActive) return training;
    return { ...training, session: { ...training.session, clientHungUpAt: new Date('2030-01-01T09:05:00Z') } };
  }

  override async playTurn(input: Parameters<BotTraining['playTurn']>[0]): Promise<TurnResult> {
    if (this.closed.has(input.userId)) {
      this.calls.push({ method: 'playTurn', args: [{ userId: input.userId, text: input.text }] });
      return { kind: 'hung-up' };
    }
    return this.closing(input.userId, input.text, await super.playTurn(input));
  }

  override async playSpokenTurn(input: Parameters<BotTraining['playSpokenTurn']>[0]): Promise<TurnResult> {
    if (this.closed.has(input.userId)) {
      this.calls.push({ method: 'playSpokenTurn', args: [{ userId: input.userId }] });
      return { kind: 'hung-up' };
    }
    let heard = '';
    const result = await super.playSpokenTurn({
      ...input,
      onTranscript: async (transcript) => {
        heard = transcript;
        await input.onTranscript(transcript);
      },
    });
    return this.closing(input.userId, heard, result);
  }

  private closing(userId: UserId, said: string, result: TurnResult): TurnResult {
    if (result.kind !== 'answered') return result;
    const clientHungUp = this.hangUpAfter.has(said);
    if (clientHungUp) this.closed.add(userId);
    return { ...result, clientHungUp };
  }
}

/** A trainee in a training whose client hangs up after «Ну подумайте ещё!». */
function inCall() {
  const services = fakeServices();
  const training = new CallTraining(services.scenarios);
  const bot = createHarness({ services: { ...services, training } });
  const user = services.access.allow(7001);
  training.givenActive(user.id, 'cold-call');
  training.hangUpAfter.add('Ну подумайте ещё!');
  training.client = (text) => (training.hangUpAfter.has(text) ? 'Я же сказала — до свидания.' : `Клиент отвечает на: ${text}`);
  return { bot, user, anna: bot.user(7001), training };
}

describe('the client hanging up', () => {
  const hungUp = '📞 Клиент положил трубку. Отправьте /finish, чтобы получить оценку, или /scenarios, чтобы начать заново.';
  const callOver =
    '📞 Клиент уже положил трубку — он вас не слышит. Отправьте /finish, чтобы получить оценку разговора, или /scenarios, чтобы начать заново.';

  it('its goodbye arrives as a reply, then the bot says the client hung up and offers /finish', async () => {
    const { anna, training } = inCall();

    const reaction = await anna.send('Ну подумайте ещё!');

    expect(reaction.texts).toEqual(['Я же сказала — до свидания.', hungUp]);
    expect(training.callsOf('markReplyDelivered')).toHaveLength(1);
  });

  it('after it, a text is not a turn: «Клиент уже положил трубку…», no typing, nothing asked', async () => {
    const { anna, training } = inCall();
    await anna.send('Ну подумайте ещё!');

    const reaction = await anna.send('Алло? Ирина Сергеевна, вы тут?');

    expect(reaction.texts).toEqual([callOver]);
    expect(reaction.methods).toEqual(['sendMessage']);
    expect(training.callsOf('playTurn')).toHaveLength(1);
  });

  it('a turn that raced the hang-up is refused by the training with the same answer', async () => {
    const { anna, training } = inCall();
    await anna.send('Ну подумайте ещё!');
    training.staleActive = true;

    const reaction = await anna.send('Подождите!');

    expect(reaction.texts).toEqual([callOver]);
    expect(training.callsOf('markReplyDelivered')).toHaveLength(1);
  });

  it('/finish still scores the call', async () => {
    const { anna, training } = inCall();
    training.judge = () => ({ ...defaultEvaluation, facts: [] });
    await anna.send('Ну подумайте ещё!');

    const reaction = await anna.send('/finish');

    expect(reaction.texts.join('\n')).toContain('70/100');
  });
});
