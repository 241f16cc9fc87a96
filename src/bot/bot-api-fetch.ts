import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { ApiClientOptions } from 'grammy';

type BotApiFetch = NonNullable<ApiClientOptions['fetch']>;

/** What grammY's API client passes to fetch (core/client.js: baseFetchConfig, the payload, its signal). */
interface BotApiRequest {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly agent?: http.Agent;
  readonly signal?: { readonly aborted: boolean; addEventListener(type: 'abort', listener: () => void): void };
}

/** What grammY reads of the answer: its body as JSON (errors come as JSON too, with `ok: false`). */
interface BotApiResponse {
  readonly ok: boolean;
  readonly status: number;
  json(): Promise<unknown>;
}

/**
 * The Bot API client's fetch: each call is one `http.request` on grammY's keep-alive agent, its
 * answer read whole. A JSON call is written in one piece; a file upload (grammY's multipart stream)
 * is piped, chunked, as node-fetch did. Four calls a turn went through node-fetch's Request, Headers
 * and body streams, a measurable share of the turn's CPU (docs/performance.md).
 */
export const botApiFetch = ((url: string, init: BotApiRequest = {}): Promise<BotApiResponse> =>
  new Promise((resolve, reject) => {
    if (init.signal?.aborted) return reject(abortError());
    const { body } = init;
    const headers: Record<string, string> = { ...init.headers };
    if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));
    const client = url.startsWith('https:') ? https : http;
    const request = client.request(
      url,
      { method: init.method ?? 'POST', headers, ...(init.agent ? { agent: init.agent } : {}) },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('close', () => {
          if (!response.complete) reject(new Error('the Bot API closed the connection before its answer ended'));
        });
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            ok: status >= 200 && status < 300,
            status,
            json: () => Promise.resolve(text).then((body) => JSON.parse(body) as unknown),
          });
        });
      },
    );
    request.on('error', reject);
    init.signal?.addEventListener('abort', () => request.destroy(abortError()));
    if (body instanceof Readable) {
      body.on('error', (error) => request.destroy(error));
      body.pipe(request);
    } else request.end(typeof body === 'string' ? body : undefined);
  })) as unknown as BotApiFetch;

function abortError(): Error {
  const error = new Error('The Bot API request was aborted');
  error.name = 'AbortError';
  return error;
}
