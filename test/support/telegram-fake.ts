/**
 * A loopback Telegram Bot API emulator for end-to-end tests, written from https://core.telegram.org/bots/api.
 * The real bot talks to it through `apiRoot` exactly as it talks to api.telegram.org: long polling,
 * JSON or form bodies, Telegram's error shapes and texts. Tests drive simulated users and read back
 * what each user would see.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseMultipart } from './multipart.js';

type Json = Record<string, unknown>;

export interface ApiErrorResponse {
  readonly error_code: number;
  readonly description: string;
  readonly retry_after?: number;
}
export interface ApiCall {
  readonly method: string;
  readonly params: Json;
  readonly time: number;
  /** performance.now() of this process when the request arrived: sub-millisecond, for benchmarks. */
  readonly at?: number;
  /** The error Telegram answered with, when the call failed. */
  error?: ApiErrorResponse;
}
export interface Entity {
  readonly type: string;
  readonly offset: number;
  readonly length: number;
  readonly url?: string;
  readonly language?: string;
}
/** A message the bot sent, as the user sees it now (edits applied). */
export type BotMessage = Readonly<MessageRecord>;
export interface Draft {
  readonly draft_id: number;
  readonly text: string;
  readonly visibleText: string;
  readonly parse_mode?: string;
  readonly time: number;
}
export interface ChatAction {
  readonly action: string;
  readonly time: number;
}
export interface CallbackAnswer {
  readonly callback_query_id: string;
  readonly text?: string;
  readonly show_alert?: boolean;
  readonly url?: string;
}
export interface FakeUserOptions {
  readonly firstName?: string;
  readonly username?: string;
  readonly languageCode?: string;
}

/** Thrown by a method handler; becomes Telegram's `{ ok: false, error_code, description }`. */
class ApiFailure extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
  ) {
    super(description);
  }
}
const badRequest = (text: string): ApiFailure => new ApiFailure(400, `Bad Request: ${text}`);
class ParseError extends Error {}

const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;
/** Bots may download files up to 20 MB (getFile refuses larger ones). */
const MAX_DOWNLOAD = 20 * 1024 * 1024;
const NOT_MODIFIED =
  'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';
const JSON_PARAMS = new Set([
  'reply_markup',
  'entities',
  'commands',
  'scope',
  'allowed_updates',
  'reply_parameters',
  'link_preview_options',
  'menu_button',
  'caption_entities',
]);
const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

// ---------------------------------------------------------------------------------------------
// Formatting: what the user sees for a text in a given parse mode (https://core.telegram.org/bots/api#formatting-options)

interface Parsed {
  readonly visibleText: string;
  readonly entities: Entity[];
}

const byteOffset = (src: string, index: number): number => Buffer.byteLength(src.slice(0, index));

const HTML_ENTITY_TYPES: Readonly<Record<string, string>> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  span: 'spoiler',
  'tg-spoiler': 'spoiler',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};

/** Decodes one HTML entity at `src[i]` ('&'); Telegram knows the numeric ones and lt, gt, amp, quot. */
function decodeHtmlEntity(src: string, i: number): { char: string; length: number } | undefined {
  const m = /^&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|(lt|gt|amp|quot));/i.exec(src.slice(i, i + 12));
  if (!m) return undefined;
  const named: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"' };
  const code = m[1] !== undefined ? Number(m[1]) : m[2] !== undefined ? parseInt(m[2], 16) : undefined;
  if (code !== undefined && (code === 0 || code > 0x10ffff)) return undefined;
  const char = code !== undefined ? String.fromCodePoint(code) : named[m[3]!.toLowerCase()]!;
  return { char, length: m[0].length };
}

function decodeAttribute(value: string): string {
  return value.replace(/&[^;\s]{1,10};/g, (s) => decodeHtmlEntity(s, 0)?.char ?? s);
}

/**
 * Telegram's HTML mode. One deliberate strictness: Telegram keeps an `&` that starts no entity as a
 * literal, but here it is an error, because a bot that escapes `<` and forgets `&` is still a bug.
 */
function parseHtml(src: string): Parsed {
  let out = '';
  const entities: Entity[] = [];
  const open: { tag: string; offset: number; url?: string; language?: string }[] = [];
  for (let i = 0; i < src.length;) {
    const c = src[i]!;
    if (c === '&') {
      const decoded = decodeHtmlEntity(src, i);
      if (!decoded) throw new ParseError(`Unescaped '&' at byte offset ${byteOffset(src, i)}: write &amp;`);
      out += decoded.char;
      i += decoded.length;
      continue;
    }
    if (c !== '<') {
      out += c;
      i += 1;
      continue;
    }
    const close = src.indexOf('>', i);
    if (src[i + 1] === '/') {
      if (close < 0) throw new ParseError(`Unclosed end tag at byte offset ${byteOffset(src, i)}`);
      const name = src
        .slice(i + 2, close)
        .trim()
        .toLowerCase();
      const top = open.pop();
      if (!top) throw new ParseError(`Unexpected end tag at byte offset ${byteOffset(src, i)}`);
      if (top.tag !== name) {
        throw new ParseError(
          `Unmatched end tag at byte offset ${byteOffset(src, i)}, expected "</${top.tag}>", found "</${name}>"`,
        );
      }
      const length = out.length - top.offset;
      const last = entities.at(-1);
      if (top.tag === 'pre' && last?.type === 'code' && last.offset === top.offset && last.length === length) {
        entities.pop(); // <pre><code class="language-x"> is one pre entity with a language
        entities.push({ type: 'pre', offset: top.offset, length, language: last.language });
      } else if (length > 0) {
        entities.push({ type: HTML_ENTITY_TYPES[top.tag]!, offset: top.offset, length, url: top.url, language: top.language });
      }
      i = close + 1;
      continue;
    }
    const nameMatch = /^<([^\s>]*)/.exec(src.slice(i))!;
    const name = nameMatch[1]!.toLowerCase();
    if (i + nameMatch[0].length >= src.length) throw new ParseError(`Unclosed start tag at byte offset ${byteOffset(src, i)}`);
    if (!(name in HTML_ENTITY_TYPES)) {
      throw new ParseError(`Unsupported start tag "${name}" at byte offset ${byteOffset(src, i)}`);
    }
    if (close < 0) throw new ParseError(`Unclosed start tag at byte offset ${byteOffset(src, i)}`);
    const attrs: Record<string, string> = {};
    for (const m of src
      .slice(i + nameMatch[0].length, close)
      .matchAll(/([a-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+)))?/gi)) {
      attrs[m[1]!.toLowerCase()] = decodeAttribute(m[2] ?? m[3] ?? m[4] ?? '');
    }
    if (name === 'span' && attrs.class !== 'tg-spoiler') {
      throw new ParseError(`Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(src, i)}`);
    }
    const language = name === 'code' ? /^language-(.+)$/.exec(attrs.class ?? '')?.[1] : undefined;
    open.push({ tag: name, offset: out.length, url: name === 'a' ? attrs.href : undefined, language });
    i = close + 1;
  }
  const unclosed = open.pop();
  if (unclosed) throw new ParseError(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  return { visibleText: out, entities };
}

