import { describe, expect, it } from 'vitest';
import { createHarness } from './harness.js';

function trainee() {
  const bot = createHarness();
  const user = bot.services.access.allow(7001);
  bot.services.training.givenActive(user.id, 'cold-call');
  return { bot, anna: bot.user(7001), training: bot.services.training };
}

describe('what the bot does not handle', () => {
  it('a sticker: the client cannot see it', async () => {
    const { anna, training } = trainee();

    const reaction = await anna.sendMessage({
      sticker: {
        file_id: 's1',
        file_unique_id: 'u1',
        type: 'regular',
        width: 512,
        height: 512,
        is_animated: false,
        is_video: false,
      },
    });

    expect(reaction.texts).toEqual(['Стикер — это мило, но клиент его не увидит 🙂 Напишите ответ текстом.']);
    expect(training.callsOf('playTurn')).toEqual([]);
  });

  it('a photo: only text', async () => {
    const { anna } = trainee();

    const reaction = await anna.sendMessage({ photo: [{ file_id: 'p1', file_unique_id: 'u3', width: 90, height: 90 }] });

    expect(reaction.texts).toEqual(['Я понимаю только текст. Напишите реплику для клиента сообщением.']);
  });

  it('an edited message is not passed on to the client', async () => {
    const { anna, training } = trainee();

    const reaction = await anna.edit('Исправленная реплика');

    expect(reaction.texts).toEqual(['Изменённые сообщения не пересылаются клиенту. Напишите новую реплику.']);
    expect(training.callsOf('playTurn')).toEqual([]);
  });

  it('anything else (a location) points to /help', async () => {
    const { anna } = trainee();

    const reaction = await anna.sendMessage({ location: { latitude: 55.75, longitude: 37.62 } });

    expect(reaction.texts).toEqual(['Не понял сообщение. Список команд: /help']);
  });

  it('/cancel is not an unknown command: it asks about the running training (cancel.test.ts)', async () => {
    const { anna } = trainee();

    expect((await anna.send('/cancel')).texts).toEqual(['Прервать тренировку «Холодный звонок» без оценки?']);
  });

  it('a button the bot does not know (forged, or from an old version) is called outdated', async () => {
    const { anna } = trainee();

    for (const reaction of [
      await anna.pressForged('xx:forged'),
      await anna.pressForged('sc:cold-call', { withoutMessage: true }),
    ]) {
      expect(reaction.methods).toEqual(['answerCallbackQuery']);
      expect(reaction.callbackAnswers).toEqual([{ text: 'Это меню устарело. Откройте новое: /scenarios', show_alert: true }]);
    }
  });
});
