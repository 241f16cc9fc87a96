import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCase, recordFigures } from './report.js';
import { isJudgeRequest, scriptedModel, textOf } from '../support/model-script.js';
import type { RecordedRequest } from '../support/openai-fake.js';
import { count, errorApology, startScenario, startWorld, type World } from '../support/world.js';

/** A self-hosted judge with an 8k window, as vLLM and llama.cpp refuse a longer request. */
const contextTokens = 8_192;
const tokensOf = (request: RecordedRequest) =>
  Math.ceil(request.messages.reduce((sum, m) => sum + textOf(m.content).length, 0) / 3);
const trainee = 7701;
let world: World;

beforeAll(async () => {
  world = await startWorld({ trainees: [trainee], env: { JUDGE_CONTEXT_TOKENS: String(contextTokens) } });
  const model = scriptedModel(() => 'Понятно. Продолжайте.');
  world.openai.respondWith((request) =>
    tokensOf(request) > contextTokens
      ? {
          status: 400,
          body: {
            error: {
              message: `This model's maximum context length is ${contextTokens} tokens. However, your messages resulted in ${tokensOf(request)} tokens.`,
              type: 'invalid_request_error',
              param: 'messages',
              code: 'context_length_exceeded',
            },
          },
        }
      : model(request),
  );
});

afterAll(async () => {
  await world?.close();
});

describe('a long training with a judge of small context', () => {
  it('is scored on its beginning and end, and the trainee is told so; the next session is judged as usual', async (context) => {
    recordCase(context, {
      area: 'operator',
      case: 'a long training with a judge of 8k context',
      action:
        'JUDGE_CONTEXT_TOKENS=8192 and a judge that refuses longer requests with context_length_exceeded; 140 turns of 4096 characters, /finish, then a short session',
      traineeSaw:
        'the score with «Диалог длинный: судья оценил его начало и последние реплики, N реплик из середины не вошли в оценку.»',
      checked: 'every judge request fits the window; omitted messages stored; the next evaluation still asks for json_schema',
    });
    const user = world.telegram.user(trainee, { firstName: 'Анна' });
    await startScenario(user);
    const long = (i: number) =>
      `Реплика ${i}. ${'Расскажу подробнее о тарифе «Бизнес» и интеграциях. '.repeat(78)}`.slice(0, 4096);
    for (let i = 0; i < 140; i++) {
      user.sendText(long(i));
      await user.waitForMessage(
        (m) => m.text === 'Понятно. Продолжайте.' && user.messages().filter((x) => x.text === m.text).length > i,
      );
    }
    user.sendText('/finish');
    const evaluation = await user.waitForMessage((m) => /\d+\/100/.test(m.text), 60_000);
    expect(evaluation.text).toContain('70/100');
    expect(evaluation.text).toMatch(/Диалог длинный: судья оценил его начало и последние реплики, \d+ реплик/);
    expect(user.messages().filter((m) => errorApology.test(m.text) || m.text.includes('недоступ'))).toEqual([]);
    const judged = world.openai.requests.filter(isJudgeRequest);
    expect(judged.every((r) => tokensOf(r) <= contextTokens)).toBe(true);
    expect(await count(world.database, 'select count(*)::int as n from evaluations where omitted_messages > 100')).toBe(1);
    recordFigures(context, {
      'judge tokens (max)': Math.max(...judged.map(tokensOf)),
      'messages left out': await count(world.database, 'select max(omitted_messages)::int as n from evaluations'),
    });

    // A context refusal is not a format refusal: the next evaluation still asks for json_schema.
    await startScenario(user, 'price-objection');
    user.sendText('Добрый день!');
    await user.waitForMessage(
      (m) => m.text === 'Понятно. Продолжайте.' && user.messages().filter((x) => x.text === m.text).length > 140,
    );
    user.sendText('/finish');
    await user.waitForMessage((m) => /\d+\/100/.test(m.text) && m.message_id > evaluation.message_id, 60_000);
    expect(world.openai.requests.filter(isJudgeRequest).map((r) => r.responseFormat?.type)).not.toContain('json_object');
  }, 240_000);
});
