import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { asTelegramId, type UserId } from '../../src/db/ids.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { createServices, type ServiceGraph } from '../../src/services/create-services.js';
import { createKnowledgeBase, type KnowledgeBase } from '../../src/services/knowledge-base/index.js';
import { loadScenarios, type ScenarioCatalog } from '../../src/services/scenarios.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/database.js';
import { startKnowledgeInfra, type KnowledgeInfra } from '../support/knowledge-infra.js';
import { isJudgeRequest, scriptedModel, textOf } from '../support/model-script.js';
import { OpenAiFake } from '../support/openai-fake.js';
import { SheetsFake, writeServiceAccountKey } from '../support/sheets-fake.js';
import type { SheetsAlert } from '../../src/services/sheets/outage-monitor.js';

const apiKey = 'sk-test-create-services-0123456789';
const trainee = 7501;
const stranger = 7502;

let database: TestDatabase;
let openai: OpenAiFake;
let knowledge: KnowledgeInfra;
let knowledgeBase: KnowledgeBase;
let sheets: SheetsFake;
let keyDir: string;
let config: Config;
let scenarios: ScenarioCatalog;
let metrics: Metrics;
let graph: ServiceGraph;
const alerts: SheetsAlert[] = [];

beforeAll(async () => {
  keyDir = await mkdtemp(path.join(tmpdir(), 'create-services-'));
  const account = await writeServiceAccountKey(keyDir);
  [database, openai, knowledge, sheets] = await Promise.all([
    createTestDatabase(),
    OpenAiFake.start({ apiKey }),
    startKnowledgeInfra(),
    SheetsFake.start({ account }),
  ]);
  openai.respondWith(scriptedModel());
  config = loadConfig({
    ...botEnv(),
    ...knowledge.env,
    GOOGLE_SHEETS_ID: sheets.spreadsheetId,
    GOOGLE_SERVICE_ACCOUNT_FILE: account.file,
    GOOGLE_SHEETS_API_ROOT: sheets.url,
  });
  scenarios = await loadScenarios(config.scenariosDir);
  knowledgeBase = await createKnowledgeBase(config, silentLogger);
  await knowledgeBase.indexer.run();
  metrics = createMetrics();
  graph = createServices(config, {
    logger: silentLogger,
    metrics,
    db: database.db,
    scenarios,
    knowledgeBase,
    alertAdmins: (text) => void alerts.push(text),
  });
  graph.sheetsExport?.worker.start();
});

