import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lastTraineeLine, scriptedModel } from '../support/model-script.js';
import type { OpenAiFake } from '../support/openai-fake.js';
import type { TelegramFake } from '../support/telegram-fake.js';
import { spawnBotProcess } from '../support/bot-process.js';
import { startScenario, startWorld, type World } from '../support/world.js';
import { recordCase } from './report.js';

const trainee = 7_501;
let world: World;
let telegram: TelegramFake;
let openai: OpenAiFake;

beforeAll(async () => {
  // A PostgreSQL server of the world's own: one case restarts it under the bot.
  world = await startWorld({ trainees: [trainee], env: { LLM_TIMEOUT_MS: '20000' }, ownDatabase: true });
  ({ telegram, openai } = world);
  await startScenario(telegram.user(trainee));
});
afterEach(() => {
  openai.respondWith(scriptedModel());
});
afterAll(async () => {
  await world?.close();
});

const answerTo = (line: string) => `Клиент отвечает на: ${line}`;
const logLines = (output: string, msg: RegExp) => output.split('\n').filter((line) => line.startsWith('{') && msg.test(line));

/** A second bot process on the same database and token, as an operator would start it by mistake. */
function startSecondBot(): { readonly exited: Promise<number | null>; output(): string } {
  const second = spawnBotProcess(telegram, { env: { ...world.env, LLM_TIMEOUT_MS: '20000' } });
  const timer = setTimeout(() => second.child.kill('SIGKILL'), 30_000);
  const exited = second.exited().finally(() => clearTimeout(timer));
  return { exited, output: () => second.output() };
}

describe('a second bot process on the same database', () => {
  it('refuses to start, naming the first; the turn the first is answering is answered once', async (context) => {
    recordCase(context, {
      area: 'operator',
      case: 'a second bot process on the same database',
      action: 'an operator starts a second bot with the same DATABASE_URL and token while the first answers a slow turn',
      traineeSaw: 'the turn answered once, by the first',
      checked: 'the second exits 1 naming the first (host, pid, since); the first keeps polling',
    });
    const user = telegram.user(trainee);
    const first = world.bot;
    const requests = openai.requests.length;
    openai.respondWith(scriptedModel((request) => ({ content: answerTo(lastTraineeLine(request)), delayMs: 6_000 })));
    user.sendText('Медленный вопрос');
    await telegram.waitUntil(() => (openai.requests.length > requests ? true : undefined));

    const second = startSecondBot();
    expect(await second.exited).toBe(1);
    const said = second.output();
    console.log(said.split('\n').find((line) => line.startsWith('Другой процесс')));
    expect(said).toContain('Другой процесс бота уже работает с базой');
    expect(said).toContain(`хост ${hostname()}, pid ${first.child.pid}`);
    expect(said).toMatch(/работает с \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
    expect(said).not.toMatch(/finishing work that the last stop interrupted|bot is polling/);

    await user.waitForMessage((m) => m.text === answerTo('Медленный вопрос'), 15_000);
    await sleep(500);
    expect(user.messages().filter((m) => m.text === answerTo('Медленный вопрос'))).toHaveLength(1);
    expect(first.child.exitCode).toBeNull();
  });

  it('after a PostgreSQL restart the first takes the lock again and goes on; a second is still refused', async (context) => {
    recordCase(context, {
      area: 'operator',
      case: 'the lock across a PostgreSQL restart',
      action: 'PostgreSQL restarts under the first bot; then a second process is started',
      traineeSaw: 'answers as before',
      checked: 'the first re-takes the lock and answers; the second is refused',
    });
    const user = telegram.user(trainee);
    await world.restartDatabase(1_500);
    await telegram.waitUntil(() => (world.bot.output().includes('"msg":"instance lock taken again"') ? true : undefined), 20_000);
    user.sendText('После перезапуска базы');
    await user.waitForMessage((m) => m.text === answerTo('После перезапуска базы'), 20_000);
    expect(world.bot.child.exitCode).toBeNull();

    const second = startSecondBot();
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`хост ${hostname()}, pid ${world.bot.child.pid}`);
  });

  it('can start once the first has stopped: the lock goes with it', async (context) => {
    recordCase(context, {
      area: 'operator',
      case: 'the lock after a stop or a crash',
      action: 'the first bot is stopped (SIGTERM) or killed (SIGKILL); a new one starts',
      traineeSaw: 'answers from the new process',
      checked: 'the new process takes the lock and polls',
    });
    const previous = world.bot;
    await world.restartBot('SIGTERM');
    expect(previous.output()).toMatch(/"part":"instance lock","msg":"stopped"/);
    expect(world.bot.output()).toContain('instance lock taken');
    await world.restartBot('SIGKILL');
    expect(world.bot.output()).toContain('instance lock taken');
  });
});

