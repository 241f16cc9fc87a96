/**
 * The bot in-process, as grammY's own tests run it: `createBot` with a known `botInfo` (no getMe),
 * updates fed to `bot.handleUpdate`, every Bot API call recorded and answered in-process. The
 * recorder is the client's `fetch`, not an `api.config` transformer, because calls made inside
 * conversations use an Api of the plugin's own that no transformer of `bot.api` reaches. Services are in-memory fakes (fakes.ts), the i18n is the real one, so the
 * texts are the real Russian ones, and multi-step flows keep their state in a Map.
 */
import type { Bot } from 'grammy';
import type { Chat, InlineKeyboardButton, Message, Update, UserFromGetMe } from 'grammy/types';
import type { BotContext } from '../../src/bot/context.js';
import { createI18n } from '../../src/bot/i18n.js';
import { createBot, type CreateBotOptions } from '../../src/bot/index.js';
import { loadConfig } from '../../src/config.js';
import type { ConversationStore } from '../../src/db/queries/conversation-states.js';
import type { ErrorKind } from '../../src/metrics.js';
import { captureLogs, type LogRecord } from '../support/log-capture.js';
import { parseMultipart, resolveAttachments } from '../support/multipart.js';
import { fakeServices, type FakeServices } from './fakes.js';

export const botInfo: UserFromGetMe = {
  id: 42,
  is_bot: true,
  first_name: 'Тренажёр продаж',
  username: 'sales_trainer_bot',
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
  can_manage_bots: false,
  supports_join_request_queries: false,
};

/** One Bot API call the bot made. */
export interface ApiCall {
  readonly method: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface Button {
  readonly text: string;
  readonly data: string;
}

/** A message the bot sent, as the chat shows it now (buttons go when the bot removes them). */
export interface ChatMessage {
  readonly message_id: number;
  readonly chatId: number;
  /** A text message's text; a voice note's caption ('' without one). */
  readonly text: string;
  readonly parse_mode: string | undefined;
  /** For a voice note (sendVoice): the bytes uploaded. */
  readonly voice?: Uint8Array;
  /** For a picture (sendPhoto): the bytes uploaded; `text` is its caption. */
  readonly photo?: Uint8Array;
  buttons: Button[];
}

/** What the bot did in answer to one update. */
export class Reaction {
  constructor(
    readonly calls: readonly ApiCall[],
    private readonly sent: readonly ChatMessage[],
  ) {}

  /** The Bot API methods called, in order. */
  get methods(): string[] {
    return this.calls.map((call) => call.method);
  }

  /** The texts of the messages sent, in order. */
  get texts(): string[] {
    return this.sent.map((message) => message.text);
  }

  get messages(): readonly ChatMessage[] {
    return this.sent;
  }

  /** The buttons of the messages sent, as they were sent. */
  get buttons(): Button[] {
    return this.callsOf('sendMessage').flatMap((payload) => buttonsOf(payload.reply_markup));
  }

  /** What answerCallbackQuery said: undefined text means the spinner was just stopped. */
  get callbackAnswers(): Array<{ text?: string; show_alert?: boolean }> {
    return this.callsOf('answerCallbackQuery').map(({ text, show_alert }) => ({
      ...(text === undefined ? {} : { text: text as string }),
      ...(show_alert === undefined ? {} : { show_alert: show_alert as boolean }),
    }));
  }

