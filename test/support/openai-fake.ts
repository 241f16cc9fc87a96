/**
 * A loopback OpenAI-compatible server for end-to-end tests: POST /v1/chat/completions (plain and SSE
 * streaming, structured output), POST /v1/audio/transcriptions (multipart) and /v1/audio/speech, and
 * GET /v1/models, with OpenAI's object and error shapes, so the real `openai` SDK talks to it through
 * OPENAI_BASE_URL exactly as it talks to api.openai.com.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseMultipart } from './multipart.js';

type Json = Record<string, unknown>;

export interface ChatMessage {
  readonly role: string;
  readonly content?: unknown;
  readonly [key: string]: unknown;
}
export type ResponseFormat =
  | { readonly type: 'text' }
  | { readonly type: 'json_object' }
  | {
      readonly type: 'json_schema';
      readonly json_schema: { readonly name: string; readonly schema?: Json; readonly strict?: boolean | null };
    };

export interface RecordedRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly stream: boolean;
  readonly responseFormat: ResponseFormat | undefined;
  /** The whole parsed request body. */
  readonly body: Json;
  readonly receivedAt: number;
}

/**
 * What the programmed handler answers:
 * - a string: the assistant's content;
 * - `{ content }`: the same, with `delayMs` before the answer (when streaming: after the headers and the
 *   role delta, before the first content chunk, so a client timeout no longer applies),
 *   `chunkDelayMs` between stream chunks, `chunks` to choose the exact stream pieces, `finishReason`;
 * - `{ status, body? }`: an HTTP error (body defaults to OpenAI's error object for that status);
 * - `{ hang: true }`: never answers (the connection is closed by `stop()` or the client's timeout).
 */
export type Reply =
  | string
  | {
      readonly content: string;
      readonly delayMs?: number;
      readonly chunkDelayMs?: number;
      readonly chunks?: readonly string[];
      readonly finishReason?: 'stop' | 'length' | 'content_filter';
    }
  | { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly hang: true };

export type ReplyHandler = (req: RecordedRequest) => Reply | Promise<Reply>;

/** One POST /v1/audio/transcriptions: the file exactly as it arrived, and the other fields. */
export interface TranscriptionRequest {
  readonly model: string;
  readonly fileName: string;
  readonly bytes: Buffer;
  readonly fields: Readonly<Record<string, string>>;
  readonly receivedAt: number;
}

/** One POST /v1/audio/speech. */
export interface SpeechRequest {
  readonly model: string;
  readonly input: string;
  readonly voice: string;
  readonly responseFormat: string | undefined;
  readonly receivedAt: number;
}

/** What the transcription endpoint answers: the text, or an HTTP error; `delayMs` before it. */
export type TranscriptionReply = string | { readonly text: string; readonly delayMs?: number } | { readonly status: number };

export interface OpenAiFakeOptions {
  /** The key the client must send as `Authorization: Bearer <key>`. */
  readonly apiKey?: string;
  /** false: json_schema response formats fail with 400, like endpoints that lack structured output. */
  readonly supportsJsonSchema?: boolean;
  /** Default pause between stream chunks. */
  readonly chunkDelayMs?: number;
  /** The address to listen on: the loopback unless told (e.g. the docker0 bridge for containers). */
  readonly host?: string;
  /** false: no /audio endpoints at all (404), like a chat-only server. */
  readonly audio?: boolean;
}

/** The voice the speech endpoint answers with: a real Ogg Opus file (espeak-ng, then opusenc). */
export const speechFixture: Buffer = readFileSync(path.resolve(import.meta.dirname, '../fixtures/client-reply.ogg'));

/** OpenAI's list; it goes by the file name's extension (a Telegram `.oga` is refused by name). */
const transcribableExtensions = ['flac', 'mp3', 'mp4', 'mpeg', 'mpga', 'm4a', 'ogg', 'wav', 'webm'];

/** Whether the bytes start like one of those containers. */
function looksLikeAudio(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 12);
  const ascii = head.toString('latin1');
  return (
    ascii.startsWith('OggS') ||
    ascii.startsWith('RIFF') ||
    ascii.startsWith('ID3') ||
    ascii.startsWith('fLaC') ||
    ascii.slice(4, 8) === 'ftyp' ||
    (head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0) ||
    head.readUInt32BE(0) === 0x1a45dfa3
  );
}

