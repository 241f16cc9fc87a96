import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/database.js';
import { scriptedModel } from '../support/model-script.js';
import type { OpenAiFake } from '../support/openai-fake.js';
import type { TelegramFake } from '../support/telegram-fake.js';
import { startScenario, startWorld, type World } from '../support/world.js';

const trainee = 7001;
const stranger = 9009;
let world: World;
let telegram: TelegramFake;
let openai: OpenAiFake;
let database: TestDatabase;

beforeAll(async () => {
  world = await startWorld({ trainees: [trainee] });
  ({ telegram, openai, database } = world);
});

afterEach(() => {
  openai.respondWith(scriptedModel());
});

afterAll(async () => {
  await world?.close();
});

async function countRows(table: string, where = 'true'): Promise<number> {
  const rows = await database.db.execute<{ n: number }>(`select count(*)::int as n from ${table} where ${where}`);
  return rows[0]!.n;
}

describe('a trainee', () => {
  it('plays a whole dialogue: /start → menu → scenario → client speaks first → three turns → /finish → score', async () => {
    const user = telegram.user(trainee, { firstName: 'Анна', languageCode: 'ru' });
    user.sendText('/start');
    const welcome = await user.waitForMessage((m) => m.text.includes('Анна'));
    expect(welcome.text).toContain('тренажёр');
    const menu = await user.waitForMessage((m) => m.reply_markup !== undefined);
    const buttons = (
      menu.reply_markup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }
    ).inline_keyboard.flat();
    expect(buttons.map((b) => b.text)).toContain('Холодный звонок');
    expect(buttons).toHaveLength(5);

    user.pressButton('sc:cold-call', menu.message_id);
    await user.waitForMessage((m) => m.text.includes('уровень сложности'));
    user.pressButton('sd:cold-call:medium');
    await user.waitForMessage((m) => m.text.includes('началась'));
    const card = await user.waitForNextMessage();
    expect(card.visibleText).toMatch(/^🗂 Карточка клиента\nНа линии: Ирина Сергеевна Ковалёва/);
    expect(card.parse_mode).toBe('HTML');
    const opening = await user.waitForNextMessage();
    expect(opening.text.length).toBeGreaterThan(5);

    for (const line of [
      'Добрый день! Меня зовут Анна, компания «ОблакоСделка».',
      'Сколько у вас салонов?',
      'Давайте покажу демо в четверг?',
    ]) {
      user.sendText(line);
      const reply = await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает'));
      expect(reply.text).toBe(`Клиент отвечает на: ${line}`);
    }
    expect(telegram.callsOf('sendChatAction').length).toBeGreaterThan(0);
    // The answer was shown as a live draft while it streamed, then sent as a message.
    const drafts = user.drafts();
    expect(drafts.length).toBeGreaterThan(0);
    const replies = user.messages().map((m) => m.text);
    for (const draft of drafts) expect(replies.some((reply) => reply.startsWith(draft.text))).toBe(true);

    user.sendText('/finish');
    await user.waitForMessage((m) => m.text.includes('Оцениваю'));
    const verdict = await user.waitForMessage((m) => /\d+\/100/.test(m.text));
    expect(verdict.visibleText.split('\n')[0]).toBe('70/100');
    expect(verdict.visibleText).toContain('Сильные стороны');
    expect(verdict.visibleText).toContain('«Это недорого» — цена не названа');
    expect(verdict.parse_mode).toBe('HTML');

    expect(await countRows('evaluations')).toBe(1);
    expect(await countRows('messages', "role = 'user'")).toBe(3);
    expect(await countRows('sessions', "status = 'finished'")).toBe(1);

    user.sendText('/finish');
    await user.waitForMessage((m) => m.text.includes('Завершать нечего'));
    expect(await countRows('evaluations')).toBe(1);
  });

  it('gets every character of model text as written, and a 6000-character answer in two messages', async () => {
    const user = telegram.user(trainee);
    await startScenario(user, 'price-objection', 'easy');

    const tricky = 'Цена <b>1 500 ₽</b> & «скидка» *жирный* _курсив_ [ссылка](http://x) `код` \\ 5 > 3 < 4';
    openai.respondWith(scriptedModel(() => tricky));
    user.sendText('Сколько стоит?');
    const reply = await user.waitForMessage((m) => m.text.startsWith('Цена'));
    expect(reply.visibleText).toBe(tricky);

    const sentence = 'Это длинное предложение клиента про тарифы и условия. ';
    const long = sentence.repeat(Math.ceil(6000 / sentence.length)).trim();
    openai.respondWith(scriptedModel(() => long));
    user.sendText('Расскажите подробнее');
    const first = await user.waitForMessage((m) => m.text.startsWith('Это длинное'));
    const second = await user.waitForMessage((m) => m.text.startsWith('Это длинное'));
    expect(first.text.length).toBeLessThanOrEqual(4096);
    expect(first.text.endsWith('.')).toBe(true);
    expect(`${first.text} ${second.text}`).toBe(long);
  });

  it('gets the typing indicator instead of drafts once the chat refuses drafts', async () => {
    const user = telegram.user(trainee);
    telegram.failNext('sendMessageDraft', { error_code: 400, description: 'Bad Request: drafts are not allowed in this chat' });
    user.sendText('Первый вопрос');
    await user.waitForMessage((m) => m.text === 'Клиент отвечает на: Первый вопрос');
    const draftsBefore = telegram.callsOf('sendMessageDraft').length;
    const typingBefore = user.chatActions().length;
    user.sendText('Второй вопрос');
    await user.waitForMessage((m) => m.text === 'Клиент отвечает на: Второй вопрос');
    expect(telegram.callsOf('sendMessageDraft').length).toBe(draftsBefore);
    expect(user.chatActions().length).toBeGreaterThan(typingBefore);
  });

  it('keeps the message when the model fails and goes on when it is back', async () => {
    const user = telegram.user(trainee);
    openai.respondWith(() => ({ status: 503 }));
    const before = await countRows('messages', "role = 'user'");
    user.sendText('Вы меня слышите?');
    await user.waitForMessage((m) => m.text.includes('сервис ИИ временно недоступен'));
    expect(await countRows('messages', "role = 'user'")).toBe(before + 1);

    openai.respondWith(scriptedModel());
    user.sendText('Повторю вопрос');
    await user.waitForMessage((m) => m.text === 'Клиент отвечает на: Повторю вопрос');
  });

  it('gets a short answer to a sticker, and the judge failing leaves the session open', async () => {
    const user = telegram.user(trainee);
    user.sendSticker();
    await user.waitForMessage((m) => m.text.includes('Стикер'));

    openai.respondWith((request) => (request.responseFormat ? { status: 500 } : 'ok'));
    user.sendText('/finish');
    await user.waitForMessage((m) => m.text.includes('Тренировка не закрыта'));
    expect(await countRows('sessions', "status = 'active'")).toBe(1);

    openai.respondWith(scriptedModel());
    user.sendText('/finish');
    await user.waitForMessage((m) => /\d+\/100/.test(m.text));
    expect(await countRows('sessions', "status = 'active'")).toBe(0);
  });

  it('goes on with the same session after the bot is killed and restarted', async () => {
    const user = telegram.user(trainee);
    await startScenario(user, 'upsell', 'hard');
    user.sendText('Первая реплика');
    await user.waitForMessage((m) => m.text === 'Клиент отвечает на: Первая реплика');

    await world.restartBot('SIGKILL');
    user.sendText('После перезапуска');
    await user.waitForMessage((m) => m.text === 'Клиент отвечает на: После перезапуска');
    const sessions = await database.db.execute<{ n: number }>(
      `select count(*)::int as n from messages m join sessions s on s.id = m.session_id where s.status = 'active' and m.role = 'user'`,
    );
    expect(sessions[0]!.n).toBe(2);
  });
});