const MD_RESERVED = '_*[]()~`>#+-=|{}.!';
const MD_OPENERS = [
  ['__', 'underline'],
  ['_', 'italic'],
  ['*', 'bold'],
  ['~', 'strikethrough'],
  ['||', 'spoiler'],
  ['[', 'text_link'],
  ['![', 'custom_emoji'],
  ['`', 'code'],
] as const;
const MD_TYPE_NAMES: Readonly<Record<string, string>> = {
  bold: 'Bold',
  italic: 'Italic',
  underline: 'Underline',
  strikethrough: 'Strikethrough',
  spoiler: 'Spoiler',
  code: 'Code',
  pre: 'Pre',
  text_link: 'TextUrl',
  custom_emoji: 'CustomEmoji',
};

/** Telegram's MarkdownV2 mode, following tdlib: only the innermost open entity can be closed. */
function parseMarkdownV2(src: string): Parsed {
  let out = '';
  const entities: Entity[] = [];
  const stack: { type: string; offset: number; at: number; language?: string }[] = [];
  let quoteStart: number | undefined;
  let lineStart = true;
  const reserved = (c: string): ParseError =>
    new ParseError(`Character '${c}' is reserved and must be escaped with the preceding '\\'`);
  for (let i = 0; i < src.length;) {
    const c = src[i]!;
    const next = src.charCodeAt(i + 1);
    if (c === '\\' && next >= 1 && next <= 126) {
      out += src[i + 1];
      lineStart = false;
      i += 2;
      continue;
    }
    const top = stack.at(-1);
    const inCode = top?.type === 'code' || top?.type === 'pre';
    const closesTop =
      top !== undefined &&
      (
        {
          bold: c === '*',
          italic: c === '_' && src[i + 1] !== '_',
          underline: src.startsWith('__', i),
          strikethrough: c === '~',
          spoiler: src.startsWith('||', i),
          code: c === '`',
          pre: src.startsWith('```', i),
          text_link: c === ']',
          custom_emoji: c === ']',
        } as Readonly<Record<string, boolean>>
      )[top.type] === true;
    if (closesTop) {
      stack.pop();
      i += top.type === 'pre' ? 3 : top.type === 'underline' || top.type === 'spoiler' ? 2 : 1;
      let url: string | undefined;
      if (top.type === 'text_link' || top.type === 'custom_emoji') {
        url = out.slice(top.offset);
        if (src[i] === '(') {
          url = '';
          for (i += 1; i < src.length && src[i] !== ')'; i += 1) {
            if (src[i] === '\\' && i + 1 < src.length) i += 1;
            url += src[i];
          }
          if (i >= src.length) throw new ParseError(`Can't find end of a url at byte offset ${byteOffset(src, top.at)}`);
          i += 1;
        }
      }
      if (out.length > top.offset) {
        entities.push({ type: top.type, offset: top.offset, length: out.length - top.offset, url, language: top.language });
      }
      lineStart = false;
      continue;
    }
    if (inCode || !MD_RESERVED.includes(c)) {
      if (lineStart && quoteStart !== undefined && c !== '>') {
        entities.push({ type: 'blockquote', offset: quoteStart, length: out.length - quoteStart });
        quoteStart = undefined;
      }
      out += c;
      lineStart = c === '\n';
      i += 1;
      continue;
    }
    if (c === '>' && lineStart) {
      quoteStart ??= out.length;
      lineStart = false;
      i += 1;
      continue;
    }
    lineStart = false;
    const pre = /^```(?:([^\s`]+)\n)?/.exec(src.slice(i, i + 64));
    const opener = pre ? (['```', 'pre'] as const) : MD_OPENERS.find(([mark]) => src.startsWith(mark, i));
    if (!opener) throw reserved(c);
    stack.push({ type: opener[1], offset: out.length, at: i, language: pre?.[1] });
    i += pre ? pre[0].length : opener[0].length;
  }
  const unclosed = stack.pop();
  if (unclosed) {
    throw new ParseError(
      `Can't find end of ${MD_TYPE_NAMES[unclosed.type]} entity at byte offset ${byteOffset(src, unclosed.at)}`,
    );
  }
  if (quoteStart !== undefined) entities.push({ type: 'blockquote', offset: quoteStart, length: out.length - quoteStart });
  return { visibleText: out, entities };
}

/** The legacy Markdown mode: `*bold*`, `_italic_`, `` `code` ``, ```` ```pre``` ````, `[text](url)`. */
function parseMarkdownLegacy(src: string): Parsed {
  let out = '';
  const entities: Entity[] = [];
  for (let i = 0; i < src.length;) {
    const c = src[i]!;
    const escaped = c === '\\' && '_*`['.includes(src[i + 1] ?? ' ');
    if (escaped || !'_*`['.includes(c)) {
      out += src[escaped ? i + 1 : i];
      i += escaped ? 2 : 1;
    } else {
      const fence = src.startsWith('```', i) ? '```' : c === '[' ? ']' : c;
      const end = src.indexOf(fence, i + (c === '[' ? 1 : fence.length));
      if (end < 0) throw new ParseError(`Can't find end of the entity starting at byte offset ${byteOffset(src, i)}`);
      const inner = src.slice(i + (c === '[' ? 1 : fence.length), end);
      let url: string | undefined;
      i = end + fence.length;
      if (c === '[' && src[i] === '(') {
        const close = src.indexOf(')', i);
        url = src.slice(i + 1, close < 0 ? undefined : close);
        i = close < 0 ? src.length : close + 1;
      }
      const type =
        fence === '```'
          ? 'pre'
          : ({ '*': 'bold', _: 'italic', '`': 'code', ']': 'text_link' } as Readonly<Record<string, string>>)[fence]!;
      if (inner.length > 0) entities.push({ type, offset: out.length, length: inner.length, url });
      out += inner;
    }
  }
  return { visibleText: out, entities };
}

