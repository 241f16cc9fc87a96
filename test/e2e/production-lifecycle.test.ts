import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/db/embedded-postgres.js';
import { startKnowledgeInfra, type KnowledgeInfra } from '../support/knowledge-infra.js';
import { startBotProcess, type BotProcess } from '../support/bot-process.js';
import { silentLogger } from '../support/database.js';
import { scriptedModel } from '../support/model-script.js';
import { OpenAiFake } from '../support/openai-fake.js';
import { TelegramFake } from '../support/telegram-fake.js';

const root = path.resolve(import.meta.dirname, '../..');
const token = '123456789:AAFakeTokenForTestsOnly_0123456789';
const trainee = 7201;
let telegram: TelegramFake;
let knowledge: KnowledgeInfra;
let openai: OpenAiFake;
let postgres: EmbeddedPostgresHandle;
let dataDir: string;
let bot: BotProcess | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startProductionBot(healthPort: number): Promise<BotProcess> {
  bot = await startBotProcess(telegram, {
    entry: 'build',
    env: {
      ...knowledge.env,
      OPENAI_API_KEY: openai.apiKey,
      OPENAI_BASE_URL: openai.baseUrl,
      DATABASE_URL: postgres.url,
      ALLOWED_USER_IDS: String(trainee),
      HEALTH_PORT: String(healthPort),
      SHUTDOWN_TIMEOUT_MS: '10000',
    },
  });
  return bot;
}

beforeAll(async () => {
  knowledge = await startKnowledgeInfra();
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  dataDir = await mkdtemp(path.join(tmpdir(), 'bot-lifecycle-'));
  [telegram, openai, postgres] = await Promise.all([
    TelegramFake.start({ token }),
    OpenAiFake.start(),
    startEmbeddedPostgres(dataDir, silentLogger),
  ]);
  openai.respondWith(scriptedModel());
}, 180_000);

afterAll(async () => {
  await knowledge.dispose();
  await bot?.stop('SIGKILL');
  await Promise.all([telegram.stop(), openai.stop()]);
  await postgres.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the production build', () => {
  it('answers and stores the turn in flight when SIGTERM arrives, then exits 0', async () => {
    const running = await startProductionBot(0);
    const user = telegram.user(trainee);
    user.sendText('/scenarios');
    await user.waitForMessage((m) => m.text.includes('Выберите сценарий'));
    user.pressButton('sc:cold-call');
    await user.waitForMessage((m) => m.text.includes('уровень сложности'));
    user.pressButton('sd:cold-call:easy');
    await user.waitForMessage((m) => m.text.includes('началась'));
    await user.waitForNextMessage();

    openai.respondWith(() => ({ content: 'Ответ, который дописывался во время остановки', delayMs: 1500 }));
    const requests = openai.requests.length;
    user.sendText('Реплика во время остановки');
    await telegram.waitUntil(() => (openai.requests.length > requests ? true : undefined));
    const exit = running.stop('SIGTERM');
    const reply = await user
      .waitForMessage((m) => m.text.startsWith('Ответ, который'))
      .catch((error: unknown) => {
        throw new Error(`${String(error)}\n--- bot output ---\n${running.output().slice(-3000)}`);
      });
    expect(reply.text, running.output()).toBe('Ответ, который дописывался во время остановки');
    expect(await exit).toBe(0);
    expect(running.output()).toContain('"part":"telegram polling"');
  });

  it('/healthz lives, /readyz turns unready when the database stops, /metrics counts turns', async () => {
    const port = await freePort();
    openai.respondWith(scriptedModel());
    await startProductionBot(port);
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('bot_turns_total');

    await postgres.stop();
    const unready = await fetch(`${base}/readyz`);
    expect(unready.status).toBe(503);
    expect(JSON.stringify(await unready.json())).toContain('database');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    postgres = await startEmbeddedPostgres(dataDir, silentLogger);
  });
});
