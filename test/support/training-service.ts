import { createJudge } from '../../src/services/judge.js';
import { createChatModel } from '../../src/services/llm.js';
import type { ScenarioCatalog } from '../../src/services/scenarios.js';
import { createSpeechToText } from '../../src/services/speech-to-text.js';
import { TrainingService, type TrainingDeps } from '../../src/services/training/index.js';
import type { TestDatabase } from './database.js';
import { silentLogger } from './database.js';
import type { OpenAiFake } from './openai-fake.js';

/** The real training service on a test database, its models and speech-to-text the OpenAI stand-in. */
export function trainingAgainstStandIns(
  database: TestDatabase,
  openai: OpenAiFake,
  scenarios: ScenarioCatalog,
  extra: Partial<Pick<TrainingDeps, 'logger' | 'metrics' | 'knowledge'>> = {},
): TrainingService {
  const chat = createChatModel({ apiKey: openai.apiKey, baseUrl: openai.baseUrl, timeoutMs: 3_000 }, silentLogger);
  return new TrainingService({
    db: database.db,
    scenarios,
    chat,
    judge: createJudge({ model: chat, modelName: 'judge', logger: silentLogger }),
    speechToText: createSpeechToText(
      { apiKey: openai.apiKey, baseUrl: openai.baseUrl, model: 'whisper-1', timeoutMs: 3_000 },
      silentLogger,
    ),
    clientModel: 'client',
    historyTokenBudget: 6_000,
    logger: silentLogger,
    ...extra,
  });
}
