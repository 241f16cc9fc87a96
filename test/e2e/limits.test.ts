import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScenario, startWorld, type World } from '../support/world.js';

const anna = 7_701;
let world: World;

beforeAll(async () => {
  world = await startWorld({
    trainees: [anna],
    env: { MODEL_PRICE_PER_1K_INPUT: '0.15', MODEL_PRICE_PER_1K_OUTPUT: '0.6' },
  });
});
afterAll(async () => {
  await world?.close();
});

/** What anna's model calls took so far, as the database has them. */
async function usageOf(telegramId: number): Promise<{ rows: number; tokens: number; cost: number }> {
  const [row] = await world.database.db.execute<{ rows: number; tokens: number; cost: number }>(
    `select count(*)::int as rows, coalesce(sum(prompt_tokens + completion_tokens), 0)::int as tokens,
            coalesce(sum(cost_usd), 0)::float8 as cost
       from model_usage u join users p on p.id = u.user_id where p.telegram_id = ${telegramId}`,
  );
  return row!;
}

describe('the daily token budget', () => {
  it('runs out mid-dialogue with a clear word; /finish still judges, and the sheet shows the session’s tokens and cost', async () => {
    const { telegram, sheets } = world;
    let user = telegram.user(anna, { firstName: 'Анна', username: 'anna' });
    await startScenario(user);
    user.sendText('Добрый день! Меня зовут Анна, компания «Сделка+».');
    await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает'));
    // Written in a batch a moment after the turn.
    for (const deadline = Date.now() + 10_000; (await usageOf(anna)).rows < 2 && Date.now() < deadline;) await sleep(50);
    const spentSoFar = (await usageOf(anna)).tokens;
    expect(spentSoFar).toBeGreaterThan(0);

    // The day's budget: room for one more turn. The restarted bot reads the day from the database.
    await world.restartBot('SIGTERM', { USER_DAILY_TOKENS: String(spentSoFar + 1) });
    user = telegram.user(anna);
    user.markSeen();
    user.sendText('Удобно сейчас говорить?');
    await user.waitForMessage((m) => m.text === 'Клиент отвечает на: Удобно сейчас говорить?');

    user.sendText('Сколько у вас менеджеров?');
    const refused = await user.waitForMessage((m) => m.text.includes('лимит'));
    expect(refused.text).toMatch(/^На сегодня ваш лимит работы с моделью исчерпан\. Это сообщение клиенту не передано\./);
    expect(refused.text).toMatch(/Лимит обновится \d{2}\.\d{2}\.\d{4} 00:00\./);
    const stored = await world.database.db.execute<{ content: string }>(
      "select content from messages where role = 'user' order by id",
    );
    expect(stored.map((m) => m.content)).not.toContain('Сколько у вас менеджеров?');

    // The judge scores the dialogue already paid for.
    user.sendText('/finish');
    await user.waitForMessage((m) => /\d+\/100/.test(m.text), 20_000);
    const total = await usageOf(anna);
    const purposes = await world.database.db.execute<{ purpose: string }>(
      'select distinct purpose::text as purpose from model_usage order by 1',
    );
    // The client speaks by voice in this scenario: its voice notes are on the bill too (with no tokens).
    expect(purposes.map((p) => p.purpose)).toEqual(['client', 'judge', 'speech']);

    await telegram.waitUntil(() => (sheets.rows('Результаты').length >= 2 ? true : undefined), 15_000);
    const [header, row] = sheets.rows('Результаты');
    expect(header!.slice(-2)).toEqual(['Токены', 'Стоимость, $']);
    expect(row![header!.indexOf('Токены')]).toBe(total.tokens);
    expect(row![header!.indexOf('Стоимость, $')]).toBeCloseTo(total.cost, 4);
    expect(total.cost).toBeGreaterThan(0);
  });
});
