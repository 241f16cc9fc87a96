import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenarios, type Scenario } from '../../src/services/scenarios.js';
import { hintAdvice, judgeVerdict } from '../support/model-script.js';
import type { BotMessage, FakeUser, TelegramFake } from '../support/telegram-fake.js';
import { startWorld, type World } from '../support/world.js';

/**
 * A trainee whose Telegram is in English walks through everything a trainee does. Every text the bot
 * writes is English; what is Russian is the scenario's own content (titles, the card's facts, the
 * client's lines, the judge's words about a Russian dialogue) and the knowledge base's headings.
 */
const trainee = 7_651;
let world: World;
let telegram: TelegramFake;
let coldCall: Scenario;

beforeAll(async () => {
  world = await startWorld({ trainees: [trainee] });
  ({ telegram } = world);
  coldCall = (await loadScenarios(path.resolve(import.meta.dirname, '../../scenarios'))).get('cold-call');
});
afterAll(async () => {
  await world?.close();
});

/** Everything Russian the bot may rightly show: the scenarios' content and what the stand-in model says. */
async function scenarioContent(): Promise<string[]> {
  const all = (await loadScenarios(path.resolve(import.meta.dirname, '../../scenarios'))).all;
  const verdict = JSON.parse(
    judgeVerdict({
      messages: [
        { role: 'system', content: 'key «x»' },
        { role: 'user', content: 'Менеджер: Добрый день' },
      ],
    } as never),
  ) as {
    strengths: string[];
    mistakes: string[];
    recommendations: string[];
    summary: string;
    criteria: Array<{ evidence: string; comment: string }>;
  };
  const hint = JSON.parse(hintAdvice()) as { advice: string; phrase: string };
  return [
    ...all.flatMap((s) => [
      s.title,
      s.description,
      s.persona.openingLine,
      s.brief.who,
      s.brief.company,
      ...s.brief.known,
      ...(s.brief.goal ? [s.brief.goal] : []),
      ...Object.values(s.difficulties).map((d) => d.label),
      ...s.rubric.map((c) => c.title),
    ]),
    ...verdict.strengths,
    ...verdict.mistakes,
    ...verdict.recommendations,
    verdict.summary,
    ...verdict.criteria.flatMap((c) => [c.evidence, c.comment]),
    hint.advice,
    hint.phrase,
  ].map((text) => text.trim());
}

/** What is left of a message once the scenario's content, the client's lines and sources are taken out. */
function withoutContent(message: BotMessage, content: readonly string[]): string {
  let text = message.visibleText;
  for (const piece of [...content].sort((a, b) => b.length - a.length)) text = text.replaceAll(piece, '');
  return text
    .replace(/Клиент отвечает на: .*/g, '')
    .replace(/Source: .*/g, '')
    .replace(/«[^»]*»/g, '');
}

const cyrillic = /[А-Яа-яЁё]/;

async function exchange(user: FakeUser, send: () => void, until: (m: BotMessage) => boolean): Promise<BotMessage[]> {
  const before = user.messages().length;
  send();
  try {
    await user.waitForMessage(until, 15_000);
  } catch (error) {
    const got = user
      .messages()
      .slice(before)
      .map((m) => m.text);
    throw new Error(`${(error as Error).message}\nafter ${send.toString()} the bot sent: ${JSON.stringify(got)}`);
  }
  return user.messages().slice(before);
}

describe('a trainee whose Telegram is in English', () => {
  it('reads every bot text in English; only the scenario’s own content stays Russian', async () => {
    const content = await scenarioContent();
    const user = telegram.user(trainee, { firstName: 'Anna', languageCode: 'en' });
    const seen: BotMessage[] = [];
    const step = async (send: () => void, until: (m: BotMessage) => boolean) => seen.push(...(await exchange(user, send, until)));

    await step(
      () => user.sendText('/start'),
      (m) => m.reply_markup !== undefined,
    );
    await step(
      () => user.sendText('/help'),
      (m) => m.text.includes('/cancel'),
    );
    await step(
      () => user.sendText('/scenarios'),
      (m) => m.text.includes('The scenarios are in Russian'),
    );
    await step(
      () => user.pressButton('sc:cold-call'),
      (m) => /difficulty/.test(m.text),
    );
    await step(
      () => user.pressButton('sd:cold-call:easy'),
      (m) => m.text === coldCall.persona.openingLine.trim(),
    );
    await step(
      () => user.sendText('Добрый день! Меня зовут Анна, компания «ОблакоСделка».'),
      (m) => m.text.startsWith('Клиент отвечает'),
    );
    await step(
      () => user.sendText('/hint'),
      (m) => m.text.startsWith('💡'),
    );
    await step(
      () => user.sendText('/finish'),
      (m) => /^\d{1,3}\/100/.test(m.visibleText),
    );
    await step(
      () => user.sendText('/history'),
      (m) => m.reply_markup !== undefined,
    );
    await step(
      () => user.sendText('/stats'),
      (m) => /\d+\/100/.test(m.text),
    );
    await step(
      () => user.sendText('/cancel'),
      (m) => /nothing|Nothing/.test(m.text),
    );
    await step(
      () => user.sendText('/voice'),
      (m) => m.reply_markup !== undefined,
    );

    expect(seen.length).toBeGreaterThan(12);
    const russian = seen.map((m) => withoutContent(m, content)).filter((rest) => cyrillic.test(rest));
    expect(russian).toEqual([]);
    // The menu says so, and the card's labels are English around the scenario's Russian facts.
    expect(seen.some((m) => m.text.includes('The scenarios are in Russian'))).toBe(true);
    expect(seen.some((m) => m.visibleText.startsWith('🗂 Client card\nOn the line: '))).toBe(true);
  });
});