/**
 * The transcript of an Ogg Opus file made for the tests: the `transcript=` comment opusenc wrote into
 * its OpusTags header (so the words follow from the file itself). Any other audio gets a line naming
 * its size, so a test can still tell which file was heard.
 */
export function transcriptOf(bytes: Buffer): string {
  const tags = bytes.indexOf('OpusTags');
  if (tags >= 0) {
    let at = tags + 8;
    const vendor = bytes.readUInt32LE(at);
    at += 4 + vendor;
    const count = bytes.readUInt32LE(at);
    at += 4;
    for (let i = 0; i < count && at + 4 <= bytes.length; i += 1) {
      const length = bytes.readUInt32LE(at);
      const comment = bytes.subarray(at + 4, at + 4 + length).toString('utf8');
      at += 4 + length;
      if (comment.toLowerCase().startsWith('transcript=')) return comment.slice('transcript='.length);
    }
  }
  return `Голосовая реплика, ${bytes.length} байт.`;
}

const DEFAULT_CHAT_REPLY = 'Здравствуйте! Расскажите, пожалуйста, подробнее, что именно вы предлагаете?';

/** The built-in behaviour: an example object for json_schema, `{}` for json_object, a short Russian line otherwise. */
export function defaultReply(req: RecordedRequest): string {
  const format = req.responseFormat;
  if (format?.type === 'json_schema') return JSON.stringify(exampleFromSchema(format.json_schema.schema ?? {}));
  if (format?.type === 'json_object') return '{}';
  return DEFAULT_CHAT_REPLY;
}

/** A value valid for a JSON schema: every required property, one array item, numbers inside their bounds. */
export function exampleFromSchema(schema: Json, root: Json = schema, depth = 0): unknown {
  if (depth > 32) return null;
  if (typeof schema.$ref === 'string') return exampleFromSchema(resolveRef(root, schema.$ref), root, depth + 1);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0] as unknown;
  const variants = (schema.anyOf ?? schema.oneOf ?? schema.allOf) as Json[] | undefined;
  if (Array.isArray(variants) && variants.length > 0) {
    return exampleFromSchema(variants.find((v) => v.type !== 'null') ?? variants[0]!, root, depth + 1);
  }
  const declared = Array.isArray(schema.type) ? (schema.type as string[]).find((t) => t !== 'null') : schema.type;
  const type = declared ?? (schema.properties ? 'object' : schema.items ? 'array' : 'string');
  switch (type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Json>;
      const required = Array.isArray(schema.required) ? (schema.required as string[]) : Object.keys(properties);
      return Object.fromEntries(required.map((key) => [key, exampleFromSchema(properties[key] ?? {}, root, depth + 1)]));
    }
    case 'array': {
      const items = (typeof schema.items === 'object' && schema.items !== null ? schema.items : {}) as Json;
      const count = Math.max(1, Number(schema.minItems ?? 0));
      return Array.from({ length: count }, () => exampleFromSchema(items, root, depth + 1));
    }
    case 'integer':
    case 'number':
      return numberWithin(schema, type === 'integer');
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return stringFor(schema);
  }
}