function parseText(text: string, parseMode: unknown, entities: unknown): Parsed {
  try {
    switch (typeof parseMode === 'string' ? parseMode.toLowerCase() : '') {
      case '':
        return { visibleText: text, entities: Array.isArray(entities) ? (entities as Entity[]) : [] };
      case 'html':
        return parseHtml(text);
      case 'markdownv2':
        return parseMarkdownV2(text);
      case 'markdown':
        return parseMarkdownLegacy(text);
      default:
        throw badRequest('unsupported parse_mode');
    }
  } catch (err) {
    if (err instanceof ParseError) throw badRequest(`can't parse entities: ${err.message}`);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Request plumbing

async function readParams(req: IncomingMessage, url: URL): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const body = raw.toString('utf8');
  const type = req.headers['content-type'] ?? '';
  const params: Json = Object.fromEntries(url.searchParams);
  if (type.includes('application/json') && body.trim() !== '') {
    Object.assign(params, JSON.parse(body) as Json);
  } else if (type.includes('application/x-www-form-urlencoded')) {
    Object.assign(params, Object.fromEntries(new URLSearchParams(body)));
  } else if (type.includes('multipart/form-data')) {
    // Files keep their bytes: an upload (sendVoice) is checked byte for byte.
    for (const [name, value] of parseMultipart(raw, type)) {
      params[name] = typeof value === 'string' ? value : { filename: value.filename, bytes: value.bytes };
    }
    // grammY names an uploaded file `attach://<part>`: the field then holds that part's file.
    for (const [name, value] of Object.entries(params)) {
      const ref = typeof value === 'string' ? /^attach:\/\/(.+)$/.exec(value)?.[1] : undefined;
      if (ref !== undefined && typeof params[ref] === 'object') {
        params[name] = params[ref];
        delete params[ref];
      }
    }
  }
  for (const [key, value] of Object.entries(params)) {
    if (JSON_PARAMS.has(key) && typeof value === 'string') params[key] = JSON.parse(value) as unknown;
  }
  return params;
}

function optionalInt(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n)) throw badRequest(`invalid integer value ${JSON.stringify(value)}`);
  return n;
}
function requiredInt(params: Json, name: string): number {
  const n = optionalInt(params[name]);
  if (n === undefined) throw badRequest(`${name} is required`);
  return n;
}
const asObject = (value: unknown): Json | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const now = (): number => Math.floor(Date.now() / 1000);

export function inlineButtons(markup: Json | undefined): Json[] {
  const rows = markup?.inline_keyboard;
  return Array.isArray(rows) ? (rows as unknown[][]).flat().map((b) => asObject(b) ?? {}) : [];
}

function checkMarkup(markup: unknown): Json | undefined {
  if (markup === undefined || markup === null) return undefined;
  const object = asObject(markup);
  if (!object) throw badRequest("can't parse reply keyboard markup JSON object");
  for (const button of inlineButtons(object)) {
    const data = button.callback_data;
    if (data !== undefined && (typeof data !== 'string' || Buffer.byteLength(data) < 1 || Buffer.byteLength(data) > 64)) {
      throw badRequest('BUTTON_DATA_INVALID');
    }
  }
  return object;
}

// ---------------------------------------------------------------------------------------------
// State

interface MessageRecord {
  message_id: number;
  chat_id: number;
  /** The text exactly as the bot sent it (markup included). */
  text: string;
  /** What the user sees: tags stripped and entities decoded (HTML), escapes removed (MarkdownV2). */
  visibleText: string;
  entities: Entity[];
  parse_mode?: string;
  reply_markup?: Json;
  date: number;
  edit_date?: number;
  /** Earlier visible texts, oldest first, one per editMessageText. */
  editHistory: string[];
  deleted: boolean;
  /** A voice note (sendVoice): the bytes uploaded; `text` is then its caption ('' without one). */
  voice?: { readonly bytes: Buffer; readonly filename: string; readonly duration?: number };
  /** A picture (sendPhoto): the bytes uploaded; `text` is then its caption ('' without one). */
  photo?: { readonly bytes: Buffer; readonly filename: string };
}
/** A file a user sent, as getFile and the file endpoint serve it. */
interface StoredFile {
  readonly file_id: string;
  readonly file_unique_id: string;
  readonly file_path: string;
  readonly bytes: Buffer;
}
interface ChatState {
  readonly id: number;
  readonly user: Json;
  nextMessageId: number;
  readonly botMessages: MessageRecord[];
  readonly userMessages: Map<number, Json>;
  readonly drafts: Draft[];
  readonly actions: ChatAction[];
  readonly answers: CallbackAnswer[];
}
/** A chat with nothing in it yet. */
function newChat(id: number, user: Json): ChatState {
  return { id, user, nextMessageId: 1, botMessages: [], userMessages: new Map(), drafts: [], actions: [], answers: [] };
}

interface PendingPoll {
  wake(): void;
  conflict(): void;
}
type Handler = (params: Json, signal: AbortSignal) => unknown;

export class TelegramFake {
  /** Every API call, in arrival order (a long poll appears when it starts), with the error it got if it failed. */
  readonly calls: ApiCall[] = [];
  readonly botUser: Json;
  private readonly updates: Json[] = [];
  private nextUpdateId = 100_000_001;
  private nextCallbackId = 1;
  private readonly chats = new Map<number, ChatState>();
  private readonly users = new Map<number, FakeUser>();
  private readonly callbackQueries = new Map<string, { chatId: number; answered: boolean }>();
  private readonly failures = new Map<string, ApiErrorResponse[]>();
  private readonly commandSets = new Map<string, Json[]>();
  private readonly listeners = new Set<() => void>();
  private pendingPoll: PendingPoll | undefined;
  private latencyMs = 0;
  private readonly left = new Set<number>();
  private readonly files = new Map<string, StoredFile>();
  /** Every file download (GET /file/bot<token>/<path>), by path, in order. */
  readonly downloads: string[] = [];
  /**
   * performance.now() when the first getUpdates answer carrying each update was written, by update_id:
   * where a benchmark starts the bot's share of a turn.
   */
  readonly handedOutAt = new Map<number, number>();
  private readonly handlers: ReadonlyMap<string, readonly [string, Handler]>;

