import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { StartupError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * Whether one dependency is reachable. The signal aborts when the probe's time is up: a probe that
 * makes a request should pass it on, so a hung dependency leaves nothing running behind.
 */
export type Probe = (signal: AbortSignal) => Promise<boolean>;

export interface ProbeResult {
  readonly ok: boolean;
  readonly ms: number;
  /** Why it failed; never the error's text, which may quote a URL with a token. */
  readonly error?: 'failed' | 'threw' | 'timeout';
}

export interface Readiness {
  readonly status: 'ready' | 'unready';
  readonly checks: Readonly<Record<string, ProbeResult>>;
}

export interface HealthServerOptions {
  /** 0 lets the system choose a free port (tests); the chosen one is returned. */
  readonly port: number;
  /** Listens on every interface unless told: in a container, the health check and Prometheus come from outside the loopback. */
  readonly host?: string;
  readonly logger: Logger;
  /** Read on every /readyz request, so entries may be replaced as the parts they check start. */
  readonly probes: Readonly<Record<string, Probe>>;
  readonly registry: Registry;
  /** How long one probe may take before it counts as failed, ms. */
  readonly probeTimeoutMs?: number;
}

export interface HealthServer {
  readonly port: number;
  stop(): Promise<void>;
}

const DEFAULT_PROBE_TIMEOUT_MS = 2_000;

/**
 * Serves `/healthz` (the process lives), `/readyz` (every probe passes: 200, otherwise 503, with each
 * probe's result) and `/metrics` (Prometheus text from `registry`).
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const log = options.logger.child({ part: 'health' });
  const timeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const lastOutcome = new Map<string, boolean>();

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log.error({ err: error, url: request.url }, 'health endpoint failed');
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('internal error\n');
    });
  });
  // Keep-alive connections from a scraper must not hold shutdown up.
  server.keepAliveTimeout = 5_000;

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const { pathname } = new URL(request.url ?? '/', 'http://health.local');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendJson(response, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
      return;
    }
    switch (pathname) {
      case '/healthz':
        sendJson(response, 200, { status: 'ok' });
        return;
      case '/readyz': {
        const readiness = await checkReadiness(options.probes, timeoutMs, logChange);
        sendJson(response, readiness.status === 'ready' ? 200 : 503, readiness);
        return;
      }
      case '/metrics': {
        const body = await options.registry.metrics();
        response.writeHead(200, { 'content-type': options.registry.contentType, 'cache-control': 'no-store' });
        response.end(body);
        return;
      }
      default:
        sendJson(response, 404, { error: 'not found', endpoints: ['/healthz', '/readyz', '/metrics'] });
    }
  }

  // One line when a probe changes state, not one per request: /readyz is polled every few seconds.
  function logChange(name: string, result: ProbeResult, cause: unknown): void {
    const before = lastOutcome.get(name);
    lastOutcome.set(name, result.ok);
    if (before === result.ok) return;
    if (!result.ok) {
      log.warn({ probe: name, reason: result.error, ms: result.ms, err: cause }, 'dependency not reachable: /readyz answers 503');
    } else if (before !== undefined) {
      log.info({ probe: name, ms: result.ms }, 'dependency reachable again');
    }
  }

  await listen(server, options.port, options.host);
  const port = (server.address() as AddressInfo).port;
  log.info({ port, endpoints: ['/healthz', '/readyz', '/metrics'] }, 'health server listening');

  return {
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * Runs every probe at once, each within `timeoutMs`. `onResult` also receives what a probe threw,
 * for the log only.
 */
export async function checkReadiness(
  probes: Readonly<Record<string, Probe>>,
  timeoutMs: number,
  onResult?: (name: string, result: ProbeResult, cause: unknown) => void,
): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      const { result, cause } = await runProbe(probe, timeoutMs);
      onResult?.(name, result, cause);
      return [name, result] as const;
    }),
  );
  return {
    status: entries.every(([, result]) => result.ok) ? 'ready' : 'unready',
    checks: Object.fromEntries(entries),
  };
}

async function runProbe(probe: Probe, timeoutMs: number): Promise<{ result: ProbeResult; cause?: unknown }> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ outcome: 'timeout' }>((resolve) => {
    timer = setTimeout(() => resolve({ outcome: 'timeout' }), timeoutMs);
  });
  const settled = await Promise.race([
    Promise.resolve()
      .then(() => probe(controller.signal))
      .then(
        (ok) => ({ outcome: ok ? ('ok' as const) : ('failed' as const) }),
        (error: unknown) => ({ outcome: 'threw' as const, cause: error }),
      ),
    timeout,
  ]);
  clearTimeout(timer);
  if (settled.outcome === 'timeout') controller.abort();
  const ms = Math.round(performance.now() - started);
  if (settled.outcome === 'ok') return { result: { ok: true, ms } };
  return { result: { ok: false, ms, error: settled.outcome }, cause: 'cause' in settled ? settled.cause : undefined };
}

/** A probe that passes when `url` answers 2xx: Chroma's `/api/v2/heartbeat`, for one. */
export function httpProbe(url: string): Probe {
  return async (signal) => {
    const response = await fetch(url, { signal });
    await response.body?.cancel();
    return response.ok;
  };
}

function sendJson(
  response: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  response.end(`${JSON.stringify(body)}\n`);
}

function listen(server: http.Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(
        error.code === 'EADDRINUSE' || error.code === 'EACCES'
          ? new StartupError(
              `Порт HEALTH_PORT=${port} ${error.code === 'EADDRINUSE' ? 'уже занят другой программой' : 'недоступен (нет прав)'}. ` +
                'Укажите другой HEALTH_PORT или 0, чтобы выключить /healthz, /readyz и /metrics.',
              1,
              { cause: error },
            )
          : error,
      );
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
