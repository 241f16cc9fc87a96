import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKnowledgeInfra, type KnowledgeInfra } from '../support/knowledge-infra.js';
import { startBotProcess } from '../support/bot-process.js';
import { OpenAiFake } from '../support/openai-fake.js';
import { TelegramFake } from '../support/telegram-fake.js';

const token = '123456789:AAFakeTokenForTestsOnly_0123456789';
let telegram: TelegramFake;
let knowledge: KnowledgeInfra;
let openai: OpenAiFake;
let dataDir: string;

function postgresProcessesFor(dir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes('postgres') && line.includes(dir));
}

beforeAll(async () => {
  knowledge = await startKnowledgeInfra();
  [telegram, openai] = await Promise.all([TelegramFake.start({ token }), OpenAiFake.start()]);
  dataDir = await mkdtemp(path.join(tmpdir(), 'bot-embedded-'));
});
afterAll(async () => {
  await knowledge.dispose();
  await Promise.all([telegram.stop(), openai.stop()]);
  await rm(dataDir, { recursive: true, force: true });
});

describe('without DATABASE_URL', () => {
  it('starts an embedded PostgreSQL under DATA_DIR, migrates once, and leaves no server behind on SIGTERM', async () => {
    const env = { ...knowledge.env, OPENAI_API_KEY: openai.apiKey, OPENAI_BASE_URL: openai.baseUrl, DATA_DIR: dataDir };
    const first = await startBotProcess(telegram, { env });
    expect(postgresProcessesFor(dataDir).length).toBeGreaterThan(0);
    expect(await first.stop('SIGTERM')).toBe(0);
    expect(postgresProcessesFor(dataDir)).toEqual([]);

    const second = await startBotProcess(telegram, { env });
    expect(second.output()).toContain('migrations are up to date');
    expect(await second.stop('SIGINT')).toBe(0);
    expect(postgresProcessesFor(dataDir)).toEqual([]);
  });

  it('refuses clearly when a stale embedded server still holds the data directory', async () => {
    const env = { ...knowledge.env, OPENAI_API_KEY: openai.apiKey, OPENAI_BASE_URL: openai.baseUrl, DATA_DIR: dataDir };
    const running = await startBotProcess(telegram, { env });
    await running.stop('SIGKILL');
    const stale = postgresProcessesFor(dataDir);
    expect(stale.length).toBeGreaterThan(0);
    try {
      await expect(startBotProcess(telegram, { env })).rejects.toThrow(/уже запущен \(процесс \d+\).*kill -INT/s);
    } finally {
      const pid = Number(stale.map((line) => line.trim().split(/\s+/)[0]).sort((a, b) => Number(a) - Number(b))[0]);
      process.kill(pid, 'SIGINT');
      for (let i = 0; i < 50 && postgresProcessesFor(dataDir).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    }
  });
});