function resolveRef(root: Json, ref: string): Json {
  if (!ref.startsWith('#')) throw new Error(`OpenAiFake resolves only local $ref, got ${ref}`);
  let node: unknown = root;
  for (const part of ref.slice(1).split('/').filter(Boolean)) {
    node = (node as Json | undefined)?.[decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  if (typeof node !== 'object' || node === null) throw new Error(`OpenAiFake cannot resolve $ref ${ref}`);
  return node as Json;
}

function numberWithin(schema: Json, integer: boolean): number {
  const step = integer ? 1 : 0.5;
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  const low =
    num(schema.minimum) ?? (num(schema.exclusiveMinimum) !== undefined ? num(schema.exclusiveMinimum)! + step : undefined);
  const high =
    num(schema.maximum) ?? (num(schema.exclusiveMaximum) !== undefined ? num(schema.exclusiveMaximum)! - step : undefined);
  const value = low !== undefined && high !== undefined ? (low + high) / 2 : (low ?? Math.min(high ?? 1, 1));
  return integer ? Math.floor(value) : value;
}

function stringFor(schema: Json): string {
  const byFormat: Readonly<Record<string, string>> = {
    'date-time': new Date(0).toISOString(),
    date: '1970-01-01',
    email: 'user@example.com',
    uri: 'https://example.com',
    uuid: '00000000-0000-4000-8000-000000000000',
  };
  let value = byFormat[String(schema.format)] ?? '…';
  const minLength = Number(schema.minLength ?? 0);
  while (value.length < minLength) value += '…';
  return typeof schema.maxLength === 'number' ? value.slice(0, schema.maxLength) : value;
}

/** OpenAI's error object for a status, as its API sends it. */
export function openAiError(status: number, message?: string, param: string | null = null): Json {
  const defaults: Readonly<Record<number, readonly [string, string, string | null]>> = {
    400: ['Bad request', 'invalid_request_error', null],
    401: [
      'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
      'invalid_request_error',
      'invalid_api_key',
    ],
    404: ['The model does not exist or you do not have access to it.', 'invalid_request_error', 'model_not_found'],
    429: ['Rate limit reached for requests. Please try again later.', 'requests', 'rate_limit_exceeded'],
    500: ['The server had an error while processing your request. Sorry about that!', 'server_error', null],
    503: ['The server is overloaded or not ready yet.', 'server_error', null],
  };
  const [text, type, code] = defaults[status] ?? [
    `Request failed with status ${status}`,
    status >= 500 ? 'server_error' : 'invalid_request_error',
    null,
  ];
  return { error: { message: message ?? text, type, param, code } };
}

const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

function messageText(message: ChatMessage): string {
  if (typeof message.content === 'string') return message.content;
  if (!Array.isArray(message.content)) return '';
  return (message.content as Json[]).map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
}

/** Splits text into about four pieces, never inside a surrogate pair. */
/** A pause of `ms`; none at all for 0 (a timer would still wait a millisecond). */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) await delay(ms, undefined, { signal });
}

function splitIntoChunks(text: string, pieces = 4): string[] {
  const points = Array.from(text);
  const size = Math.max(1, Math.ceil(points.length / pieces));
  const chunks: string[] = [];
  for (let i = 0; i < points.length; i += size) chunks.push(points.slice(i, i + size).join(''));
  return chunks;
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
  ) {
    super(JSON.stringify(body));
  }
}

export class OpenAiFake {
  readonly requests: RecordedRequest[] = [];
  readonly transcriptions: TranscriptionRequest[] = [];
  readonly speeches: SpeechRequest[] = [];
  private handler: ReplyHandler = defaultReply;
  private transcriber: (req: TranscriptionRequest) => TranscriptionReply | Promise<TranscriptionReply> = (req) =>
    transcriptOf(req.bytes);
  private transcriptionStatus: number | undefined;
  private speechStatus: number | undefined;
  private readonly failures: number[] = [];
  private readonly stopping = new AbortController();
  private nextId = 1;

  private constructor(
    private readonly server: Server,
    readonly apiKey: string,
    private readonly supportsJsonSchema: boolean,
    private readonly chunkDelayMs: number,
    private readonly audio: boolean,
  ) {}