afterAll(async () => {
  await graph?.sheetsExport?.worker.stop();
  await knowledgeBase?.stop();
  await Promise.all([database?.drop(), openai?.stop(), knowledge?.dispose(), sheets?.close()]);
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

/** What every configuration here shares: the model stand-in and one admitted trainee. */
function botEnv(): Record<string, string> {
  return {
    BOT_TOKEN: '123456789:AAFakeTokenForTestsOnly_0123456789',
    OPENAI_API_KEY: apiKey,
    OPENAI_BASE_URL: openai.baseUrl,
    LLM_MODEL: 'client-model',
    JUDGE_MODEL: 'judge-model',
    ALLOWED_USER_IDS: String(trainee),
  };
}

async function admittedUserId(telegramId: number): Promise<UserId> {
  const decision = await graph.services.access.admit({
    telegramId: asTelegramId(telegramId),
    firstName: 'Анна',
    username: 'anna',
  });
  if (!decision.admitted) throw new Error(`${telegramId} refused: ${decision.reason}`);
  return decision.user.id;
}

describe('the service graph main.ts builds', () => {
  it('admits whom the configured access lets in, and no one else', async () => {
    await expect(admittedUserId(trainee)).resolves.toBeDefined();
    expect(await graph.services.access.admit({ telegramId: asTelegramId(stranger), firstName: 'X' })).toEqual({
      admitted: false,
      reason: 'not-allowed',
    });
  });

  it("takes a trainee through a session: the client's line from the configured model, grounded in the knowledge base", async () => {
    const { training } = graph.services;
    const userId = await admittedUserId(trainee);
    const started = await training.start(userId, 'upsell', 'medium');
    expect(started.openingLine).toBe(scenarios.get('upsell').persona.openingLine);

    const turn = await training.playTurn({
      userId,
      text: 'Тариф «Бизнес» стоит 1 200 ₽ за пользователя в месяц при оплате за год',
      telegramMessageId: 1,
    });
    expect(turn).toMatchObject({
      kind: 'answered',
      reply: expect.stringMatching(/^Клиент отвечает на: Тариф «Бизнес»/) as unknown,
    });
    const request = openai.requests.at(-1)!;
    expect(request.model).toBe('client-model');
    expect(textOf(request.messages[0]!.content)).toMatch(/<knowledge_base>[\s\S]*<passage source="catalog\.md/);
    expect((await metrics.turns.get()).values).toContainEqual(
      expect.objectContaining({ labels: { outcome: 'answered' }, value: 1 }),
    );
    expect((await metrics.modelLatency.get()).values.find((v) => v.metricName === 'bot_model_latency_seconds_count')?.value).toBe(
      1,
    );
  });

  it('answers /hint from the internal documents', async () => {
    const hint = await graph.services.hints!.advise({
      scenario: scenarios.get('cold-call'),
      difficulty: 'easy',
      dialogue: [{ role: 'assistant', content: 'Да, слушаю. Кто это?' }],
    });
    expect(hint?.source).toMatch(/^(sales-script|objections|service-standards)\.md › /);
  });

  it("finishes with the judge's evaluation, which goes to the managers' sheet at once", async () => {
    const userId = await admittedUserId(trainee);
    const finished = await graph.services.training.finish(userId);
    expect(finished.kind).toBe('finished');
    if (finished.kind !== 'finished') return;
    expect(finished.evaluation).toMatchObject({ totalScore: 70, model: 'judge-model' });
    const judgeRequest = openai.requests.filter(isJudgeRequest).at(-1)!;
    expect(judgeRequest.model).toBe('judge-model');
    expect(textOf(judgeRequest.messages[1]!.content)).toContain('<knowledge_base>');
    expect(await graph.services.training.active(userId)).toBeUndefined();

    const deadline = Date.now() + 15_000;
    while (sheets.rows('Результаты').length < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sheets.rows('Результаты')[1]).toContain(70);
    expect(alerts).toEqual([]);
  });

  it('leaves nothing for start-up recovery once the evaluation was shown', async () => {
    const userId = await admittedUserId(trainee);
    const [session] = await graph.services.training.history(userId);
    expect((await graph.training.interruptedWork()).undeliveredEvaluations.map((w) => w.session.id)).toEqual([session!.id]);
    await graph.services.training.markEvaluationDelivered(session!.id);
    expect(await graph.training.interruptedWork()).toEqual({
      unansweredTurns: [],
      pendingFinishes: [],
      undeliveredEvaluations: [],
    });
  });

  it('lists the finished session in the trainee history and the team stats', async () => {
    const userId = await admittedUserId(trainee);
    const [session] = await graph.services.training.history(userId);
    expect(session).toMatchObject({ scenarioKey: 'upsell', scenarioTitle: scenarios.get('upsell').title });
    expect(await graph.services.team.userStats(userId)).toMatchObject({ count: 1, last: 70 });
    expect((await graph.services.team.overview({ kind: 'everybody' })).members).toEqual([
      expect.objectContaining({ userId, scored: 1 }),
    ]);
  });
});

describe('the service graph without a knowledge base or a sheet', () => {
  it('has no /hint and no export, and still plays the client', async () => {
    const bare = createServices(loadConfig(botEnv()), {
      logger: silentLogger,
      metrics: createMetrics(),
      db: database.db,
      scenarios,
      alertAdmins: () => undefined,
    });
    expect(bare.services.hints).toBeUndefined();
    expect(bare.sheetsExport).toBeUndefined();
    const decision = await bare.services.access.admit({ telegramId: asTelegramId(trainee), firstName: 'Анна' });
    if (!decision.admitted) throw new Error('trainee refused');
    await bare.services.training.start(decision.user.id, 'cold-call', 'easy');
    const turn = await bare.services.training.playTurn({ userId: decision.user.id, text: 'Добрый день!', telegramMessageId: 2 });
    expect(turn.kind).toBe('answered');
    expect(textOf(openai.requests.at(-1)!.messages[0]!.content)).not.toContain('<knowledge_base>');
  });
});