  private constructor(
    private readonly server: Server,
    readonly token: string,
  ) {
    const id = Number(/^(\d+):/.exec(token)?.[1] ?? 123456789);
    this.botUser = {
      id,
      is_bot: true,
      first_name: 'Test Bot',
      username: 'test_bot',
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    };
    const handlers: Record<string, Handler> = {
      getMe: () => this.botUser,
      deleteWebhook: () => true,
      getWebhookInfo: () => ({ url: '', has_custom_certificate: false, pending_update_count: this.updates.length }),
      getUpdates: (p, signal) => this.getUpdates(p, signal),
      sendMessage: (p) => this.sendMessage(p),
      sendVoice: (p) => this.sendVoice(p),
      sendPhoto: (p) => this.sendPhoto(p),
      getFile: (p) => this.getFile(p),
      editMessageText: (p) => this.editMessageText(p),
      editMessageReplyMarkup: (p) => this.editMessageReplyMarkup(p),
      deleteMessage: (p) => this.deleteMessage(p),
      answerCallbackQuery: (p) => this.answerCallbackQuery(p),
      sendChatAction: (p) => this.sendChatAction(p),
      sendMessageDraft: (p) => this.sendMessageDraft(p),
      setMyCommands: (p) => this.setMyCommands(p),
      getMyCommands: (p) => this.commands(p.language_code as string | undefined, asObject(p.scope)),
      deleteMyCommands: (p) => this.commandSets.delete(commandKey(p.language_code, asObject(p.scope))) || true,
      setChatMenuButton: () => true,
      getChatMenuButton: () => ({ type: 'commands' }),
      setMyDescription: () => true,
      setMyShortDescription: () => true,
      leaveChat: (p) => {
        this.privateChat(p);
        this.left.add(Number(p.chat_id));
        return true;
      },
    };
    this.handlers = new Map(Object.entries(handlers).map(([name, h]) => [name.toLowerCase(), [name, h] as const]));
  }