describe('another poller with the same token (409 Conflict from getUpdates)', () => {
  const conflict = {
    error_code: 409,
    description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
  };

  it('is waited out with one warning, and the trainee is answered once it ends', async (context) => {
    recordCase(context, {
      area: 'operator',
      case: '409 Conflict from getUpdates',
      action: 'getUpdates answers 409 three times in a row',
      traineeSaw: 'the reply once the conflict ends',
      checked: 'one warning line; the bot stays up; the turn answered',
    });
    const user = telegram.user(trainee);
    const warnedBefore = logLines(world.bot.output(), /409 Conflict/).length;
    telegram.failNext('getUpdates', conflict, 3);
    // This text ends the long poll in progress; the polls after it meet the conflict.
    user.sendText('Перед конфликтом');
    await user.waitForMessage((m) => m.text === answerTo('Перед конфликтом'));
    await telegram.waitUntil(() =>
      telegram.callsOf('getUpdates').filter((c) => c.error?.error_code === 409).length >= 3 ? true : undefined,
    );
    user.sendText('Во время конфликта');
    await user.waitForMessage((m) => m.text === answerTo('Во время конфликта'), 20_000);

    expect(world.bot.child.exitCode).toBeNull();
    const output = world.bot.output();
    expect(logLines(output, /409 Conflict/).length - warnedBefore).toBe(1);
    expect(output).toMatch(/"trouble":"conflict".*"msg":"receiving updates again"/);
  });

  it('survives a real second poller on another machine, and takes updates again once it stops', async (context) => {
    recordCase(context, {
      area: 'operator',
      case: 'a foreign poller with the same token',
      action: 'another client polls the same token for 3 s',
      traineeSaw: 'the reply once it stops',
      checked: 'the bot survives with one warning and answers afterwards',
    });
    const user = telegram.user(trainee);
    const warnedBefore = logLines(world.bot.output(), /409 Conflict/).length;
    // The other machine long-polls with the same token for 3 s, taking no updates (no offset).
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      await fetch(`${telegram.apiRoot}/bot${telegram.token}/getUpdates?timeout=1`).then((response) => response.json());
    }
    user.sendText('После чужого опроса');
    await user.waitForMessage((m) => m.text === answerTo('После чужого опроса'), 40_000);

    expect(world.bot.child.exitCode).toBeNull();
    expect(logLines(world.bot.output(), /409 Conflict/).length - warnedBefore).toBe(1);
  });

  it('a token revoked while running (401) is not waited out: the bot stops with exit code 1 and says why', async (context) => {
    recordCase(context, {
      area: 'operator',
      case: 'the token revoked while running',
      action: 'getUpdates answers 401',
      traineeSaw: '—',
      checked: 'exit code 1 with a Russian message; the lock released',
    });
    const bot = world.bot;
    telegram.failNext('getUpdates', { error_code: 401, description: 'Unauthorized' });
    telegram.user(trainee).sendText('Перед отзывом токена');
    expect(await bot.exited()).toBe(1);
    expect(bot.output()).toContain('Telegram перестал принимать BOT_TOKEN (401 Unauthorized)');
    expect(bot.output()).toMatch(/"part":"instance lock","msg":"stopped"/);
  });
});
