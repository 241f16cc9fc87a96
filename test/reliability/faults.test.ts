import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isJudgeRequest, lastTraineeLine, scriptedModel } from '../support/model-script.js';
import type { FakeUser } from '../support/telegram-fake.js';
import { checkInvariants, count, errorApology, startScenario, startWorld, waitForSheet, type World } from './harness.js';
import { recordCase, recordFigures } from './report.js';

const trainees = [9101, 9102, 9103, 9104, 9105];
let world: World;
/** Every text a trainee sent as a role-play turn: each must be stored exactly once. */
const turns: string[] = [];

beforeAll(async () => {
  world = await startWorld({ trainees, ownDatabase: true, env: { LLM_TIMEOUT_MS: '1500' } });
});
afterAll(async () => {
  await world?.close();
});

function say(user: FakeUser, text: string): void {
  turns.push(text);
  user.sendText(text);
}

const answered = (text: string) => (m: { text: string }) => m.text === `Клиент отвечает на: ${text}`;

describe('faults, end to end', () => {
  it('the model answering 5xx', async (context) => {
    recordCase(context, {
      area: 'faults',
      case: 'model answers 503',
      action: 'the OpenAI stand-in answers 503 to every request during one turn, then recovers',
      traineeSaw: '«Клиент не смог ответить… сообщение сохранено», then normal answers',
      checked: 'the turn is stored once; the next turn is answered',
    });
    const user = world.telegram.user(trainees[0]!);
    await startScenario(user);
    world.openai.respondWith(() => ({ status: 503 }));
    say(user, 'Первая реплика при сбое модели');
    await user.waitForMessage((m) => m.text.includes('сервис ИИ временно недоступен'));
    world.openai.respondWith(scriptedModel());
    say(user, 'Вторая реплика после восстановления');
    await user.waitForMessage(answered('Вторая реплика после восстановления'));
    expect(await checkInvariants(world, turns)).toEqual([]);
  });

  it('the model timing out', async (context) => {
    recordCase(context, {
      area: 'faults',
      case: 'model times out',
      action: 'the stand-in never answers (LLM_TIMEOUT_MS=1500)',
      traineeSaw: '«Клиент слишком долго думал… сообщение сохранено»',
      checked: 'the turn is stored once; answered after recovery',
    });
    const user = world.telegram.user(trainees[0]!);
    world.openai.respondWith(() => ({ hang: true }));
    const started = Date.now();
    say(user, 'Реплика, на которую модель молчит');
    await user.waitForMessage((m) => m.text.includes('слишком долго'), 15_000);
    recordFigures(context, { 'seconds to the apology': ((Date.now() - started) / 1000).toFixed(1) });
    world.openai.respondWith(scriptedModel());
    say(user, 'Реплика после таймаута');
    await user.waitForMessage(answered('Реплика после таймаута'));
    expect(await checkInvariants(world, turns)).toEqual([]);
  });

  it('the judge returning malformed output', async (context) => {
    recordCase(context, {
      area: 'faults',
      case: 'judge output malformed',
      action: 'the judge answers invalid JSON twice (first try and the repair), then valid JSON',
      traineeSaw: '«Не удалось получить оценку… Тренировка не закрыта», then the score after /finish again',
      checked: 'no evaluation stored on failure; the session stays active; exactly one evaluation after',
    });
    const user = world.telegram.user(trainees[0]!);
    world.openai.respondWith((request) => (isJudgeRequest(request) ? '{"criteria": "not a list"' : 'ok'));
    user.sendText('/finish');
    await user.waitForMessage((m) => m.text.includes('Тренировка не закрыта'));
    expect(await count(world.database, 'select count(*)::int as n from evaluations')).toBe(0);
    expect(await count(world.database, "select count(*)::int as n from sessions where status = 'active'")).toBe(1);
    world.openai.respondWith(scriptedModel());
    user.sendText('/finish');
    await user.waitForMessage((m) => /\d+\/100/.test(m.text));
    expect(await count(world.database, 'select count(*)::int as n from evaluations')).toBe(1);
  });

  it('the Bot API answering 429 with retry_after, and 502', async (context) => {
    recordCase(context, {
      area: 'faults',
      case: 'Telegram 429 and 502',
      action: 'sendMessage answers 429 (retry_after 1 s) twice, then 502 once',
      traineeSaw: 'the reply, about a second late',
      checked: 'the reply arrives exactly once; the turn is stored once',
    });
    const user = world.telegram.user(trainees[1]!);
    await startScenario(user);
    world.telegram.failNext(
      'sendMessage',
      { error_code: 429, description: 'Too Many Requests: retry after 1', retry_after: 1 },
      2,
    );
    const started = Date.now();
    say(user, 'Реплика при 429');
    await user.waitForMessage(answered('Реплика при 429'), 20_000);
    recordFigures(context, { 'seconds to the reply (429×2)': ((Date.now() - started) / 1000).toFixed(1) });
    world.telegram.failNext('sendMessage', { error_code: 502, description: 'Bad Gateway' }, 1);
    say(user, 'Реплика при 502');
    await user.waitForMessage(answered('Реплика при 502'), 20_000);
    expect(user.messages().filter((m) => m.text.startsWith('Клиент отвечает на: Реплика при')).length).toBe(2);
    expect(await checkInvariants(world, turns)).toEqual([]);
  });

  it('Chroma stopped and started again', async (context) => {
    recordCase(context, {
      area: 'faults',
      case: 'Chroma down, then back',
      action: 'the Chroma server is stopped during the dialogue and started again',
      traineeSaw: 'answers all along (without company knowledge while Chroma is down)',
      checked: "turns answered; the client's prompt has passages again after the restart",
    });
    const user = world.telegram.user(trainees[1]!);
    await world.knowledge.chroma.stop();
    say(user, 'Реплика без Chroma');
    await user.waitForMessage(answered('Реплика без Chroma'));
    await world.knowledge.chroma.restart();
    say(user, 'Сколько стоит тариф Бизнес при оплате за год?');
    await user.waitForMessage(answered('Сколько стоит тариф Бизнес при оплате за год?'));
    expect(String(world.openai.requests.at(-1)!.messages[0]!.content)).toContain('<knowledge_base>');
  });

  it('Google Sheets down for a while', async (context) => {
    recordCase(context, {
      area: 'faults',
      case: 'Google Sheets down',
      action: 'the Sheets stand-in answers 503 while a trainee finishes, then recovers',
      traineeSaw: 'the score at once (the export runs in the background)',
      checked: 'the row arrives after recovery; one row per evaluation',
    });
    const user = world.telegram.user(trainees[1]!);
    world.sheets.down(503);
    user.sendText('/finish');
    await user.waitForMessage((m) => /\d+\/100/.test(m.text));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    world.sheets.up();
    await waitForSheet(world, 60_000);
    expect(await checkInvariants(world, turns)).toEqual([]);
  });

  it('PostgreSQL restarted during load', async (context) => {
    recordCase(context, {
      area: 'faults',
      case: 'PostgreSQL restart under load',
      action: '3 trainees send 8 turns each while PostgreSQL is stopped for 1.5 s and started again, three times',
      traineeSaw: 'every turn answered (a little later during a restart), no error',
      checked: 'every trainee text stored exactly once; every turn answered once; no error message',
    });
    const users = trainees.slice(2).map((id) => world.telegram.user(id));
    await Promise.all(users.map((user) => startScenario(user)));
    world.openai.respondWith((request) =>
      isJudgeRequest(request) ? 'x' : { content: `Клиент отвечает на: ${lastTraineeLine(request)}`, delayMs: 200 },
    );
    const started = Date.now();
    const latencies: number[] = [];
    let talking = true;
    const conversations = users.map(async (user, u) => {
      for (let i = 0; talking || i < 8; i++) {
        const text = `Нагрузка: собеседник ${u}, реплика ${i}`;
        const sent = Date.now();
        say(user, text);
        await user.waitForMessage(answered(text), 30_000);
        latencies.push(Date.now() - sent);
      }
    });
    // Restarts at different moments of the dialogues: before, during and after the model's answers.
    for (const pauseMs of [300, 700, 1100]) {
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      await world.restartDatabase(1500);
    }
    talking = false;
    await Promise.all(conversations);
    recordFigures(context, {
      'turns answered': latencies.length,
      'seconds for all turns': ((Date.now() - started) / 1000).toFixed(1),
      'slowest turn s': (Math.max(...latencies) / 1000).toFixed(1),
    });
    world.openai.respondWith(scriptedModel());
    expect(await checkInvariants(world, turns)).toEqual([]);
    for (const user of users) {
      const replies = user.messages().filter((m) => m.text.startsWith('Клиент отвечает на: Нагрузка'));
      expect(new Set(replies.map((m) => m.text)).size).toBe(replies.length);
      expect(replies.length).toBeGreaterThanOrEqual(8);
      expect(user.messages().filter((m) => errorApology.test(m.text))).toEqual([]);
    }
  });

  it('the bot killed with SIGKILL during a turn and during /finish', async (context) => {
    recordCase(context, {
      area: 'faults',
      case: 'SIGKILL mid-turn and mid-/finish',
      action: 'kill -9 while the model is answering a turn; restart; kill -9 while the judge is scoring; restart',
      traineeSaw: 'the reply, then the score, each once, after the restarts',
      checked: 'the turn stored once; one evaluation; one sheet row',
    });
    const user = world.telegram.user(trainees[3]!);
    const before = world.openai.requests.length;
    world.openai.respondWith(() => ({ hang: true }));
    say(user, 'Реплика перед аварией');
    await world.telegram.waitUntil(() => (world.openai.requests.length > before ? true : undefined));
    world.openai.respondWith(scriptedModel());
    await world.restartBot('SIGKILL');
    await user.waitForMessage(answered('Реплика перед аварией'), 20_000);

    world.openai.respondWith((request) => (isJudgeRequest(request) ? { hang: true } : 'ok'));
    const judged = world.openai.requests.filter(isJudgeRequest).length;
    user.sendText('/finish');
    await world.telegram.waitUntil(() => (world.openai.requests.filter(isJudgeRequest).length > judged ? true : undefined));
    world.openai.respondWith(scriptedModel());
    await world.restartBot('SIGKILL');
    await user.waitForMessage((m) => /\d+\/100/.test(m.text), 20_000);
    await waitForSheet(world, 60_000);
    expect(await checkInvariants(world, turns)).toEqual([]);
    expect(user.messages().filter((m) => /\d+\/100/.test(m.text))).toHaveLength(1);
  });
});

describe('the logs of every fault above', () => {
  it('hold no bot token, API key or private key', async (context) => {
    const { secretsIn } = await import('./harness.js');
    recordCase(context, {
      area: 'security',
      case: 'secrets in logs under faults',
      action: 'every log line the bot printed through the faults above (errors, retries, restarts)',
      traineeSaw: '—',
      checked: 'no bot token, OpenAI key or private key',
    });
    const output = world.allOutput();
    recordFigures(context, { 'log lines scanned': output.split('\n').length });
    expect(secretsIn(output)).toEqual([]);
  });
});
