import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { StartupError } from '../src/errors.js';
import { httpProbe, startHealthServer, type HealthServer, type Probe } from '../src/health.js';
import { createLogger } from '../src/logger.js';
import { createMetrics, instrumentChatModel, instrumentJudge } from '../src/metrics.js';
import type { Judge } from '../src/services/judge.js';
import type { ChatModel } from '../src/services/llm.js';

const silent = createLogger({ level: 'silent', pretty: false });
const passing: Probe = async () => true;

const started: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.stop()));
});

async function start(probes: Record<string, Probe>, options: { probeTimeoutMs?: number; logger?: typeof silent } = {}) {
  const metrics = createMetrics();
  const server = await startHealthServer({
    port: 0,
    host: '127.0.0.1',
    logger: options.logger ?? silent,
    probes,
    registry: metrics.registry,
    ...(options.probeTimeoutMs !== undefined ? { probeTimeoutMs: options.probeTimeoutMs } : {}),
  });
  started.push(server);
  const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;
  return { server, metrics, url };
}

interface ReadyBody {
  status: string;
  checks: Record<string, { ok: boolean; ms: number; error?: string }>;
}

describe('/healthz', () => {
  it('answers 200 while the process lives, whatever the dependencies say', async () => {
    const { url } = await start({ database: async () => false });
    const response = await fetch(url('/healthz'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('listens on a port the system chose when asked for port 0', async () => {
    const { server } = await start({});
    expect(server.port).toBeGreaterThan(0);
  });
});

describe('/readyz', () => {
  it('answers 200 with every probe result when all pass', async () => {
    const { url } = await start({ database: passing, telegram: passing, chroma: passing });
    const response = await fetch(url('/readyz'));
    expect(response.status).toBe(200);
    const body = (await response.json()) as ReadyBody;
    expect(body.status).toBe('ready');
    expect(Object.keys(body.checks).sort()).toEqual(['chroma', 'database', 'telegram']);
    for (const check of Object.values(body.checks)) expect(check).toMatchObject({ ok: true });
  });

  it('answers 503 naming the probe that returned false', async () => {
    const { url } = await start({ database: async () => false, telegram: passing });
    const response = await fetch(url('/readyz'));
    expect(response.status).toBe(503);
    const body = (await response.json()) as ReadyBody;
    expect(body.status).toBe('unready');
    expect(body.checks.database).toMatchObject({ ok: false, error: 'failed' });
    expect(body.checks.telegram).toMatchObject({ ok: true });
  });

  it('answers 503 in time when a probe hangs, and aborts the probe', async () => {
    let aborted = false;
    const hanging: Probe = (signal) =>
      new Promise<boolean>(() => {
        signal.addEventListener('abort', () => (aborted = true));
      });
    const { url } = await start({ chroma: hanging, database: passing }, { probeTimeoutMs: 150 });
    const before = performance.now();
    const response = await fetch(url('/readyz'));
    const elapsed = performance.now() - before;
    expect(response.status).toBe(503);
    expect(elapsed).toBeLessThan(2_000);
    const body = (await response.json()) as ReadyBody;
    expect(body.checks.chroma).toMatchObject({ ok: false, error: 'timeout' });
    expect(body.checks.chroma!.ms).toBeGreaterThanOrEqual(140);
    expect(aborted).toBe(true);
  });

  it('answers 503 when a probe throws, without the error text (it may hold a token)', async () => {
    const token = '123456789:AAsecretsecretsecretsecretsecret00';
    const throwing: Probe = async () => {
      throw new Error(`request to https://api.telegram.org/bot${token}/getMe failed`);
    };
    const { url } = await start({ telegram: throwing });
    const response = await fetch(url('/readyz'));
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(text).not.toContain(token);
    expect((JSON.parse(text) as ReadyBody).checks.telegram).toMatchObject({ ok: false, error: 'threw' });
  });

  it('sees probes replaced after the start: parts register as they come up', async () => {
    const probes: Record<string, Probe> = { database: async () => false };
    const { url } = await start(probes);
    expect((await fetch(url('/readyz'))).status).toBe(503);
    probes.database = passing;
    expect((await fetch(url('/readyz'))).status).toBe(200);
  });

  it('turns unready when a dependency goes away, and ready again when it returns', async () => {
    let databaseUp = true;
    const { url } = await start({ database: async () => databaseUp });
    expect((await fetch(url('/readyz'))).status).toBe(200);
    databaseUp = false;
    expect((await fetch(url('/readyz'))).status).toBe(503);
    databaseUp = true;
    expect((await fetch(url('/readyz'))).status).toBe(200);
  });

  it('logs a state change once, not on every poll', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info', pretty: false, destination });
    const { url } = await start({ chroma: async () => false }, { logger });
    for (let i = 0; i < 3; i += 1) await (await fetch(url('/readyz'))).text();
    expect(lines.filter((line) => line.includes('dependency not reachable'))).toHaveLength(1);
  });
});

describe('/metrics', () => {
  it('serves the bot metrics and the process metrics in Prometheus text format', async () => {
    const { url, metrics } = await start({});
    metrics.countTurn('answered');
    metrics.countTurn('answered');
    metrics.countError('model');
    metrics.modelLatency.observe(1.5);
    metrics.judgeLatency.observe(12);
    metrics.readPendingExportsWith(async () => 7);

    const response = await fetch(url('/metrics'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    for (const name of [
      'bot_turns_total',
      'bot_errors_total',
      'bot_model_latency_seconds',
      'bot_judge_latency_seconds',
      'bot_sheet_exports_pending',
      'process_cpu_seconds_total',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    expect(text).toContain('bot_turns_total{outcome="answered"} 2');
    expect(text).toContain('bot_errors_total{kind="model"} 1');
    expect(text).toContain('bot_model_latency_seconds_count 1');
    expect(text).toContain('bot_judge_latency_seconds_count 1');
    expect(text).toContain('bot_sheet_exports_pending 7');
  });

  it('keeps the last pending count and counts the failure when the count cannot be read', async () => {
    const metrics = createMetrics();
    let fail = false;
    metrics.readPendingExportsWith(async () => {
      if (fail) throw new Error('database is down');
      return 3;
    });
    expect(await metrics.registry.metrics()).toContain('bot_sheet_exports_pending 3');
    fail = true;
    expect(await metrics.registry.metrics()).toContain('bot_sheet_exports_pending 3');
    // Metrics are read side by side: the failure shows from the next scrape on.
    expect(await metrics.registry.metrics()).toContain('bot_errors_total{kind="metrics"} 1');
  });

  it('gives every instance its own registry, so several live in one process', async () => {
    const first = createMetrics();
    const second = createMetrics();
    first.countTurn('failed');
    expect(await first.registry.metrics()).toContain('bot_turns_total{outcome="failed"} 1');
    expect(await second.registry.metrics()).not.toContain('bot_turns_total{outcome="failed"}');
  });
});

describe('instrumented model and judge', () => {
  const reply = { text: 'Здравствуйте', promptTokens: 1, completionTokens: 1 };

  it('times every client-role answer and counts a failing one as a model error', async () => {
    const metrics = createMetrics();
    let calls = 0;
    const model: ChatModel = {
      streamChat: async () => {
        calls += 1;
        if (calls === 2) throw new Error('model down');
        return reply;
      },
      completeJson: async () => reply,
    };
    const timed = instrumentChatModel(model, metrics);
    await expect(timed.streamChat({ model: 'm', messages: [] })).resolves.toEqual(reply);
    await expect(timed.streamChat({ model: 'm', messages: [] })).rejects.toThrow('model down');
    await timed.completeJson({ model: 'm', messages: [], format: 'json_object' });
    const text = await metrics.registry.metrics();
    expect(text).toContain('bot_model_latency_seconds_count 2');
    expect(text).toContain('bot_errors_total{kind="model"} 1');
  });

  it('times every evaluation and counts a failing one as a judge error', async () => {
    const metrics = createMetrics();
    const judge: Judge = {
      scoreTranscript: async () => {
        throw new Error('judge down');
      },
    };
    const input = {} as Parameters<Judge['scoreTranscript']>[0];
    await expect(instrumentJudge(judge, metrics).scoreTranscript(input)).rejects.toThrow('judge down');
    const text = await metrics.registry.metrics();
    expect(text).toContain('bot_judge_latency_seconds_count 1');
    expect(text).toContain('bot_errors_total{kind="judge"} 1');
  });
});

describe('the health server', () => {
  it('answers 404 for other paths and 405 for other methods', async () => {
    const { url } = await start({});
    expect((await fetch(url('/nope'))).status).toBe(404);
    expect((await fetch(url('/healthz'), { method: 'POST' })).status).toBe(405);
  });

  it('stops promptly even with a keep-alive connection open, and then refuses connections', async () => {
    const { server, url } = await start({});
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http
        .get(url('/healthz'), { agent }, (response) => {
          response.resume();
          response.on('end', resolve);
        })
        .on('error', reject);
    });
    const before = performance.now();
    await server.stop();
    started.splice(started.indexOf(server), 1);
    expect(performance.now() - before).toBeLessThan(1_000);
    await expect(fetch(url('/healthz'))).rejects.toThrow();
    agent.destroy();
  });

  it('refuses a port already in use with a message naming HEALTH_PORT', async () => {
    const { server } = await start({});
    const error = await startHealthServer({
      port: server.port,
      host: '127.0.0.1',
      logger: silent,
      probes: {},
      registry: createMetrics().registry,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toContain(`HEALTH_PORT=${server.port}`);
  });
});

describe('httpProbe', () => {
  it('passes on 2xx and fails on any other answer', async () => {
    const server = http.createServer((request, response) => {
      response.writeHead(request.url === '/api/v2/heartbeat' ? 200 : 500).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const signal = new AbortController().signal;
      expect(await httpProbe(`http://127.0.0.1:${port}/api/v2/heartbeat`)(signal)).toBe(true);
      expect(await httpProbe(`http://127.0.0.1:${port}/other`)(signal)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
