import { describe, expect, it } from 'vitest';
import type { TelegramId, UserId } from '../../src/db/ids.js';
import type { User } from '../../src/db/queries/users.js';
import { NotInTeamError } from '../../src/services/assignments.js';
import { FakeAssignments } from './assignments-fake.js';
import { fakeServices } from './fakes.js';
import { createHarness } from './harness.js';

const person = (id: number, firstName: string): User => ({
  id: id as UserId,
  telegramId: (8000 + id) as TelegramId,
  username: null,
  firstName,
  lastName: null,
  languageCode: 'ru',
  role: 'trainee',
  voiceReplies: null,
  managerId: null,
  createdAt: new Date('2026-01-01T00:00:00Z'),
});

function managerWithTeam() {
  const assignments = new FakeAssignments();
  assignments.people = [person(11, 'Иван'), person(12, 'Ольга')];
  const bot = createHarness({ services: { ...fakeServices(), assignments } });
  bot.services.access.allow(7500, { role: 'manager', firstName: 'Мария' });
  return { bot, assignments, maria: bot.user(7500) };
}

/** The data of the button labelled `label` in the last message with buttons. */
function button(reaction: { messages: readonly { buttons: { text: string; data: string }[] }[] }, label: string): string {
  const found = reaction.messages.flatMap((m) => m.buttons).find((b) => b.text === label);
  if (!found) throw new Error(`no button «${label}» in ${JSON.stringify(reaction.messages.map((m) => m.buttons))}`);
  return found.data;
}

describe('/assign', () => {
  it('a trainee is told that only managers assign', async () => {
    const bot = createHarness({ services: { ...fakeServices(), assignments: new FakeAssignments() } });
    bot.services.access.allow(7001);
    expect((await bot.user(7001).send('/assign')).texts).toEqual(['Назначать задания могут руководители и администраторы.']);
  });

  it('scenario → difficulty → pass mark → deadline (a past one and nonsense refused) → one person', async () => {
    const { maria, assignments } = managerWithTeam();
    const what = await maria.send('/assign');
    expect(what.texts[0]).toContain('Что назначить?');
    const difficulty = await maria.press(button(what, 'Холодный звонок'));
    expect(difficulty.texts.at(-1)).toBe('Сложность для «Холодный звонок»? Зачтётся попытка на этой сложности или выше.');
    const mark = await maria.press(button(difficulty, 'Средний'));
    const deadline = await maria.press(button(mark, '90'));
    expect(deadline.texts.at(-1)).toContain('Срок? Напишите число дней');
    expect((await maria.send('на следующей неделе')).texts).toEqual([
      'Не понял срок. Напишите число дней, например «3», или дату, например «15.12» или «15.12.2026».',
    ]);
    expect((await maria.send('01.12.2026')).texts).toEqual(['Этот срок уже прошёл. Укажите будущую дату или число дней.']);
    const who = await maria.send('15.12');
    expect(who.texts.at(-1)).toBe('Кому назначить?');
    expect(who.messages.at(-1)?.buttons.map((b) => b.text)).toEqual(['👥 Вся команда (2)', 'Иван', 'Ольга']);
    const done = await maria.press(button(who, 'Иван'));
    expect(assignments.assignCalls).toEqual([
      expect.objectContaining({
        work: { kind: 'scenario', scenarioKey: 'cold-call', difficulty: 'medium', passMark: 90 },
        dueAt: new Date('2026-12-15T15:00:00Z'),
        to: 11,
      }),
    ]);
    expect(done.texts.at(-1)).toContain('✅ Назначено: «Холодный звонок», Средний, проходной балл 90 — срок 15.12.2026, 18:00.');
  });

  it('a program to the whole team; who is in a training is named; outside the team is refused', async () => {
    const { maria, assignments } = managerWithTeam();
    assignments.assignResult = () =>
      Promise.resolve({
        assigned: [
          { user: person(11, 'Иван'), count: 1, inTraining: true },
          { user: person(12, 'Ольга'), count: 1, inTraining: false },
        ],
        alreadyAssigned: [],
      });
    const what = await maria.send('/assign');
    const deadline = await maria.press(button(what, '📚 Онбординг'));
    const who = await maria.send('3');
    const done = await maria.press(button(who, '👥 Вся команда (2)'));
    expect(done.texts.at(-1)).toBe(
      [
        '✅ Назначено: программа «Онбординг» (1 сценарий) — срок 05.12.2026, 18:00.',
        'Кому: Иван, Ольга',
        '',
        'Сейчас в тренировке: Иван. Задание сохранено — они увидят его и смогут начать, когда закончат текущую.',
      ].join('\n'),
    );
    expect(deadline.texts.at(-1)).toContain('Срок?');

    assignments.assignResult = () => Promise.reject(new NotInTeamError(11 as UserId));
    const again = await maria.send('/assign');
    await maria.press(button(again, '📚 Онбординг'));
    const who2 = await maria.send('3');
    const refused = await maria.press(button(who2, 'Иван'));
    expect(refused.texts.at(-1)).toBe('Этот сотрудник не в вашей команде — назначать можно только своей команде.');
  });

  it('/cancel leaves the flow', async () => {
    const { maria, assignments } = managerWithTeam();
    await maria.send('/assign');
    expect((await maria.send('/cancel')).texts).toEqual(['Назначение отменено.']);
    expect(assignments.assignCalls).toEqual([]);
  });
});