  /** `host`: the address to listen on (the loopback unless told, e.g. the docker0 bridge for containers). */
  static async start(opts: { token?: string; host?: string } = {}): Promise<TelegramFake> {
    const server = createServer();
    const fake = new TelegramFake(server, opts.token ?? '123456789:TEST-fake-token');
    // Long polls and keep-alive sockets must not be cut by the server's own idle timers.
    server.keepAliveTimeout = 0;
    server.on('request', (req, res) => void fake.serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, opts.host ?? '127.0.0.1', resolve));
    return fake;
  }

  get apiRoot(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address}:${port}`;
  }

  async stop(): Promise<void> {
    this.pendingPoll?.wake();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next `times` calls of `method` fail with this error (a 429 carries `parameters.retry_after`, 1 s unless given). */
  failNext(method: string, response: ApiErrorResponse, times = 1): void {
    const queue = this.failures.get(method.toLowerCase()) ?? [];
    const retryAfter = response.retry_after ?? (response.error_code === 429 ? 1 : undefined);
    for (let n = 0; n < times; n += 1) queue.push({ ...response, retry_after: retryAfter });
    this.failures.set(method.toLowerCase(), queue);
  }

  /** Delays every answer by `ms` (before a long poll starts waiting). */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method.toLowerCase() === method.toLowerCase());
  }

  /** Commands set by setMyCommands for this language ('' = all) and scope (default scope). */
  commands(languageCode = '', scope?: Json): Json[] {
    return this.commandSets.get(commandKey(languageCode, scope)) ?? [];
  }

  /**
   * A group the bot was added to (a negative id, as Telegram's): `from` posts `text` in it. The bot's
   * messages there are read with `groupMessages`, and `hasLeft` says whether it left the group.
   */
  postInGroup(groupId: number, from: FakeUser, text: string): number {
    if (!this.chats.has(groupId)) this.chats.set(groupId, newChat(groupId, { id: groupId, title: 'Группа' }));
    const chat = this.chats.get(groupId)!;
    const sender = this.chats.get(from.id)!.user;
    return this.enqueue({
      message: {
        message_id: chat.nextMessageId++,
        from: sender,
        chat: { id: groupId, type: 'group', title: 'Группа' },
        date: now(),
        text,
      },
    });
  }

  /** Every text people sent and the bot sent back, in every chat: what must never reach a log. */
  dialogueTexts(): string[] {
    const texts: string[] = [];
    for (const chat of this.chats.values()) {
      for (const message of chat.userMessages.values()) if (typeof message.text === 'string') texts.push(message.text);
      for (const message of chat.botMessages) texts.push(message.text);
    }
    return texts;
  }

  groupMessages(groupId: number): string[] {
    return (this.chats.get(groupId)?.botMessages ?? []).map((m) => m.text);
  }

  hasLeft(chatId: number): boolean {
    return this.left.has(chatId);
  }

  /** A simulated user in a private chat with the bot; the same object for the same id. */
  user(id: number, opts: FakeUserOptions = {}): FakeUser {
    let user = this.users.get(id);
    if (!user) {
      const info: Json = { id, is_bot: false, first_name: opts.firstName ?? `User${id}` };
      if (opts.username !== undefined) info.username = opts.username;
      if (opts.languageCode !== undefined) info.language_code = opts.languageCode;
      this.chats.set(id, newChat(id, info));
      user = new FakeUser(this, id);
      this.users.set(id, user);
    }
    return user;
  }

  /**
   * Resolves with the first defined value of `condition`, re-checked after every API call and every
   * 20 ms (for state outside the fake); rejects with `describe()` after `timeoutMs`.
   */
  waitUntil<T>(condition: () => T | undefined, timeoutMs = 10_000, describe = () => 'condition not met'): Promise<T> {
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        this.listeners.delete(check);
        clearInterval(poll);
        clearTimeout(timer);
      };
      const check = (): void => {
        const value = condition();
        if (value === undefined) return;
        settle();
        resolve(value);
      };
      const poll = setInterval(check, 20);
      const timer = setTimeout(() => {
        settle();
        reject(new Error(`Timed out after ${timeoutMs} ms: ${describe()}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  // -- used by FakeUser ---------------------------------------------------------------------

  /** @internal */ chat(id: number): ChatState {
    return this.chats.get(id)!;
  }

  /** @internal */ enqueue(update: Json): number {
    const update_id = this.nextUpdateId++;
    this.updates.push({ update_id, ...update });
    this.pendingPoll?.wake();
    return update_id;
  }

  /** @internal */ storeFile(bytes: Uint8Array, folder: string, extension: string): StoredFile {
    const n = this.files.size + 1;
    const file: StoredFile = {
      file_id: `AwACAgIAAxkBAAIB${folder}${n}`,
      file_unique_id: `AgAD${folder}${n}`,
      file_path: `${folder}/file_${n}.${extension}`,
      bytes: Buffer.from(bytes),
    };
    this.files.set(file.file_id, file);
    return file;
  }

  /** @internal */ newCallbackId(chatId: number): string {
    const id = `${Date.now()}${this.nextCallbackId++}`;
    this.callbackQueries.set(id, { chatId, answered: false });
    return id;
  }

  /** @internal */ toMessage(chatId: number, m: MessageRecord): Json {
    const chat = this.chat(chatId);
    const { id, is_bot, first_name, username } = this.botUser;
    const message: Json = {
      message_id: m.message_id,
      from: { id, is_bot, first_name, username },
      chat: chatOf(chat.user),
      date: m.date,
    };
    if (m.voice) {
      message.voice = {
        file_id: `sent-voice-${m.message_id}`,
        file_unique_id: `sent${m.message_id}`,
        duration: m.voice.duration ?? 1,
        mime_type: 'audio/ogg',
        file_size: m.voice.bytes.length,
      };
      if (m.visibleText !== '') message.caption = m.visibleText;
    } else if (m.photo) {
      message.photo = [
        { file_id: `sent-photo-${m.message_id}`, file_unique_id: `photo${m.message_id}`, width: 1024, height: 768 },
      ];
      if (m.visibleText !== '') message.caption = m.visibleText;
    } else {
      message.text = m.visibleText;
    }
    if (m.edit_date !== undefined) message.edit_date = m.edit_date;
    if (m.entities.length > 0) message[m.voice || m.photo ? 'caption_entities' : 'entities'] = m.entities;
    // Telegram echoes only inline keyboards in Message.reply_markup.
    if (m.reply_markup?.inline_keyboard !== undefined) message.reply_markup = m.reply_markup;
    return message;
  }

  // -- HTTP ---------------------------------------------------------------------------------

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const download = /^\/file\/bot([^/]*)\/(.+)$/.exec(url.pathname);
    if (download) {
      this.serveFile(download[1]!, decodeURIComponent(download[2]!), res);
      return;
    }
    const match = /^\/bot([^/]*)\/([A-Za-z]+)$/.exec(url.pathname);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const method = match ? (this.handlers.get(match[2]!.toLowerCase())?.[0] ?? match[2]!) : url.pathname;
    const call: ApiCall = { method, params: {}, time: Date.now(), at: performance.now() };
    this.calls.push(call);
    let outcome: { result: unknown } | ApiErrorResponse;
    try {
      const params = await readParams(req, url);
      Object.assign(call.params, params);
      if (!match) throw new ApiFailure(404, 'Not Found');
      if (match[1] !== this.token) throw new ApiFailure(401, 'Unauthorized');
      const handler = this.handlers.get(match[2]!.toLowerCase());
      if (!handler) throw new ApiFailure(404, 'Not Found: method not found');
      if (this.latencyMs > 0) await sleep(this.latencyMs);
      const injected = this.failures.get(handler[0].toLowerCase())?.shift();
      outcome = injected ?? { result: await handler[1](params, abort.signal) };
    } catch (err) {
      if (err instanceof SyntaxError) outcome = { error_code: 400, description: "Bad Request: can't parse JSON object" };
      else if (err instanceof ApiFailure) outcome = { error_code: err.code, description: err.description };
      else {
        console.error('TelegramFake failed on', req.url, err);
        outcome = { error_code: 500, description: `Internal Server Error: ${String(err)}` };
      }
    }
    if (!('result' in outcome)) call.error = outcome;
    for (const listener of [...this.listeners]) listener();
    if (res.destroyed) return;
    const body =
      'result' in outcome
        ? { ok: true, result: outcome.result }
        : {
            ok: false,
            error_code: outcome.error_code,
            description: outcome.description,
            ...(outcome.retry_after !== undefined ? { parameters: { retry_after: outcome.retry_after } } : {}),
          };
    const status = 'result' in outcome ? 200 : outcome.error_code;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (method === 'getUpdates' && 'result' in outcome && Array.isArray(outcome.result)) {
      const writtenAt = performance.now();
      for (const update of outcome.result as Json[]) {
        const id = update.update_id as number;
        if (!this.handedOutAt.has(id)) this.handedOutAt.set(id, writtenAt);
      }
    }
  }

  /** The Bot API's file endpoint: the bytes of a file getFile returned a path for. */
  private serveFile(token: string, filePath: string, res: ServerResponse): void {
    const file = token === this.token ? [...this.files.values()].find((f) => f.file_path === filePath) : undefined;
    this.downloads.push(filePath);
    if (!file) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ok: false, error_code: 404, description: 'Not Found' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.bytes.length }).end(file.bytes);
  }

  // -- methods ------------------------------------------------------------------------------

  private async getUpdates(p: Json, signal: AbortSignal): Promise<Json[]> {
    const offset = optionalInt(p.offset);
    const limit = Math.min(Math.max(optionalInt(p.limit) ?? 100, 1), 100);
    const timeout = optionalInt(p.timeout) ?? 0;
    if (offset !== undefined && offset < 0) this.updates.splice(0, Math.max(0, this.updates.length + offset));
    else if (offset !== undefined) while ((this.updates[0]?.update_id as number) < offset) this.updates.shift();
    this.pendingPoll?.conflict();
    if (this.updates.length > 0 || timeout <= 0) return this.updates.slice(0, limit);
    return new Promise((resolve, reject) => {
      const settle = (error?: ApiFailure): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        if (this.pendingPoll === poll) this.pendingPoll = undefined;
        if (error) reject(error);
        else resolve(this.updates.slice(0, limit));
      };
      const wake = (): void => settle();
      const poll: PendingPoll = {
        wake,
        conflict: () =>
          settle(
            new ApiFailure(
              409,
              'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
            ),
          ),
      };
      const timer = setTimeout(wake, timeout * 1000);
      signal.addEventListener('abort', wake);
      this.pendingPoll = poll;
    });
  }

  private privateChat(p: Json): ChatState {
    const id = optionalInt(p.chat_id);
    const chat = id === undefined ? undefined : this.chats.get(id);
    if (!chat) throw badRequest('chat not found');
    return chat;
  }

  private checkedText(p: Json, allowEmpty = false): Parsed {
    const text = typeof p.text === 'string' ? p.text : '';
    const parsed = parseText(text, p.parse_mode, p.entities);
    if (!allowEmpty && parsed.visibleText.trim() === '') throw badRequest('message text is empty');
    if (parsed.visibleText.length > MAX_TEXT) throw badRequest('message is too long');
    return parsed;
  }

  private sendMessage(p: Json): Json {
    const chat = this.privateChat(p);
    const parsed = this.checkedText(p);
    const record: MessageRecord = {
      message_id: chat.nextMessageId++,
      chat_id: chat.id,
      text: String(p.text),
      ...parsed,
      parse_mode: p.parse_mode as string | undefined,
      reply_markup: checkMarkup(p.reply_markup),
      date: now(),
      editHistory: [],
      deleted: false,
    };
    chat.botMessages.push(record);
    return this.toMessage(chat.id, record);
  }

  private sendVoice(p: Json): Json {
    const chat = this.privateChat(p);
    const upload = asObject(p.voice);
    const bytes = upload?.bytes;
    if (!Buffer.isBuffer(bytes)) {
      const known = typeof p.voice === 'string' ? this.files.get(p.voice) : undefined;
      if (!known) throw badRequest('wrong file identifier/HTTP URL specified');
    }
    const caption = typeof p.caption === 'string' ? p.caption : '';
    const parsed = parseText(caption, p.parse_mode, p.caption_entities);
    if (parsed.visibleText.length > MAX_CAPTION) throw badRequest('message caption is too long');
    const record: MessageRecord = {
      message_id: chat.nextMessageId++,
      chat_id: chat.id,
      text: caption,
      ...parsed,
      parse_mode: p.parse_mode as string | undefined,
      reply_markup: checkMarkup(p.reply_markup),
      date: now(),
      editHistory: [],
      deleted: false,
      voice: {
        bytes: Buffer.isBuffer(bytes) ? bytes : this.files.get(String(p.voice))!.bytes,
        filename: typeof upload?.filename === 'string' ? upload.filename : 'voice.ogg',
        duration: optionalInt(p.duration),
      },
    };
    chat.botMessages.push(record);
    return this.toMessage(chat.id, record);
  }

  private sendPhoto(p: Json): Json {
    const chat = this.privateChat(p);
    const upload = asObject(p.photo);
    const bytes = upload?.bytes;
    // Only uploads: the bot sends pictures it drew, never a file_id.
    if (!Buffer.isBuffer(bytes)) throw badRequest('wrong file identifier/HTTP URL specified');
    const caption = typeof p.caption === 'string' ? p.caption : '';
    const parsed = parseText(caption, p.parse_mode, p.caption_entities);
    if (parsed.visibleText.length > MAX_CAPTION) throw badRequest('message caption is too long');
    const record: MessageRecord = {
      message_id: chat.nextMessageId++,
      chat_id: chat.id,
      text: caption,
      ...parsed,
      parse_mode: p.parse_mode as string | undefined,
      reply_markup: checkMarkup(p.reply_markup),
      date: now(),
      editHistory: [],
      deleted: false,
      photo: { bytes, filename: typeof upload?.filename === 'string' ? upload.filename : 'photo.png' },
    };
    chat.botMessages.push(record);
    return this.toMessage(chat.id, record);
  }

  private getFile(p: Json): Json {
    const file = typeof p.file_id === 'string' ? this.files.get(p.file_id) : undefined;
    if (!file) throw badRequest('invalid file_id');
    if (file.bytes.length > MAX_DOWNLOAD) throw badRequest('file is too big');
    return {
      file_id: file.file_id,
      file_unique_id: file.file_unique_id,
      file_size: file.bytes.length,
      file_path: file.file_path,
    };
  }

  private botMessage(p: Json, missing: string): { chat: ChatState; message: MessageRecord } {
    if (p.inline_message_id !== undefined) throw badRequest('inline messages are not supported by the fake');
    const chat = this.privateChat(p);
    const id = requiredInt(p, 'message_id');
    const message = chat.botMessages.find((m) => m.message_id === id && !m.deleted);
    if (!message)
      throw badRequest(
        chat.userMessages.has(id) && missing !== 'message to delete not found' ? "message can't be edited" : missing,
      );
    return { chat, message };
  }

  private editMessageText(p: Json): Json {
    const { chat, message } = this.botMessage(p, 'message to edit not found');
    const parsed = this.checkedText(p);
    // Without reply_markup, editMessageText removes the inline keyboard (real Telegram behaviour).
    const markup = checkMarkup(p.reply_markup);
    if (
      parsed.visibleText === message.visibleText &&
      JSON.stringify(parsed.entities) === JSON.stringify(message.entities) &&
      JSON.stringify(markup) === JSON.stringify(message.reply_markup)
    ) {
      throw badRequest(NOT_MODIFIED);
    }
    message.editHistory.push(message.visibleText);
    Object.assign(message, parsed, { text: String(p.text), parse_mode: p.parse_mode, reply_markup: markup, edit_date: now() });
    return this.toMessage(chat.id, message);
  }

  private editMessageReplyMarkup(p: Json): Json {
    const { chat, message } = this.botMessage(p, 'message to edit not found');
    const markup = checkMarkup(p.reply_markup);
    if (JSON.stringify(markup) === JSON.stringify(message.reply_markup)) throw badRequest(NOT_MODIFIED);
    Object.assign(message, { reply_markup: markup, edit_date: now() });
    return this.toMessage(chat.id, message);
  }

  private deleteMessage(p: Json): true {
    const chat = this.privateChat(p);
    const id = requiredInt(p, 'message_id');
    const message = chat.botMessages.find((m) => m.message_id === id && !m.deleted);
    if (message) message.deleted = true;
    else if (!chat.userMessages.delete(id)) throw badRequest('message to delete not found');
    return true;
  }

  private answerCallbackQuery(p: Json): true {
    const id = typeof p.callback_query_id === 'string' ? p.callback_query_id : '';
    const query = this.callbackQueries.get(id);
    if (!query || query.answered) throw badRequest('query is too old and response timeout expired or query ID is invalid');
    query.answered = true;
    this.chat(query.chatId).answers.push({
      callback_query_id: id,
      text: p.text as string | undefined,
      show_alert: p.show_alert as boolean | undefined,
      url: p.url as string | undefined,
    });
    return true;
  }

  private sendChatAction(p: Json): true {
    const chat = this.privateChat(p);
    const action = typeof p.action === 'string' ? p.action : '';
    if (!CHAT_ACTIONS.has(action)) throw badRequest('wrong parameter action in request');
    chat.actions.push({ action, time: Date.now() });
    return true;
  }

  private sendMessageDraft(p: Json): true {
    const chat = this.privateChat(p);
    const draftId = requiredInt(p, 'draft_id');
    // The exact wording of this error is not documented; the rule (non-zero) is.
    if (draftId === 0) throw badRequest('draft_id must be non-zero');
    const parsed = this.checkedText(p, true);
    chat.drafts.push({
      draft_id: draftId,
      text: typeof p.text === 'string' ? p.text : '',
      visibleText: parsed.visibleText,
      parse_mode: p.parse_mode as string | undefined,
      time: Date.now(),
    });
    return true;
  }

  private setMyCommands(p: Json): true {
    const commands = Array.isArray(p.commands) ? (p.commands as unknown[]).map((c) => asObject(c) ?? {}) : undefined;
    if (!commands || commands.length > 100) throw badRequest('commands must be an array of at most 100 BotCommand');
    for (const c of commands) {
      if (typeof c.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(c.command)) throw badRequest('BOT_COMMAND_INVALID');
      if (typeof c.description !== 'string' || c.description.length < 1 || c.description.length > 256) {
        throw badRequest('command description must be non-empty');
      }
    }
    this.commandSets.set(commandKey(p.language_code, asObject(p.scope)), commands);
    return true;
  }
}

