import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotMessage, TelegramFake } from '../support/telegram-fake.js';
import { count, startScenario, startWorld, waitForSheet, type World } from '../support/world.js';

const trainee = 7301;
let world: World;
let telegram: TelegramFake;

beforeAll(async () => {
  world = await startWorld({ trainees: [trainee] });
  ({ telegram } = world);
});

afterAll(async () => {
  await world?.close();
});

function buttonsOf(message: BotMessage): Array<{ text: string; data: string }> {
  const rows = (message.reply_markup as { inline_keyboard?: Array<Array<{ text: string; callback_data: string }>> })
    ?.inline_keyboard;
  return (rows ?? []).flat().map((b) => ({ text: b.text, data: b.callback_data }));
}

describe('the way out of a training, and what comes after the evaluation', () => {
  it('/cancel → «Прервать»: the training ends without a score and never reaches the sheet or /stats', async () => {
    const user = telegram.user(trainee, { firstName: 'Анна' });
    await startScenario(user, 'cold-call', 'easy');
    user.sendText('Добрый день! Меня зовут Анна, компания «ОблакоСделка».');
    await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает'));

    user.sendText('/cancel');
    const question = await user.waitForMessage((m) => m.text.startsWith('Прервать тренировку'));
    expect(question.text).toBe('Прервать тренировку «Холодный звонок» без оценки?');
    expect(buttonsOf(question)).toEqual([
      { text: 'Прервать', data: 'cancel:yes' },
      { text: 'Продолжить', data: 'cancel:no' },
    ]);
    user.pressButton('cancel:yes');
    const done = await user.waitForMessage((m) => m.text.includes('прервана'));
    expect(done.text).toBe('Тренировка «Холодный звонок» прервана, без оценки. /scenarios — выбрать сценарий.');

    expect(await count(world.database, "select count(*)::int as n from sessions where status = 'abandoned'")).toBe(1);
    expect(await count(world.database, "select count(*)::int as n from sessions where status = 'active'")).toBe(0);
    expect(await count(world.database, 'select count(*)::int as n from evaluations')).toBe(0);
    expect(await count(world.database, 'select count(*)::int as n from sheet_exports')).toBe(0);

    user.sendText('/stats');
    const stats = await user.waitForMessage((m) => m.text.startsWith('Статистика'));
    expect(stats.text).toBe('Статистика появится после первой оценённой тренировки. Начать: /scenarios');
    // Nothing of it in the managers' sheet: no row at all (the sheet may not even have its header yet).
    expect(world.sheets.rows('Результаты').slice(1)).toEqual([]);
  });

  it('/finish → «🔁 Повторить» under the evaluation starts the same scenario and level at once', async () => {
    const user = telegram.user(trainee);
    await startScenario(user, 'cold-call', 'medium');
    user.sendText('Добрый день! Сколько у вас салонов?');
    await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает'));

    user.sendText('/finish');
    const verdict = await user.waitForMessage((m) => /\d+\/100/.test(m.text));
    expect(verdict.visibleText.split('\n')[0]).toBe('70/100');
    expect(buttonsOf(verdict)).toEqual([
      { text: '🔁 Повторить', data: 'rp:cold-call:medium' },
      { text: '📋 Другой сценарий', data: 'menu' },
      { text: '⚖️ Оспорить оценку', data: expect.stringMatching(/^dp:[1-9]\d*$/) as string },
    ]);

    user.pressButton('rp:cold-call:medium', verdict.message_id);
    const started = await user.waitForMessage((m) => m.text.includes('началась'));
    expect(started.text.split('\n')[0]).toBe('Тренировка «Холодный звонок» (Средний) началась.');
    const [active] = await world.database.db.execute<{ scenario_key: string; difficulty: string }>(
      "select scenario_key, difficulty from sessions where status = 'active'",
    );
    expect(active).toEqual({ scenario_key: 'cold-call', difficulty: 'medium' });

    user.pressButton('menu', verdict.message_id);
    const menu = await user.waitForMessage((m) => m.text.includes('Выберите сценарий'));
    expect(buttonsOf(menu).map((b) => b.data)).toContain('sc:cold-call');
  });

  it('/history → «Открыть: …» shows a past evaluation again; another id is refused', async () => {
    const user = telegram.user(trainee);
    const [finished] = await world.database.db.execute<{ id: number }>("select id from sessions where status = 'finished'");
    expect(finished).toBeDefined();

    user.sendText('/history');
    const list = await user.waitForMessage((m) => m.text.startsWith('Ваши последние тренировки'));
    expect(list.text).toContain('Холодный звонок · прервана');
    const open = buttonsOf(list);
    expect(open).toHaveLength(1);
    expect(open[0]?.text).toMatch(/^Открыть: \d\d\.\d\d Холодный звонок — 70$/);
    expect(open[0]?.data).toBe(`pe:${finished!.id}`);

    user.pressButton(`pe:${finished!.id}`, list.message_id);
    const again = await user.waitForMessage((m) => /\d+\/100/.test(m.text));
    expect(again.visibleText.split('\n').slice(0, 2)).toEqual(['70/100', '«Холодный звонок», уровень: Средний']);
    expect(again.parse_mode).toBe('HTML');
    expect(buttonsOf(again).map((b) => b.data)).toEqual(['rp:cold-call:medium', 'menu', `dp:${finished!.id}`]);

    const before = user.callbackAnswers().length;
    user.sendForgedCallback(`pe:${finished!.id + 1000}`);
    await telegram.waitUntil(() => (user.callbackAnswers().length > before ? true : undefined), 10_000);
    expect(user.callbackAnswers().at(-1)).toMatchObject({ text: 'Эта оценка недоступна.', show_alert: true });

    // The sheet has the one scored training, and nothing of the abandoned one.
    await waitForSheet(world);
    expect(
      world.sheets
        .rows('Результаты')
        .slice(1)
        .map((row) => Number(row[0])),
    ).toEqual([finished!.id]);
  });
});