  static async start(opts: OpenAiFakeOptions = {}): Promise<OpenAiFake> {
    const server = createServer();
    const fake = new OpenAiFake(
      server,
      opts.apiKey ?? 'sk-test-openai-fake',
      opts.supportsJsonSchema ?? true,
      opts.chunkDelayMs ?? 5,
      opts.audio ?? true,
    );
    server.keepAliveTimeout = 0;
    server.on('request', (req, res) => void fake.serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, opts.host ?? '127.0.0.1', resolve));
    return fake;
  }

  /** The value for OPENAI_BASE_URL / the SDK's `baseURL`. */
  get baseUrl(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address}:${port}/v1`;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Programs the answers; call with no argument to restore the default. */
  respondWith(handler: ReplyHandler = defaultReply): void {
    this.handler = handler;
  }

  /** The next `times` chat completion requests fail with this status and OpenAI's error body. */
  failNext(status: number, times = 1): void {
    for (let n = 0; n < times; n += 1) this.failures.push(status);
  }

  lastRequest(): RecordedRequest | undefined {
    return this.requests.at(-1);
  }

  /** Programs the transcripts; with no argument, each file's own (`transcriptOf`). */
  transcribeWith(transcriber?: (req: TranscriptionRequest) => TranscriptionReply | Promise<TranscriptionReply>): void {
    this.transcriber = transcriber ?? ((req) => transcriptOf(req.bytes));
  }

  /** Until called again with undefined, every transcription fails with `status` (503: the STT server is down). */
  failTranscriptions(status: number | undefined): void {
    this.transcriptionStatus = status;
  }

  /** Until called again with undefined, every speech request fails with `status`. */
  failSpeech(status: number | undefined): void {
    this.speechStatus = status;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const closed = new AbortController();
    res.on('close', () => closed.abort());
    const signal = AbortSignal.any([closed.signal, this.stopping.signal]);
    try {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
      const raw = await readBody(req);
      const body = raw.toString('utf8');
      if (req.headers.authorization !== `Bearer ${this.apiKey}`) throw new HttpFailure(401, openAiError(401));
      if (req.method === 'POST' && path.startsWith('/v1/audio/') && !this.audio) {
        throw new HttpFailure(404, openAiError(404, `Invalid URL (${req.method} ${path})`));
      }
      if (req.method === 'POST' && path === '/v1/audio/transcriptions') {
        await this.transcription(raw, req.headers['content-type'] ?? '', res, signal);
      } else if (req.method === 'POST' && path === '/v1/audio/speech') {
        this.speech(body, res);
      } else if (req.method === 'GET' && path === '/v1/models') {
        sendJson(res, 200, {
          object: 'list',
          data: [{ id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' }],
        });
      } else if (req.method === 'POST' && path === '/v1/chat/completions') {
        await this.chatCompletion(parseRequest(body), res, signal);
      } else {
        throw new HttpFailure(404, openAiError(404, `Invalid URL (${req.method} ${path})`));
      }
    } catch (err) {
      if (err instanceof HttpFailure) return sendJson(res, err.status, err.body);
      if (signal.aborted) return;
      console.error('OpenAiFake failed on', req.url, err);
      sendJson(res, 500, openAiError(500, `OpenAiFake handler failed: ${String(err)}`));
    }
  }

  private async transcription(raw: Buffer, contentType: string, res: ServerResponse, signal: AbortSignal): Promise<void> {
    if (!contentType.startsWith('multipart/form-data')) {
      throw new HttpFailure(400, openAiError(400, 'Expected a multipart/form-data request', 'file'));
    }
    const parts = parseMultipart(raw, contentType);
    const file = parts.get('file');
    const model = parts.get('model');
    if (typeof model !== 'string' || model === '')
      throw new HttpFailure(400, openAiError(400, 'you must provide a model parameter', 'model'));
    if (file === undefined || typeof file === 'string')
      throw new HttpFailure(400, openAiError(400, "Missing required parameter: 'file'.", 'file'));
    const fields = Object.fromEntries([...parts].filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
    const request: TranscriptionRequest = {
      model,
      fileName: file.filename,
      bytes: file.bytes,
      fields,
      receivedAt: Date.now(),
    };
    this.transcriptions.push(request);
    if (this.transcriptionStatus !== undefined)
      throw new HttpFailure(this.transcriptionStatus, openAiError(this.transcriptionStatus));
    const extension = path.extname(request.fileName).slice(1).toLowerCase();
    if (!transcribableExtensions.includes(extension) || !looksLikeAudio(request.bytes)) {
      throw new HttpFailure(
        400,
        openAiError(400, `Invalid file format. Supported formats: ${JSON.stringify(transcribableExtensions)}`, 'file'),
      );
    }
    const reply = await this.transcriber(request);
    if (typeof reply === 'object' && 'status' in reply) throw new HttpFailure(reply.status, openAiError(reply.status));
    const answer = typeof reply === 'string' ? { text: reply } : reply;
    await delay(answer.delayMs ?? 0, undefined, { signal });
    const format = fields.response_format ?? 'json';
    if (format === 'text') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(answer.text);
      return;
    }
    sendJson(res, 200, { text: answer.text, usage: { type: 'duration', seconds: 1 } });
  }

  private speech(body: string, res: ServerResponse): void {
    let params: Json;
    try {
      params = JSON.parse(body) as Json;
    } catch {
      throw new HttpFailure(400, openAiError(400, 'We could not parse the JSON body of your request.'));
    }
    if (typeof params.model !== 'string' || params.model === '')
      throw new HttpFailure(400, openAiError(400, 'you must provide a model parameter', 'model'));
    if (typeof params.input !== 'string' || params.input === '')
      throw new HttpFailure(400, openAiError(400, "Missing required parameter: 'input'.", 'input'));
    if (typeof params.voice !== 'string' || params.voice === '')
      throw new HttpFailure(400, openAiError(400, "Missing required parameter: 'voice'.", 'voice'));
    this.speeches.push({
      model: params.model,
      input: params.input,
      voice: params.voice,
      responseFormat: typeof params.response_format === 'string' ? params.response_format : undefined,
      receivedAt: Date.now(),
    });
    if (this.speechStatus !== undefined) throw new HttpFailure(this.speechStatus, openAiError(this.speechStatus));
    res.writeHead(200, { 'content-type': 'audio/ogg', 'content-length': speechFixture.length }).end(speechFixture);
  }

  private async chatCompletion(request: RecordedRequest, res: ServerResponse, signal: AbortSignal): Promise<void> {
    this.requests.push(request);
    const failure = this.failures.shift();
    if (failure !== undefined) throw new HttpFailure(failure, openAiError(failure));
    if (request.responseFormat?.type === 'json_schema' && !this.supportsJsonSchema) {
      throw new HttpFailure(400, openAiError(400, 'response_format json_schema is not supported', 'response_format'));
    }
    const reply = await this.handler(request);
    if (typeof reply === 'object' && 'hang' in reply) return; // answered only by stop() closing the socket
    if (typeof reply === 'object' && 'status' in reply) {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body ?? openAiError(reply.status)));
      return;
    }
    const answer = typeof reply === 'string' ? { content: reply } : reply;
    if (!request.stream) await delay(answer.delayMs ?? 0, undefined, { signal });
    const id = `chatcmpl-fake${this.nextId++}`;
    const created = Math.floor(Date.now() / 1000);
    const promptTokens = request.messages.reduce((sum, m) => sum + estimateTokens(messageText(m)), 0);
    const completionTokens = estimateTokens(answer.content);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };
    const finishReason = answer.finishReason ?? 'stop';
    if (!request.stream) {
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: request.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: answer.content, refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage,
        service_tier: 'default',
        system_fingerprint: 'fp_fake',
      });
      return;
    }
    const includeUsage = (request.body.stream_options as Json | undefined)?.include_usage === true;
    const chunk = (choices: Json[], extra: Json = {}): string =>
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model: request.model,
        service_tier: 'default',
        system_fingerprint: 'fp_fake',
        choices,
        ...(includeUsage ? { usage: null } : {}),
        ...extra,
      })}\n\n`;
    const choice = (delta: Json, finish: string | null = null): Json => ({
      index: 0,
      delta,
      logprobs: null,
      finish_reason: finish,
    });
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    // Like OpenAI: headers and the role delta come at once, the content after the model "thinks".
    res.write(chunk([choice({ role: 'assistant', content: '', refusal: null })]));
    await pause(answer.delayMs ?? 0, signal);
    for (const [index, piece] of (answer.chunks ?? splitIntoChunks(answer.content)).entries()) {
      if (index > 0) await pause(answer.chunkDelayMs ?? this.chunkDelayMs, signal);
      res.write(chunk([choice({ content: piece })]));
    }
    res.write(chunk([choice({}, finishReason)]));
    if (includeUsage) res.write(chunk([], { usage }));
    res.end('data: [DONE]\n\n');
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function parseRequest(text: string): RecordedRequest {
  let body: Json;
  try {
    body = JSON.parse(text) as Json;
  } catch {
    throw new HttpFailure(400, openAiError(400, 'We could not parse the JSON body of your request.'));
  }
  if (typeof body.model !== 'string' || body.model === '') {
    throw new HttpFailure(400, openAiError(400, 'you must provide a model parameter'));
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw new HttpFailure(400, openAiError(400, "[] is too short - 'messages'", 'messages'));
  }
  const format = body.response_format as ResponseFormat | undefined;
  if (format !== undefined && !['text', 'json_object', 'json_schema'].includes(format.type)) {
    throw new HttpFailure(400, openAiError(400, `Invalid value: '${String(format.type)}'.`, 'response_format.type'));
  }
  return {
    model: body.model,
    messages: body.messages as ChatMessage[],
    stream: body.stream === true,
    responseFormat: format,
    body,
    receivedAt: Date.now(),
  };
}