function commandKey(languageCode: unknown, scope: Json | undefined): string {
  const canonical = scope ?? { type: 'default' };
  return `${JSON.stringify(canonical, Object.keys(canonical).sort())}|${typeof languageCode === 'string' ? languageCode : ''}`;
}

function chatOf(user: Json): Json {
  const chat: Json = { id: user.id, type: 'private', first_name: user.first_name };
  if (user.username !== undefined) chat.username = user.username;
  return chat;
}

function describeMessage(m: BotMessage, seen: boolean): string {
  const buttons = inlineButtons(m.reply_markup).map((b) => `[${String(b.text)} → ${String(b.callback_data ?? b.url)}]`);
  return `  #${m.message_id}${seen ? ' (seen)' : ''}${m.deleted ? ' (deleted)' : ''}: ${JSON.stringify(m.visibleText)} ${buttons.join(' ')}`;
}

// ---------------------------------------------------------------------------------------------
// Simulated users

/**
 * A user in a private chat with the bot. Reading bot messages works like reading a chat: a cursor
 * marks the messages the test has already seen. `waitForMessage` resolves with the first message
 * after the cursor (already arrived or still to come) that matches, and moves the cursor past it,
 * so a reply that arrives before the test starts waiting is never missed, and never read twice.
 */
export class FakeUser {
  private seen = 0;
  /** The message_id of the user's latest message (for `editText`). */
  lastSentMessageId: number | undefined;

