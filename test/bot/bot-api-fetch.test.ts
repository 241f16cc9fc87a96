import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Api, GrammyError, HttpError, InputFile } from 'grammy';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { botApiFetch } from '../../src/bot/bot-api-fetch.js';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

const token = '123:bot-api-fetch-test';
let server: Server;
let apiRoot: string;
let received: Received[] = [];
const sockets = new Set<Socket>();
let answer: (request: Received, res: ServerResponse) => void;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      received.push(request);
      answer(request, res);
    });
  });
  server.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiRoot = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
beforeEach(() => {
  received = [];
  answer = (_, res) => json(res, 200, { ok: true, result: true });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const api = () => new Api(token, { apiRoot, fetch: botApiFetch });

describe("the Bot API client's fetch", () => {
  it('sends a call as one JSON body with its length and reads the answer, on one kept-alive connection', async () => {
    answer = (request, res) =>
      json(res, 200, { ok: true, result: { message_id: 7, echoed: JSON.parse(request.body.toString()) as unknown } });
    const client = api();
    const first = await client.sendMessage(42, 'Здравствуйте! Ёжик, йогурт.');
    await client.sendChatAction(42, 'typing');

    expect(first).toMatchObject({ message_id: 7, echoed: { chat_id: 42, text: 'Здравствуйте! Ёжик, йогурт.' } });
    expect(received.map((r) => `${r.method} ${r.url}`)).toEqual([
      `POST /bot${token}/sendMessage`,
      `POST /bot${token}/sendChatAction`,
    ]);
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(Number(received[0]!.headers['content-length'])).toBe(received[0]!.body.length);
    expect(new Set(received.map((r) => r.headers.connection))).toEqual(new Set(['keep-alive']));
    const opened = sockets.size;
    await client.sendChatAction(42, 'typing');
    expect(sockets.size).toBe(opened);
  });

  it('gives grammY the error Telegram answered with, as GrammyError', async () => {
    answer = (_, res) => json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' });
    const error = await api()
      .sendMessage(1, 'x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrammyError);
    expect(error).toMatchObject({ error_code: 400, description: 'Bad Request: chat not found' });
  });

  it('uploads a file as grammY’s multipart stream, every byte of it', async () => {
    const bytes = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
    answer = (_, res) => json(res, 200, { ok: true, result: { message_id: 8 } });
    await api().sendDocument(42, new InputFile(bytes, 'prices.bin'), { caption: 'Прайс' });

    const [upload] = received;
    expect(upload!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    const body = upload!.body;
    expect(body.includes(bytes)).toBe(true);
    expect(body.toString('latin1')).toMatch(/filename="?prices\.bin/);
    expect(body.toString()).toContain('Прайс');
  });

  it('stops a waiting call when its signal aborts, and closes the request', async () => {
    let hung: ServerResponse | undefined;
    answer = (_, res) => {
      hung = res;
    };
    const controller = new AbortController();
    const call = api()
      .getUpdates({ timeout: 30 }, controller.signal as never)
      .catch((e: unknown) => e);
    await until(() => hung !== undefined);
    const closed = new Promise<void>((resolve) => hung!.on('close', () => resolve()));
    controller.abort();
    expect(await call).toBeInstanceOf(HttpError);
    await closed;
  });

  it('fails the call, not the process, when the connection drops before the answer ends', async () => {
    answer = (_, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"ok":true,"res');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const error = await api()
      .sendMessage(1, 'x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
  });

  it('fails the call when nothing listens', async () => {
    const error = await new Api(token, { apiRoot: 'http://127.0.0.1:9', fetch: botApiFetch })
      .sendMessage(1, 'x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(String((error as HttpError).error)).toMatch(/ECONNREFUSED/);
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}
