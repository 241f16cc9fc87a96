/**
 * `npm run judge:calibrate [-- --runs N] [--scenario key] [--dir folder] [--concurrency N]`: scores the
 * shipped calibration dialogues (calibration/<scenario>.yaml: strong, average, poor and one with a
 * wrong figure) N times with the judge the bot would build from .env — JUDGE_MODEL, JUDGE_TEMPERATURE,
 * JUDGE_CONTEXT_TOKENS, OPENAI_BASE_URL — and prints ranking accuracy, the spread of repeated scores per
 * criterion and whether the wrong figure was caught. The judge gets each file's knowledge passages
 * rather than a Chroma search, so the figures measure the model alone. Nothing is stored.
 *
 * Exit codes: 0 — the report was printed (whatever it says); 1 — the judge could not be reached or
 * gave no valid verdict; 2 — bad arguments, configuration, scenario or calibration files.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigOrExplain } from '../config.js';
import { createLogger } from '../logger.js';
import {
  CalibrationFileError,
  formatCalibrationReport,
  loadCalibrationSet,
  runCalibration,
  summarizeCalibration,
} from '../services/judge-calibration.js';
import { createJudge, judgePromptId } from '../services/judge.js';
import { createChatModel, ModelUnavailableError, type ModelFailure } from '../services/llm.js';
import { loadScenarios, ScenarioFileError } from '../services/scenarios.js';
import { runCommand } from './run-command.js';

const NOT_NEEDED_FOR_CALIBRATION = { BOT_TOKEN: '0:not-needed-for-judge-calibration' };

const repository = path.resolve(import.meta.dirname, '../..');
const usage =
  'Запуск: npm run judge:calibrate [-- --runs N] [--scenario <ключ сценария>] [--dir <папка калибровки>] [--concurrency N]';

interface Options {
  readonly runs: number;
  readonly scenario: string | undefined;
  readonly dir: string;
  readonly concurrency: number;
}

function parseOptions(): Options | string {
  let values: { runs?: string; scenario?: string; dir?: string; concurrency?: string };
  try {
    ({ values } = parseArgs({
      options: {
        runs: { type: 'string' },
        scenario: { type: 'string' },
        dir: { type: 'string' },
        concurrency: { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    return (error as Error).message;
  }
  const count = (raw: string | undefined, fallback: number, max: number, name: string) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    return Number.isInteger(value) && value >= 1 && value <= max ? value : `--${name}: нужно целое число от 1 до ${max}`;
  };
  const runs = count(values.runs, 3, 20, 'runs');
  const concurrency = count(values.concurrency, 2, 8, 'concurrency');
  if (typeof runs === 'string') return runs;
  if (typeof concurrency === 'string') return concurrency;
  return {
    runs,
    concurrency,
    scenario: values.scenario,
    dir: path.resolve(values.dir ?? path.join(repository, 'calibration')),
  };
}

const failureReasons = (timeoutMs: number): Readonly<Record<ModelFailure, string>> => ({
  timeout: `модель не ответила за ${timeoutMs} мс (LLM_TIMEOUT_MS)`,
  unavailable: 'сервер модели не отвечает — проверьте OPENAI_BASE_URL и сеть',
  rejected: 'сервер отклонил запрос — проверьте OPENAI_API_KEY и имя модели в JUDGE_MODEL',
  malformed: 'модель не дала оценку по схеме даже после просьбы исправить ответ — выберите другую JUDGE_MODEL',
  'too-long': 'запрос не помещается в окно модели — проверьте JUDGE_CONTEXT_TOKENS',
});

async function main(): Promise<number> {
  const options = parseOptions();
  if (typeof options === 'string') {
    console.error(`${options}\n${usage}`);
    return 2;
  }
  const config = loadConfigOrExplain(NOT_NEEDED_FOR_CALIBRATION);
  if (!config) return 2;
  const logger = createLogger({ level: process.env.LOG_LEVEL ? config.logLevel : 'error' });

  let set;
  try {
    const scenarios = await loadScenarios(config.scenariosDir);
    set = await loadCalibrationSet(options.dir, scenarios);
  } catch (error) {
    if (error instanceof ScenarioFileError || error instanceof CalibrationFileError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const entries = options.scenario ? set.entries.filter((e) => e.scenario.key === options.scenario) : set.entries;
  if (entries.length === 0) {
    const known = set.entries.map((e) => e.scenario.key).join(', ');
    console.error(`Для сценария «${options.scenario}» нет калибровочного файла в ${options.dir}. Есть: ${known}.`);
    return 2;
  }

  const { openai } = config;
  const model = createChatModel({ apiKey: openai.apiKey, baseUrl: openai.baseUrl, timeoutMs: openai.timeoutMs }, logger);
  const judge = createJudge({
    model,
    modelName: openai.judgeModel,
    logger,
    contextTokens: openai.judgeContextTokens,
    temperature: openai.judgeTemperature,
  });

  console.log(
    `Калибровка судьи: модель ${openai.judgeModel}, температура ${openai.judgeTemperature}, ` +
      `прогонов на диалог: ${options.runs}, инструкции ${judgePromptId}`,
  );
  console.log(
    `Адрес модели: ${openai.baseUrl ?? 'OpenAI'}; набор: ${options.dir} (сценариев: ${entries.length}, в каждом 4 диалога)`,
  );
  if (!options.scenario && set.uncovered.length > 0)
    console.log(`Без калибровочных диалогов (не проверяются): ${set.uncovered.map((s) => s.key).join(', ')}`);

  let results;
  try {
    results = await runCalibration({
      judge,
      entries,
      runs: options.runs,
      concurrency: options.concurrency,
      onScored: (done, total) => {
        if (process.stderr.isTTY) process.stderr.write(`\r  оценено ${done} из ${total}…${done === total ? '\n' : ''}`);
      },
    });
  } catch (error) {
    if (!(error instanceof ModelUnavailableError)) throw error;
    console.error(
      `Судья недоступен: ${failureReasons(openai.timeoutMs)[error.failure]}.\n` +
        `Модель: ${openai.judgeModel}, адрес: ${openai.baseUrl ?? 'OpenAI'}.\nПодробности: ${error.message}`,
    );
    return 1;
  }
  const summary = summarizeCalibration(results);
  console.log(formatCalibrationReport(summary, options.runs));
  if (summary.temperatures.includes(null))
    console.log(`  Модель не принимает температуру ${openai.judgeTemperature}: оценки шли при её температуре по умолчанию.`);
  return 0;
}

runCommand(main);
