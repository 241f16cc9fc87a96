import { describe, expect, it } from 'vitest';
import { TurnLimits } from '../../src/bot/helpers/turn-limits.js';
import { FakeBudgets, fakeServices } from './fakes.js';
import { createHarness } from './harness.js';

function inTraining(limits = { turnsPerMinute: 20, turnBurst: 2, finishesPerHour: 1 }) {
  const clock = { now: 0 };
  const budgets = new FakeBudgets();
  const services = { ...fakeServices(), limits: new TurnLimits(limits, budgets, undefined, () => clock.now) };
  const bot = createHarness({ services, env: { TEAM_TIME_ZONE: 'Europe/Moscow' } });
  const user = bot.services.access.allow(7001);
  bot.services.training.givenActive(user.id, 'cold-call');
  return { bot, user, clock, budgets, anna: bot.user(7001), training: bot.services.training };
}

describe('per-person limits', () => {
  it('refuses texts over the turn rate with one clear notice, never passes them to the client, and lets the next one through', async () => {
    const { anna, clock, training } = inTraining();
    await anna.send('Добрый день!');
    await anna.send('Меня зовут Анна.');

    const refused = await anna.send('Компания «Сделка+».');
    expect(refused.texts).toEqual([
      [
        '⏸ Слишком много сообщений подряд — клиент отвечает на реплики по одной.',
        'Это сообщение клиенту не передано, как и те, что придут в ближайшие 3 с. Отправьте его ещё раз чуть позже — диалог сохранён.',
      ].join('\n'),
    ]);
    // The rest of the flood gets no answer at all: the notice said so, and a bot answering a flood is a flood too.
    const quiet = await anna.send('Алло?');
    expect(quiet.texts).toEqual([]);

    clock.now = 3_000;
    const again = await anna.send('Компания «Сделка+».');
    expect(again.texts).toHaveLength(1);
    expect(training.callsOf('playTurn').map(([input]) => (input as { text: string }).text)).toEqual([
      'Добрый день!',
      'Меня зовут Анна.',
      'Компания «Сделка+».',
    ]);
  });

  it('holds voice notes to the same pace, and /hint to the day’s budget', async () => {
    const { anna, budgets, training } = inTraining();
    const note = new TextEncoder().encode('Добрый день');
    await anna.sendVoice(note, 2);
    await anna.sendVoice(note, 2);
    const refused = await anna.sendVoice(note, 2);
    expect(refused.texts[0]).toContain('Слишком много сообщений подряд');
    expect(training.callsOf('playSpokenTurn')).toHaveLength(2);

    budgets.verdict = { kind: 'user-spent', resetsAt: new Date('2026-12-02T21:00:00Z') };
    const hint = await anna.send('/hint');
    expect(hint.texts).toEqual([
      [
        'На сегодня лимит работы с моделью исчерпан, поэтому подсказки недоступны до 03.12.2026 00:00.',
        'Диалог сохранён; оценку можно получить и сейчас — /finish.',
      ].join('\n'),
    ]);
  });

  it('says when a spent day renews, and that a team budget can be raised; /finish still runs the judge', async () => {
    const { anna, user, budgets, training } = inTraining();
    budgets.verdict = { kind: 'user-spent', resetsAt: new Date('2026-12-02T21:00:00Z') };
    const own = await anna.send('Добрый день!');
    expect(own.texts).toEqual([
      [
        'На сегодня ваш лимит работы с моделью исчерпан. Это сообщение клиенту не передано.',
        'Лимит обновится 03.12.2026 00:00. Диалог сохранён; оценку можно получить и сейчас — /finish.',
      ].join('\n'),
    ]);
    expect(budgets.checked.map((person) => person.id)).toEqual([user.id]);

    budgets.verdict = { kind: 'team-spent', resetsAt: new Date('2026-12-02T21:00:00Z') };
    const team = await anna.send('Добрый день!');
    expect(team.texts[0]).toContain('Дневной лимит вашей команды на работу с моделью исчерпан.');
    expect(team.texts[0]).toContain('попросите руководителя или администратора поднять лимит команды');
    expect(training.callsOf('playTurn')).toEqual([]);

    training.givenActive(user.id, 'cold-call', 'easy', ['Добрый день!']);
    const finished = await anna.send('/finish');
    expect(training.callsOf('finish')).toHaveLength(1);
    expect(finished.texts.join('\n')).toMatch(/\d+\/100/);
  });

  it('refuses /finish over its hourly rate and keeps the session', async () => {
    const { anna, training } = inTraining();
    training.judge = () => {
      throw new Error('judge down');
    };
    await anna.send('/finish'); // the one /finish of the hour (it failed, but the judge was asked)
    const refused = await anna.send('/finish');
    expect(refused.texts).toEqual([
      [
        '⏸ Оценку в этот час запрашивали уже много раз. Следующую можно получить через 60 мин.',
        'Диалог сохранён: продолжайте разговор с клиентом или вернитесь к /finish позже.',
      ].join('\n'),
    ]);
    expect(training.callsOf('finish')).toHaveLength(1);
  });
});
