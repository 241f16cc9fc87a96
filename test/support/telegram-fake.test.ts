import { autoRetry } from '@grammyjs/auto-retry';
import { run, type RunnerHandle } from '@grammyjs/runner';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Bot, GrammyError, InlineKeyboard, InputFile } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TelegramFake } from './telegram-fake.js';

let telegram: TelegramFake;
let runner: RunnerHandle | undefined;

beforeEach(async () => {
  telegram = await TelegramFake.start();
});

afterEach(async () => {
  if (runner?.isRunning()) await runner.stop();
  runner = undefined;
  await telegram.stop();
});

function newBot(): Bot {
  const bot = new Bot(telegram.token, { client: { apiRoot: telegram.apiRoot } });
  bot.catch((err) => console.error(err));
  return bot;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('TelegramFake with a long-polling grammY bot', () => {
  it('delivers a user message to a handler and the reply to the user', async () => {
    const bot = newBot();
    bot.command('start', (ctx) => ctx.reply(`Привет, ${ctx.from?.first_name ?? ''}! payload=${ctx.match}`));
    bot.on('message:text', (ctx) => ctx.reply(`echo: ${ctx.message.text}`));
    runner = run(bot);

    const anna = telegram.user(42, { firstName: 'Анна', languageCode: 'ru' });
    anna.sendText('/start invite-123');
    expect((await anna.waitForNextMessage()).text).toBe('Привет, Анна! payload=invite-123');
    anna.sendText('как дела?');
    expect((await anna.waitForNextMessage()).visibleText).toBe('echo: как дела?');
    expect(anna.messages().map((m) => m.message_id)).toEqual([2, 4]);

    await runner.stop();
    expect(runner.isRunning()).toBe(false);
    expect(telegram.callsOf('getMe')).toHaveLength(1);
  });

  it('holds getUpdates while idle instead of answering in a busy loop', async () => {
    const bot = newBot();
    runner = run(bot);
    await sleep(1_000);
    expect(telegram.callsOf('getUpdates').length).toBeLessThanOrEqual(2);
    const started = Date.now();
    await runner.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('confirms updates through offset so each is delivered once', async () => {
    const bot = newBot();
    const seen: string[] = [];
    bot.on('message:text', async (ctx) => {
      seen.push(ctx.message.text);
      await ctx.reply('ok');
    });
    runner = run(bot);
    const user = telegram.user(7);
    user.sendText('one');
    user.sendText('two');
    await user.waitForMessage();
    await user.waitForMessage();
    user.sendText('three');
    await user.waitForMessage();
    expect(seen).toEqual(['one', 'two', 'three']);
  });

  it('routes a pressed inline button as a callback query and records the answer', async () => {
    const bot = newBot();
    bot.command('menu', (ctx) =>
      ctx.reply('Выберите:', { reply_markup: new InlineKeyboard().text('A', 'pick:a').text('B', 'pick:b') }),
    );
    bot.callbackQuery(/^pick:(.)$/, async (ctx) => {
      await ctx.answerCallbackQuery({ text: 'принято' });
      await ctx.editMessageText(`Выбрано: ${ctx.match[1]}`);
    });
    runner = run(bot);
    const user = telegram.user(8);
    user.sendText('/menu');
    const menu = await user.waitForMessage((m) => m.text === 'Выберите:');
    user.pressButton('pick:b', menu.message_id);
    await telegram.waitUntil(
      () => (user.lastMessage()?.text === 'Выбрано: b' ? true : undefined),
      5_000,
      () => 'no edit',
    );
    expect(user.callbackAnswers()).toMatchObject([{ text: 'принято' }]);
    // editMessageText without reply_markup drops the keyboard, as in Telegram.
    expect(user.lastMessage()?.reply_markup).toBeUndefined();
    expect(user.lastMessage()?.editHistory).toEqual(['Выберите:']);
    expect(() => user.pressButton('pick:a')).toThrow(/no button/);
  });

  it('ends an older long poll with 409 Conflict when another getUpdates arrives', async () => {
    const bot = newBot();
    const first = bot.api.getUpdates({ timeout: 5 }).catch((e: unknown) => e);
    await sleep(50);
    await expect(bot.api.getUpdates({ timeout: 0 })).resolves.toEqual([]);
    expect(await first).toMatchObject({ error_code: 409 });
  });

  it('retries a 429 with retry_after through auto-retry', async () => {
    const bot = newBot();
    bot.api.config.use(autoRetry());
    telegram.user(9);
    telegram.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 1', retry_after: 1 });
    const started = Date.now();
    const sent = await bot.api.sendMessage(9, 'после паузы');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(sent.text).toBe('после паузы');
    expect(telegram.callsOf('sendMessage').map((c) => c.error?.error_code)).toEqual([429, undefined]);
  });
});

describe('TelegramFake errors and formatting', () => {
  let bot: Bot;
  beforeEach(() => {
    bot = newBot();
    telegram.user(100);
  });

  async function sendError(text: string, parseMode?: 'HTML' | 'MarkdownV2'): Promise<GrammyError> {
    const error = await bot.api.sendMessage(100, text, parseMode ? { parse_mode: parseMode } : {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrammyError);
    return error as GrammyError;
  }

  it('rejects texts over 4096 UTF-16 code units and empty texts', async () => {
    const tooLong = await sendError('я'.repeat(4097));
    expect(tooLong.error_code).toBe(400);
    expect(tooLong.description).toBe('Bad Request: message is too long');
    await expect(bot.api.sendMessage(100, '😀'.repeat(2048))).resolves.toBeDefined();
    expect((await sendError('😀'.repeat(2049))).description).toBe('Bad Request: message is too long');
    expect((await sendError('  ')).description).toBe('Bad Request: message text is empty');
    // The limit counts visible text: markup does not count.
    await expect(bot.api.sendMessage(100, `<b>${'a'.repeat(4096)}</b>`, { parse_mode: 'HTML' })).resolves.toBeDefined();
  });

  it('validates HTML like Telegram and records what the user sees', async () => {
    expect((await sendError('a <foo>b</foo>', 'HTML')).description).toBe(
      'Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 2',
    );
    expect((await sendError('1 < 2', 'HTML')).description).toMatch(
      /^Bad Request: can't parse entities: Unsupported start tag ""/,
    );
    expect((await sendError('R&D', 'HTML')).description).toMatch(/^Bad Request: can't parse entities: Unescaped '&'/);
    expect((await sendError('<b>x</i>', 'HTML')).description).toMatch(/Unmatched end tag/);
    expect((await sendError('<b>x', 'HTML')).description).toMatch(/Can't find end tag corresponding to start tag "b"/);

    const sent = await bot.api.sendMessage(
      100,
      '<b>Итог:</b> 85/100 &lt;отлично&gt; &amp; &quot;ок&quot; &#128512; <a href="https://x.test/?a=1&amp;b=2">ссылка</a> <span class="tg-spoiler">s</span>',
      { parse_mode: 'HTML' },
    );
    expect(sent.text).toBe('Итог: 85/100 <отлично> & "ок" 😀 ссылка s');
    expect(sent.entities?.[0]).toEqual({ type: 'bold', offset: 0, length: 5 });
    expect(sent.entities).toContainEqual({ type: 'text_link', offset: 33, length: 6, url: 'https://x.test/?a=1&b=2' });
    expect(telegram.user(100).lastMessage()?.visibleText).toBe(sent.text);
  });

  it('validates MarkdownV2 reserved characters and strips escapes', async () => {
    expect((await sendError('Итог: 85/100.', 'MarkdownV2')).description).toBe(
      "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
    );
    expect((await sendError('*жирный', 'MarkdownV2')).description).toMatch(/Can't find end of Bold entity at byte offset 0/);
    const sent = await bot.api.sendMessage(100, '*Итог:* 85/100\\. _хорошо_ \\(1\\-2\\) [сайт](https://x.test/a\\)b) `a\\`b`', {
      parse_mode: 'MarkdownV2',
    });
    expect(sent.text).toBe('Итог: 85/100. хорошо (1-2) сайт a`b');
    expect(sent.entities).toContainEqual({ type: 'text_link', offset: 27, length: 4, url: 'https://x.test/a)b' });
  });

  it('answers edits of unknown or unchanged messages with Telegram errors', async () => {
    const sent = await bot.api.sendMessage(100, 'текст');
    const missing = await bot.api.editMessageText(100, 999, 'x').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(GrammyError);
    expect((missing as GrammyError).description).toBe('Bad Request: message to edit not found');
    const same = await bot.api.editMessageText(100, sent.message_id, 'текст').catch((e: unknown) => e);
    expect((same as GrammyError).description).toMatch(/^Bad Request: message is not modified/);
    const unknownChat = await bot.api.sendMessage(555, 'hi').catch((e: unknown) => e);
    expect((unknownChat as GrammyError).description).toBe('Bad Request: chat not found');
  });

  it('answers a wrong token with 401 and an unknown method with 404', async () => {
    const stranger = new Bot('1:wrong', { client: { apiRoot: telegram.apiRoot } });
    const unauthorized = await stranger.api.getMe().catch((e: unknown) => e);
    expect((unauthorized as GrammyError).error_code).toBe(401);
    const unknown = await bot.api.raw.getStarTransactions({}).catch((e: unknown) => e);
    expect((unknown as GrammyError).description).toBe('Not Found: method not found');
  });

  it('records drafts, chat actions and commands', async () => {
    await bot.api.raw.sendMessageDraft({ chat_id: 100, draft_id: 7, text: '<i>думаю…</i>', parse_mode: 'HTML' });
    await bot.api.raw.sendMessageDraft({ chat_id: 100, draft_id: 7, text: '' });
    await bot.api.sendChatAction(100, 'typing');
    await bot.api.setMyCommands([{ command: 'start', description: 'Начать' }], { language_code: 'ru' });
    await bot.api.setMyCommands([{ command: 'start', description: 'Start' }]);
    const user = telegram.user(100);
    expect(user.drafts().map((d) => [d.draft_id, d.visibleText])).toEqual([
      [7, 'думаю…'],
      [7, ''],
    ]);
    expect(user.chatActions().map((a) => a.action)).toEqual(['typing']);
    expect(telegram.commands('ru')).toEqual([{ command: 'start', description: 'Начать' }]);
    expect(await bot.api.getMyCommands()).toEqual([{ command: 'start', description: 'Start' }]);
    const zero = await bot.api.raw.sendMessageDraft({ chat_id: 100, draft_id: 0, text: 'x' }).catch((e: unknown) => e);
    expect((zero as GrammyError).error_code).toBe(400);
  });

  it('gives waitForMessage a helpful timeout error and unseen-first semantics', async () => {
    const user = telegram.user(100);
    await bot.api.sendMessage(100, 'first');
    await bot.api.sendMessage(100, 'second');
    expect((await user.waitForNextMessage()).text).toBe('first');
    expect((await user.waitForMessage((m) => m.text === 'second')).text).toBe('second');
    await expect(user.waitForNextMessage(200)).rejects.toThrow(
      /Timed out after 200 ms: No bot message arrived in chat 100 within 200 ms[\s\S]*"second"/,
    );
  });

  it('delivers media updates with the shapes grammY filters expect', async () => {
    const kinds: string[] = [];
    bot.on('message:sticker', () => void kinds.push('sticker'));
    bot.on('message:photo', () => void kinds.push('photo'));
    bot.on('message:voice', () => void kinds.push('voice'));
    bot.on('message:document', () => void kinds.push('document'));
    bot.on('message:location', () => void kinds.push('location'));
    bot.on('message:contact', () => void kinds.push('contact'));
    bot.on('edited_message:text', () => void kinds.push('edit'));
    runner = run(bot);
    const user = telegram.user(100);
    expect(user.sendText('hello')).toBeGreaterThan(0);
    const helloId = user.lastSentMessageId!;
    user.sendSticker();
    user.sendPhoto();
    user.sendVoice(Buffer.from('OggS'), 3);
    user.sendDocument();
    user.sendLocation();
    user.sendContact();
    user.editText(helloId, 'hello, edited');
    await telegram.waitUntil(
      () => (kinds.length === 7 ? true : undefined),
      5_000,
      () => kinds.join(),
    );
    expect(kinds).toEqual(['sticker', 'photo', 'voice', 'document', 'location', 'contact', 'edit']);
  });

  it('serves a voice note the user sent through getFile and the file endpoint, byte for byte', async () => {
    const ogg = readFileSync(path.resolve(import.meta.dirname, '../fixtures/voice-turn.ogg'));
    const downloaded: Buffer[] = [];
    bot.on('message:voice', async (ctx) => {
      const file = await ctx.getFile();
      const response = await fetch(`${telegram.apiRoot}/file/bot${telegram.token}/${file.file_path}`);
      downloaded.push(Buffer.from(await response.arrayBuffer()));
      await ctx.reply(`${ctx.message.voice.duration} s, ${file.file_size} bytes, ${file.file_path}`);
    });
    runner = run(bot);
    const user = telegram.user(100);
    user.sendVoice(ogg, 9);
    expect((await user.waitForNextMessage()).text).toBe(`9 s, ${ogg.length} bytes, voice/file_1.oga`);
    expect(downloaded[0]!.equals(ogg)).toBe(true);
    expect(telegram.downloads).toEqual(['voice/file_1.oga']);
    expect((await fetch(`${telegram.apiRoot}/file/botwrong-token/voice/file_1.oga`)).status).toBe(404);
  });

  it('refuses getFile for a file over 20 MB, as Telegram does for bots', async () => {
    const user = telegram.user(100);
    user.sendAudio(Buffer.alloc(25 * 1024 * 1024), 600);
    const updates = await bot.api.getUpdates();
    const fileId = updates.at(-1)!.message!.audio!.file_id;
    await expect(bot.api.getFile(fileId)).rejects.toThrow(/file is too big/);
    await expect(bot.api.getFile('no-such-file')).rejects.toThrow(/invalid file_id/);
  });

  it('takes a sendVoice upload, keeping the bytes and the caption', async () => {
    const user = telegram.user(100);
    const ogg = readFileSync(path.resolve(import.meta.dirname, '../fixtures/client-reply.ogg'));
    const sent = await bot.api.sendVoice(100, new InputFile(ogg, 'reply.ogg'), { caption: 'Да, слушаю.' });
    expect(sent.voice?.file_size).toBe(ogg.length);
    expect(sent.caption).toBe('Да, слушаю.');
    const message = await user.waitForNextMessage();
    expect(message.voice?.bytes.equals(ogg)).toBe(true);
    expect(message.voice?.filename).toBe('reply.ogg');
    expect(message.visibleText).toBe('Да, слушаю.');
    await expect(bot.api.sendVoice(100, new InputFile(ogg, 'reply.ogg'), { caption: 'я'.repeat(1025) })).rejects.toThrow(
      /caption is too long/,
    );
  });
});
