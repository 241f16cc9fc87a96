import { describe, expect, it } from 'vitest';
import { ModelUnavailableError } from '../../src/services/llm.js';
import { ScenarioNotFoundError } from '../../src/services/scenarios.js';
import { WARN } from '../support/log-capture.js';
import { createHarness } from './harness.js';

const ERROR = 50;

function trainee() {
  const bot = createHarness();
  const user = bot.services.access.allow(7001);
  return { bot, user, anna: bot.user(7001), training: bot.services.training };
}

/** The log lines at warn and above: the boundary writes exactly one per failed update. */
function problems(bot: ReturnType<typeof createHarness>) {
  return bot.logs().filter((line) => line.level >= WARN);
}

function databaseOutage(): Error {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  return new Error('Failed query: select 1', { cause: refused });
}

describe('the error boundary', () => {
  it('tells the trainee the database is unavailable when an outage outlasts the retries', async () => {
    const { bot, user, anna, training } = trainee();
    training.failNext('active', databaseOutage());

    const reaction = await anna.send('/finish');

    expect(reaction.texts).toEqual(['База данных бота сейчас недоступна. Подождите минуту и отправьте сообщение ещё раз.']);
    expect(bot.errorsCounted).toEqual(['database']);
    expect(problems(bot)).toEqual([
      expect.objectContaining({
        level: ERROR,
        msg: 'database unavailable longer than the retries wait',
        updateType: 'message',
        userId: user.id,
      }),
    ]);
  });

  it('covers the access gate too: an outage there gets the same message', async () => {
    const { bot, anna } = trainee();
    bot.services.access.failNext(databaseOutage());

    const reaction = await anna.send('Добрый день');

    expect(reaction.texts).toEqual(['База данных бота сейчас недоступна. Подождите минуту и отправьте сообщение ещё раз.']);
    expect(bot.services.training.calls).toEqual([]);
  });

  it('gives anything else the generic apology', async () => {
    const { bot, anna, training } = trainee();
    training.failNext('active', new TypeError('a bug'));

    const reaction = await anna.send('/finish');

    expect(reaction.texts).toEqual(['Что-то пошло не так. Попробуйте ещё раз; если повторится — сообщите руководителю.']);
    expect(bot.errorsCounted).toEqual(['other']);
    expect(problems(bot)).toEqual([
      expect.objectContaining({
        level: ERROR,
        msg: 'handler failed',
        err: expect.objectContaining({ message: 'a bug' }) as unknown,
      }),
    ]);
  });

  it('tells the trainee the client took too long, and that their message is kept', async () => {
    const { bot, user, anna, training } = trainee();
    training.givenActive(user.id, 'cold-call');
    training.client = () => {
      throw new ModelUnavailableError('timeout', 'no answer in 60 s');
    };

    const reaction = await anna.send('Сколько у вас салонов?');

    expect(reaction.texts).toEqual([
      'Клиент слишком долго думал, ответа нет.\nВаше сообщение сохранено — отправьте следующую реплику ещё раз через минуту.',
    ]);
    // Model failures are counted where they happen, not a second time here.
    expect(bot.errorsCounted).toEqual([]);
    expect(problems(bot)).toEqual([
      expect.objectContaining({ level: WARN, msg: "model timeout; the trainee's message is stored" }),
    ]);
  });

  it('tells the trainee the AI is unavailable when the model is down', async () => {
    const { user, anna, training } = trainee();
    training.givenActive(user.id, 'cold-call');
    training.client = () => {
      throw new ModelUnavailableError('unavailable', '503');
    };

    expect((await anna.send('Алло?')).texts).toEqual([
      'Клиент не смог ответить: сервис ИИ временно недоступен.\n' +
        'Ваше сообщение сохранено — отправьте следующую реплику чуть позже, и диалог продолжится.',
    ]);
  });

  it('says the scenario is gone when a session names a removed one', async () => {
    const { user, anna, training } = trainee();
    training.givenActive(user.id, 'cold-call');
    training.failNext('playTurn', new ScenarioNotFoundError('cold-call'));

    expect((await anna.send('Алло?')).texts).toEqual(['Сценарий этой тренировки больше недоступен. Выберите новый: /scenarios']);
  });

  it('does not try to apologise through Telegram when Telegram refused the bot’s own message', async () => {
    const { bot, anna } = trainee();
    bot.refuseNext('sendMessage', { error_code: 403, description: 'Forbidden: bot was blocked by the user' });

    const reaction = await anna.send('/history');

    expect(reaction.methods).toEqual(['sendMessage']);
    expect(bot.errorsCounted).toEqual(['telegram']);
    expect(problems(bot)).toEqual([expect.objectContaining({ level: ERROR, msg: 'Telegram refused sendMessage' })]);
  });

  it('stops the spinner of a pressed button before apologising', async () => {
    const { bot, anna } = trainee();
    bot.services.access.failNext(new TypeError('a bug'));

    const reaction = await anna.pressForged('sd:cold-call:easy');

    expect(reaction.methods).toEqual(['answerCallbackQuery', 'sendMessage']);
    expect(reaction.callbackAnswers).toEqual([{}]);
    expect(reaction.texts).toEqual(['Что-то пошло не так. Попробуйте ещё раз; если повторится — сообщите руководителю.']);
  });

  it('covers the conversations: a failure inside the switch question is apologised for, and the bot goes on', async () => {
    const { bot, user, anna, training } = trainee();
    training.givenActive(user.id, 'cold-call');
    await anna.pressForged('sd:upsell:easy');
    training.failNext('abandon', databaseOutage());

    const failed = await anna.press('switch:yes');
    expect(failed.texts).toEqual(['База данных бота сейчас недоступна. Подождите минуту и отправьте сообщение ещё раз.']);
    expect(problems(bot)).toHaveLength(1);

    const next = await anna.send('Продолжим');
    expect(next.texts).toEqual(['Клиент отвечает на: Продолжим']);
  });
});