  constructor(
    private readonly fake: TelegramFake,
    readonly id: number,
  ) {}

  /** The Telegram `User` object of this user. */
  get info(): Json {
    return this.fake.chat(this.id).user;
  }

  sendText(text: string): number {
    const entities = [...text.matchAll(/(?<=^|\s)\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)/g)].map((m) => ({
      type: 'bot_command',
      offset: m.index,
      length: m[0].length,
    }));
    return this.sendMessage({ text, ...(entities.length > 0 ? { entities } : {}) });
  }

  sendSticker(): number {
    return this.sendMessage({
      sticker: {
        file_id: 'CAACAgIAAxkBAAIBsticker',
        file_unique_id: 'AgADsticker',
        type: 'regular',
        width: 512,
        height: 512,
        is_animated: false,
        is_video: false,
        emoji: '👍',
      },
    });
  }

  sendPhoto(caption?: string): number {
    const size = (n: number): Json => ({
      file_id: `AgACAgIAAxkBAAIBphoto${n}`,
      file_unique_id: `AQADphoto${n}`,
      width: n,
      height: n,
      file_size: n * 100,
    });
    return this.sendMessage({ photo: [size(90), size(320), size(800)], ...(caption !== undefined ? { caption } : {}) });
  }

  /**
   * A voice note of these bytes (Ogg Opus, as Telegram records them), `duration` whole seconds long.
   * The bot can download it as from Telegram: getFile, then the file endpoint.
   */
  sendVoice(bytes: Uint8Array, duration: number): number {
    const file = this.fake.storeFile(bytes, 'voice', 'oga');
    return this.sendMessage({
      voice: {
        file_id: file.file_id,
        file_unique_id: file.file_unique_id,
        duration,
        mime_type: 'audio/ogg',
        file_size: bytes.length,
      },
    });
  }

  /** An audio file (a recorded call, say), downloadable like a voice note. */
  sendAudio(bytes: Uint8Array, duration: number, opts: { fileName?: string; mimeType?: string } = {}): number {
    const fileName = opts.fileName ?? 'call.mp3';
    const file = this.fake.storeFile(bytes, 'music', fileName.split('.').pop() ?? 'mp3');
    return this.sendMessage({
      audio: {
        file_id: file.file_id,
        file_unique_id: file.file_unique_id,
        duration,
        file_name: fileName,
        mime_type: opts.mimeType ?? 'audio/mpeg',
        file_size: bytes.length,
      },
    });
  }

  /** A round video note, downloadable like a voice note. */
  sendVideoNote(bytes: Uint8Array, duration: number): number {
    const file = this.fake.storeFile(bytes, 'video_notes', 'mp4');
    return this.sendMessage({
      video_note: { file_id: file.file_id, file_unique_id: file.file_unique_id, length: 240, duration, file_size: bytes.length },
    });
  }

  sendDocument(fileName = 'document.pdf', mimeType = 'application/pdf'): number {
    return this.sendMessage({
      document: {
        file_id: 'BQACAgIAAxkBAAIBdoc',
        file_unique_id: 'AgADdoc',
        file_name: fileName,
        mime_type: mimeType,
        file_size: 12345,
      },
    });
  }

  sendLocation(latitude = 55.7558, longitude = 37.6173): number {
    return this.sendMessage({ location: { latitude, longitude } });
  }

  sendContact(phoneNumber = '+79990000000', firstName = 'Contact'): number {
    return this.sendMessage({ contact: { phone_number: phoneNumber, first_name: firstName } });
  }

  /** The user edits one of their own messages (an `edited_message` update). */
  editText(messageId: number, text: string): number {
    const original = this.fake.chat(this.id).userMessages.get(messageId);
    if (!original) throw new Error(`User ${this.id} has no message #${messageId} to edit`);
    const edited = { ...original, text, edit_date: now() };
    this.fake.chat(this.id).userMessages.set(messageId, edited);
    return this.fake.enqueue({ edited_message: edited });
  }

  /** Presses the inline button carrying `callbackData` on message `messageId`, or on the latest message that has it. */
  pressButton(callbackData: string, messageId?: number): number {
    const hasButton = (m: BotMessage): boolean => inlineButtons(m.reply_markup).some((b) => b.callback_data === callbackData);
    const candidates = this.messages().filter((m) => messageId === undefined || m.message_id === messageId);
    const target = candidates.reverse().find(hasButton);
    if (!target) {
      throw new Error(
        `User ${this.id} sees no button with callback data ${JSON.stringify(callbackData)}` +
          `${messageId !== undefined ? ` on message #${messageId}` : ''}. Messages:\n${this.describeChat()}`,
      );
    }
    const record = this.fake.chat(this.id).botMessages.find((m) => m.message_id === target.message_id)!;
    return this.fake.enqueue({
      callback_query: {
        id: this.fake.newCallbackId(this.id),
        from: this.info,
        message: this.fake.toMessage(this.id, record),
        chat_instance: String(8_000_000_000 + this.id),
        data: callbackData,
      },
    });
  }

  /**
   * A callback query with data no button carries — what a modified client can send. It comes on the
   * latest bot message (or none at all with `withoutMessage`), and the bot may answer it like any other.
   */
  sendForgedCallback(callbackData: string, options: { withoutMessage?: boolean } = {}): number {
    const record = this.fake.chat(this.id).botMessages.at(-1);
    return this.fake.enqueue({
      callback_query: {
        id: this.fake.newCallbackId(this.id),
        from: this.info,
        ...(record && !options.withoutMessage ? { message: this.fake.toMessage(this.id, record) } : {}),
        chat_instance: String(8_000_000_000 + this.id),
        data: callbackData,
      },
    });
  }

  /** Enqueues any update (its `update_id` is assigned here), e.g. `{ my_chat_member: … }`. */
  sendUpdate(partialUpdate: Json): number {
    return this.fake.enqueue(partialUpdate);
  }

  /** The bot's messages in this chat, oldest first, edits applied (deleted ones only on request). */
  messages(opts: { includeDeleted?: boolean } = {}): BotMessage[] {
    return this.fake
      .chat(this.id)
      .botMessages.filter((m) => opts.includeDeleted === true || !m.deleted)
      .map((m) => ({ ...m, entities: [...m.entities], editHistory: [...m.editHistory] }));
  }

  lastMessage(): BotMessage | undefined {
    return this.messages().at(-1);
  }

  /** See the class comment: the first unseen matching message; every message up to it becomes seen. */
  waitForMessage(predicate: (m: BotMessage) => boolean = () => true, timeoutMs = 10_000): Promise<BotMessage> {
    const find = (): BotMessage | undefined => {
      const all = this.messages({ includeDeleted: true });
      const index = all.findIndex((m, i) => i >= this.seen && !m.deleted && predicate(m));
      if (index < 0) return undefined;
      this.seen = index + 1;
      return all[index];
    };
    return this.fake.waitUntil(
      find,
      timeoutMs,
      () =>
        `No ${predicate.length > 0 ? 'matching ' : ''}bot message arrived in chat ${this.id} within ${timeoutMs} ms.\n${this.describeChat()}`,
    );
  }

  /** The next bot message the test has not seen yet. */
  waitForNextMessage(timeoutMs = 10_000): Promise<BotMessage> {
    return this.waitForMessage(() => true, timeoutMs);
  }

  /** Marks every message so far as seen, so the next wait only sees newer ones. */
  markSeen(): void {
    this.seen = this.messages({ includeDeleted: true }).length;
  }

  drafts(): Draft[] {
    return [...this.fake.chat(this.id).drafts];
  }

  chatActions(): ChatAction[] {
    return [...this.fake.chat(this.id).actions];
  }

  callbackAnswers(): CallbackAnswer[] {
    return [...this.fake.chat(this.id).answers];
  }

  private sendMessage(content: Json): number {
    const chat = this.fake.chat(this.id);
    const message = { message_id: chat.nextMessageId++, from: this.info, chat: chatOf(this.info), date: now(), ...content };
    chat.userMessages.set(message.message_id, message);
    this.lastSentMessageId = message.message_id;
    return this.fake.enqueue({ message });
  }

  private describeChat(): string {
    const messages = this.messages({ includeDeleted: true });
    const failed = this.fake.calls.filter((c) => c.error && Number(c.params.chat_id) === this.id);
    return [
      `Bot messages in chat ${this.id} (${messages.length}, ${this.seen} seen):`,
      ...(messages.length > 0 ? messages.map((m, i) => describeMessage(m, i < this.seen)) : ['  (none)']),
      ...(failed.length > 0
        ? ['Failed API calls for this chat:', ...failed.map((c) => `  ${c.method}: ${c.error!.description}`)]
        : []),
    ].join('\n');
  }
}
