import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runMain(env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(tsx, [path.join(root, 'src/main.ts')], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('starting the bot', () => {
  it('without BOT_TOKEN exits 2 with one message listing every problem, no stack trace', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'bot-start-'));
    dirs.push(cwd);
    const run = await runMain({ ALLOWED_USER_IDS: 'x1' }, cwd);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('BOT_TOKEN');
    expect(run.stderr).toContain('OPENAI_API_KEY');
    expect(run.stderr).toContain('ALLOWED_USER_IDS');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('with an unreachable database exits 1 naming the database and what to do', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'bot-start-'));
    dirs.push(cwd);
    const run = await runMain(
      {
        BOT_TOKEN: '123456789:AAExampleExampleExampleExample',
        OPENAI_API_KEY: 'sk-test',
        DATABASE_URL: 'postgres://bot:secretpw@127.0.0.1:1/bot',
        SCENARIOS_DIR: path.join(root, 'scenarios'),
        LOG_LEVEL: 'silent',
      },
      cwd,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('127.0.0.1:1/bot');
    expect(run.stderr).toContain('DATABASE_URL');
    expect(run.stderr + run.stdout).not.toContain('secretpw');
  });
});