  callsOf(method: string): Array<Readonly<Record<string, unknown>>> {
    return this.calls.filter((call) => call.method === method).map((call) => call.payload);
  }
}

function buttonsOf(markup: unknown): Button[] {
  const rows = (markup as { inline_keyboard?: InlineKeyboardButton[][] } | undefined)?.inline_keyboard ?? [];
  return rows.flat().map((button) => ({ text: button.text, data: 'callback_data' in button ? button.callback_data : '' }));
}

export interface HarnessOptions {
  readonly services?: FakeServices;
  /** Environment over the defaults (ACCESS_MODE, TEAM_TIME_ZONE…), read by the real loadConfig. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface Harness {
  readonly bot: Bot<BotContext>;
  readonly services: FakeServices;
  /** Every Bot API call so far. */
  readonly calls: readonly ApiCall[];
  /** What `metrics.countError` was told. */
  readonly errorsCounted: readonly ErrorKind[];
  /** Conversation states by key, as the plugin stored them. */
  readonly conversationStates: ReadonlyMap<string, unknown>;
  /** The bot's log lines (info and above). */
  logs(): LogRecord[];
  /** A person writing to the bot in a private chat. */
  user(id: number, profile?: { firstName?: string; languageCode?: string }): TestUser;
  /** Telegram refuses the next call of `method` with this error (e.g. 400 "message is not modified"). */
  refuseNext(method: string, error: { error_code: number; description: string }): void;
  /** The real Russian text for a locale key, for long texts not worth copying into a test. */
  t(key: string, variables?: Record<string, string | number>): string;
  /** Files the bot may download (getFile, then `<apiRoot>/file/bot<token>/<path>`), by file_id. */
  readonly files: Map<string, Uint8Array>;
  /** The file downloads the bot made, by file path. */
  readonly downloads: readonly string[];
}

const testEnv = {
  BOT_TOKEN: '123456789:AAFakeTokenForTestsOnly_0123456789',
  OPENAI_API_KEY: 'sk-test-not-used-0123456789',
  ACCESS_MODE: 'allowlist',
  TEAM_TIME_ZONE: 'Europe/Moscow',
  DEFAULT_LOCALE: 'ru',
};

export function createHarness(options: HarnessOptions = {}): Harness {
  const services = options.services ?? fakeServices();
  const config = loadConfig({ ...testEnv, ...options.env });
  const { logger, records } = captureLogs('info');
  const errorsCounted: ErrorKind[] = [];
  const conversationStates = new Map<string, unknown>();
  const i18n = createI18n<BotContext>(config.defaultLocale);

  const calls: ApiCall[] = [];
  const chat = new Map<number, ChatMessage>();
  const refusals = new Map<string, { error_code: number; description: string }>();
  let nextMessageId = 1000;

  const files = new Map<string, Uint8Array>();
  const downloads: string[] = [];
  const filePrefix = `${config.telegramApiRoot}/file/bot${config.botToken}/`;

  // Telegram's side of every Bot API request, outside conversations and inside them alike.
  const telegram = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.startsWith(filePrefix)) {
      // The file endpoint, as the Bot API serves it: the bytes of a file getFile named.
      const path = url.slice(filePrefix.length);
      downloads.push(path);
      const bytes = files.get(/^voice\/(.+)\.oga$/.exec(path)?.[1] ?? '');
      return bytes ? new Response(bytes) : new Response('Not Found', { status: 404 });
    }
    const method = url.slice(url.lastIndexOf('/') + 1);
    const payload =
      typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : await multipartPayload(init);
    calls.push({ method, payload });
    const refusal = refusals.get(method);
    if (refusal) refusals.delete(method);
    let body: Record<string, unknown>;
    try {
      body = refusal ? { ok: false, ...refusal } : { ok: true, result: answer(method, payload) };
    } catch (error) {
      if (!(error instanceof TelegramRefusal)) throw error;
      body = { ok: false, error_code: error.code, description: error.message };
    }
    return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  };

  const bot = createBot({
    config,
    logger,
    metrics: { countError: (kind) => errorsCounted.push(kind) },
    services,
    conversationStore: inMemoryStore(conversationStates),
    i18n,
    botInfo,
    // grammY types `fetch` as node-fetch's; what it reads of the answer (`json()`) is the same.
    fetch: telegram as unknown as NonNullable<CreateBotOptions['fetch']>,
  });

  function answer(method: string, p: Record<string, unknown>): unknown {
    switch (method) {
      case 'sendMessage': {
        const message: ChatMessage = {
          message_id: nextMessageId++,
          chatId: Number(p.chat_id),
          text: String(p.text),
          parse_mode: p.parse_mode as string | undefined,
          buttons: buttonsOf(p.reply_markup),
        };
        chat.set(message.message_id, message);
        return { message_id: message.message_id, date: now(), chat: privateChat(message.chatId), text: message.text };
      }
      case 'sendVoice': {
        const file = p.voice as { bytes?: Uint8Array } | undefined;
        const message: ChatMessage = {
          message_id: nextMessageId++,
          chatId: Number(p.chat_id),
          text: typeof p.caption === 'string' ? p.caption : '',
          parse_mode: p.parse_mode as string | undefined,
          voice: file?.bytes,
          buttons: buttonsOf(p.reply_markup),
        };
        chat.set(message.message_id, message);
        return {
          message_id: message.message_id,
          date: now(),
          chat: privateChat(message.chatId),
          voice: { file_id: 'sent', duration: 1 },
        };
      }
      case 'sendPhoto': {
        const file = p.photo as { bytes?: Uint8Array } | undefined;
        const message: ChatMessage = {
          message_id: nextMessageId++,
          chatId: Number(p.chat_id),
          text: typeof p.caption === 'string' ? p.caption : '',
          parse_mode: p.parse_mode as string | undefined,
          photo: file?.bytes,
          buttons: buttonsOf(p.reply_markup),
        };
        chat.set(message.message_id, message);
        return {
          message_id: message.message_id,
          date: now(),
          chat: privateChat(message.chatId),
          photo: [{ file_id: 'sent-photo', file_unique_id: 'u-sent-photo', width: 1024, height: 768 }],
        };
      }
      case 'getFile': {
        const id = String(p.file_id);
        const bytes = files.get(id);
        if (!bytes) throw new TelegramRefusal(400, 'Bad Request: invalid file_id');
        return { file_id: id, file_unique_id: `u-${id}`, file_size: bytes.length, file_path: `voice/${id}.oga` };
      }
      case 'editMessageReplyMarkup': {
        const message = chat.get(Number(p.message_id));
        if (message) message.buttons = buttonsOf(p.reply_markup);
        return true;
      }
      default:
        return true;
    }
  }

  let nextUpdateId = 1;
  async function handle(update: Omit<Update, 'update_id'>): Promise<Reaction> {
    const from = calls.length;
    const messagesBefore = new Set(chat.keys());
    await bot.handleUpdate({ update_id: nextUpdateId++, ...update });
    const sent = [...chat.values()].filter((m) => !messagesBefore.has(m.message_id));
    return new Reaction(calls.slice(from), sent);
  }

  function user(id: number, profile: { firstName?: string; languageCode?: string } = {}): TestUser {
    return new TestUser(
      { id, is_bot: false, first_name: profile.firstName ?? 'Анна', language_code: profile.languageCode ?? 'ru' },
      handle,
      (data) => [...chat.values()].reverse().find((m) => m.chatId === id && m.buttons.some((b) => b.data === data)),
      () => nextMessageId++,
      (fileId, bytes) => files.set(fileId, bytes),
    );
  }

  return {
    bot,
    services,
    calls,
    errorsCounted,
    conversationStates,
    logs: records,
    user,
    refuseNext: (method, error) => refusals.set(method, error),
    t: (key, variables) => i18n.t('ru', key, variables),
    files,
    downloads,
  };
}