describe('a stranger', () => {
  it('is refused politely with their Telegram id and never reaches the model', async () => {
    const requestsBefore = openai.requests.length;
    const user = telegram.user(stranger, { languageCode: 'en' });
    user.sendText('/start');
    const refusal = await user.waitForNextMessage();
    expect(refusal.text).toContain(String(stranger));
    expect(refusal.text).toContain("don't have access");
    user.sendText('Hello, sell me something');
    await user.waitForNextMessage();
    expect(openai.requests.length).toBe(requestsBefore);
    expect(await countRows('sessions', `user_id in (select id from users where telegram_id = ${stranger})`)).toBe(0);
  });
});

describe('the command menu', () => {
  it('is registered in Russian and English', () => {
    expect(telegram.commands('ru').map((c) => c.command)).toEqual([
      'scenarios',
      'tasks',
      'finish',
      'cancel',
      'hint',
      'voice',
      'history',
      'stats',
      'help',
    ]);
    expect(String(telegram.commands('en').find((c) => c.command === 'finish')?.description)).toMatch(/Finish/);
    expect(String(telegram.commands('en').find((c) => c.command === 'cancel')?.description)).toMatch(/without a score/);
    // Any other Telegram language gets the default language's menu (DEFAULT_LOCALE, Russian here).
    expect(telegram.commands('').map((c) => c.description)).toEqual(telegram.commands('ru').map((c) => c.description));
  });
});
