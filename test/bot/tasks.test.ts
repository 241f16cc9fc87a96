import { describe, expect, it } from 'vitest';
import { fakeServices } from './fakes.js';
import { assignment, FakeAssignments } from './assignments-fake.js';
import { createHarness } from './harness.js';

function trainee() {
  const assignments = new FakeAssignments();
  const bot = createHarness({ services: { ...fakeServices(), assignments } });
  const user = bot.services.access.allow(7001, { firstName: 'Иван' });
  return { bot, user, assignments, ivan: bot.user(7001) };
}

describe('/tasks', () => {
  it('says there are none and points to practice', async () => {
    const { ivan } = trainee();
    expect((await ivan.send('/tasks')).texts).toEqual(['Открытых заданий нет. Можно потренироваться: /scenarios']);
  });

  it('lists open assignments with a start button each; the button starts the assigned difficulty', async () => {
    const { bot, ivan, user, assignments } = trainee();
    assignments.open = [assignment({ id: 5, userId: user.id, scenarioKey: 'cold-call', difficulty: 'medium' })];
    const reaction = await ivan.send('/tasks');
    expect(reaction.texts[0]).toBe(
      [
        'Ваши задания (зачтётся попытка на указанной сложности или выше):',
        '• «Холодный звонок», Средний — проходной балл 80, срок 05.12.2026, 18:00',
      ].join('\n'),
    );
    expect(reaction.messages[0]?.buttons).toEqual([{ text: '▶️ Холодный звонок', data: 'task:5' }]);

    const started = await ivan.press('task:5');
    expect(started.texts[0]).toContain('Холодный звонок');
    expect(bot.services.training.callsOf('start')).toEqual([[user.id, 'cold-call', 'medium']]);
  });

  it("refuses someone else's or a closed assignment with a clear line", async () => {
    const { ivan, assignments } = trainee();
    assignments.open = [assignment({ id: 9, userId: 999 as never, scenarioKey: 'cold-call' })];
    const reaction = await ivan.pressForged('task:9');
    expect(reaction.calls.find((c) => c.method === 'answerCallbackQuery')?.payload.text).toBe(
      'Это задание уже закрыто или не ваше. Открытые задания: /tasks',
    );
  });
});

describe('under an evaluation', () => {
  for (const [verdict, line] of [
    [{ kind: 'passed', passMark: 80 }, '<b>Задание зачтено ✅ (проходной балл 80)</b>'],
    [{ kind: 'failed', passMark: 80 }, '<b>Задание не зачтено (проходной балл 80). Попробуйте ещё раз: /tasks</b>'],
    [{ kind: 'practice' }, '<i>Практика — эта тренировка не входит в задания.</i>'],
  ] as const) {
    it(`shows «${verdict.kind}» under the title`, async () => {
      const { bot, ivan, user, assignments } = trainee();
      assignments.verdict = verdict;
      bot.services.training.givenActive(user.id, 'cold-call', 'medium', ['Добрый день']);
      const reaction = await ivan.send('/finish');
      const lines = reaction.texts[1]?.split('\n') ?? [];
      expect(lines.slice(0, 3)).toEqual(['<b>70/100</b>', '«Холодный звонок», уровень: Средний', line]);
    });
  }
});