/** A Bot API error answer from the in-process Telegram. */
class TelegramRefusal extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A multipart/form-data request (grammY's for uploads) as a payload: fields as text, files with their bytes. */
async function multipartPayload(init: RequestInit | undefined): Promise<Record<string, unknown>> {
  const headers = new Headers(init?.headers);
  const type = headers.get('content-type') ?? '';
  if (!type.startsWith('multipart/form-data') || !init?.body) return {};
  const chunks: Uint8Array[] = [];
  for await (const chunk of init.body as unknown as AsyncIterable<Uint8Array | string>) {
    chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk);
  }
  return resolveAttachments(parseMultipart(Buffer.concat(chunks), type));
}

type Sender = { id: number; is_bot: false; first_name: string; language_code: string };

/** A person in a private chat with the bot: each action is one update, answered with a Reaction. */
export class TestUser {
  constructor(
    readonly from: Sender,
    private readonly handle: (update: Omit<Update, 'update_id'>) => Promise<Reaction>,
    private readonly messageWithButton: (data: string) => ChatMessage | undefined,
    private readonly newMessageId: () => number,
    private readonly registerFile: (fileId: string, bytes: Uint8Array) => void,
  ) {}

  /**
   * A voice note of `bytes`, `duration` seconds long, that the bot can download (getFile). `fileSize`
   * overrides what the message says of its size (Telegram's `file_size`).
   */
  sendVoice(
    bytes: Uint8Array,
    duration: number,
    options: { fileSize?: number; kind?: 'voice' | 'audio' | 'video_note' } = {},
  ): Promise<Reaction> {
    const fileId = `voice-${this.newMessageId()}`;
    this.registerFile(fileId, bytes);
    const file = { file_id: fileId, file_unique_id: `u-${fileId}`, duration, file_size: options.fileSize ?? bytes.length };
    switch (options.kind ?? 'voice') {
      case 'voice':
        return this.sendMessage({ voice: { ...file, mime_type: 'audio/ogg' } });
      case 'audio':
        return this.sendMessage({ audio: { ...file, mime_type: 'audio/mpeg', file_name: 'звонок.mp3' } });
      case 'video_note':
        return this.sendMessage({ video_note: { ...file, length: 240 } });
    }
  }

  get id(): number {
    return this.from.id;
  }

  /** A text message; a leading /command carries its bot_command entity, as Telegram sends it. */
  send(text: string): Promise<Reaction> {
    const command = /^\/\S+/.exec(text)?.[0];
    return this.sendMessage({
      text,
      ...(command ? { entities: [{ type: 'bot_command' as const, offset: 0, length: command.length }] } : {}),
    });
  }

  /** Any message: `{ sticker: … }`, `{ voice: … }`, or another chat with `chat`. */
  sendMessage(fields: Partial<Message>): Promise<Reaction> {
    return this.handle({ message: this.message(fields) as Update['message'] });
  }

  /** The user edits a message they sent earlier. */
  edit(text: string): Promise<Reaction> {
    return this.handle({ edited_message: { ...this.message({ text }), edit_date: now() } as Update['edited_message'] });
  }

  /** Presses the button carrying `data` on the latest message that still shows it. */
  press(data: string): Promise<Reaction> {
    const message = this.messageWithButton(data);
    if (!message) throw new Error(`user ${this.id} sees no button with data ${JSON.stringify(data)}`);
    return this.handle({
      callback_query: {
        id: `cb-${this.newMessageId()}`,
        from: this.from,
        chat_instance: `chat-${this.id}`,
        data,
        message: { message_id: message.message_id, date: now(), chat: privateChat(this.id), from: botInfo, text: message.text },
      },
    });
  }

  /** Callback data no button carries, as a modified client can send; optionally with no message (no chat). */
  pressForged(data: string, options: { withoutMessage?: boolean } = {}): Promise<Reaction> {
    return this.handle({
      callback_query: {
        id: `cb-${this.newMessageId()}`,
        from: this.from,
        chat_instance: `chat-${this.id}`,
        data,
        ...(options.withoutMessage
          ? { inline_message_id: 'inline-1' }
          : { message: { message_id: 1, date: now(), chat: privateChat(this.id), from: botInfo, text: 'старое меню' } }),
      },
    });
  }

  private message(fields: Partial<Message>) {
    return {
      message_id: this.newMessageId(),
      date: now(),
      chat: privateChat(this.id, this.from.first_name),
      from: this.from,
      ...fields,
    };
  }
}

function privateChat(id: number, firstName = 'Анна'): Chat.PrivateChat {
  return { id, type: 'private', first_name: firstName };
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** Like the PostgreSQL store: values go through JSON, so a state that would not survive a restart fails here too. */
function inMemoryStore(states: Map<string, unknown>): ConversationStore<never> {
  return {
    read: async (key) => (states.has(key) ? (JSON.parse(JSON.stringify(states.get(key))) as never) : undefined),
    write: async (key, value) => {
      states.set(key, JSON.parse(JSON.stringify(value)));
    },
    delete: async (key) => {
      states.delete(key);
    },
  };
}
