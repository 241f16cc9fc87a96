import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dialogueKinds,
  loadCalibrationSet,
  type CalibrationEntry,
  type DialogueKind,
} from '../../src/services/judge-calibration.js';
import { loadScenarios } from '../../src/services/scenarios.js';
import { rubricKeysOf, traineeLinesOf, textOf } from '../support/model-script.js';
import { OpenAiFake, type RecordedRequest } from '../support/openai-fake.js';

const tsx = path.resolve('node_modules/.bin/tsx');
const script = path.resolve('src/cli/judge-calibrate.ts');

let openai: OpenAiFake;
let cwd: string;
let entries: readonly CalibrationEntry[];

beforeAll(async () => {
  openai = await OpenAiFake.start();
  // Away from the checkout: a developer's .env must not reach the command.
  cwd = await mkdtemp(path.join(tmpdir(), 'judge-calibrate-'));
  ({ entries } = await loadCalibrationSet('calibration', await loadScenarios('scenarios')));
});
afterAll(async () => {
  await openai.stop();
  await rm(cwd, { recursive: true, force: true });
});

const baseScores: Readonly<Record<DialogueKind, number>> = { strong: 85, average: 55, poor: 15, 'wrong-price': 60 };

/** Which shipped dialogue the judge was given, told by its first trainee line. */
function dialogueOf(request: RecordedRequest): { entry: CalibrationEntry; kind: DialogueKind } {
  const first = traineeLinesOf(request)[0];
  for (const entry of entries)
    for (const kind of dialogueKinds)
      if (entry.dialogues[kind].find((m) => m.role === 'user')?.content === first) return { entry, kind };
  throw new Error(`not a calibration dialogue: ${first}`);
}

/**
 * A judge model that scores by the dialogue: strong 85, average 55, poor 15 (upsell's average 90, out
 * of order); cold-call's strong «contact» 10 higher on every second scoring; the wrong figure listed
 * in facts with the trainee's very line and the first passage's source, except in angry-customer.
 */
function scoringModel() {
  const seen = new Map<string, number>();
  return (request: RecordedRequest): string => {
    const { entry, kind } = dialogueOf(request);
    const id = `${entry.scenario.key}/${kind}`;
    const run = seen.get(id) ?? 0;
    seen.set(id, run + 1);
    const score = entry.scenario.key === 'upsell' && kind === 'average' ? 90 : baseScores[kind];
    const lines = traineeLinesOf(request);
    const input = textOf(request.messages[1]?.content);
    const source = /<passage source="([^"]+)">/.exec(input)?.[1] ?? '';
    const wrongLine = lines.find((line) => line.includes(entry.wrongFigure.said));
    return JSON.stringify({
      criteria: rubricKeysOf(request).map((key) => ({
        key,
        score: entry.scenario.key === 'cold-call' && kind === 'strong' && key === 'contact' && run % 2 === 1 ? score + 10 : score,
        evidence: `«${lines[0]}»`,
        comment: 'По ориентирам',
      })),
      facts:
        kind === 'wrong-price' && entry.scenario.key !== 'angry-customer' && wrongLine
          ? [{ claim: wrongLine, correct: `${entry.wrongFigure.correct} за пользователя в месяц при оплате за год`, source }]
          : [],
      strengths: [],
      mistakes: [],
      recommendations: [],
      summary: '',
    });
  };
}

async function calibrate(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(tsx, [script, ...args], {
      cwd,
      env: {
        PATH: process.env.PATH,
        OPENAI_API_KEY: openai.apiKey,
        OPENAI_BASE_URL: openai.baseUrl,
        JUDGE_MODEL: 'judge-under-test',
        SCENARIOS_DIR: path.resolve('scenarios'),
        ...env,
      },
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout: string; stderr: string };
    return { code: failed.code ?? -1, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run judge:calibrate', () => {
  it('scores the shipped dialogues N times at the configured temperature and prints ranking, spread and the wrong figure', async () => {
    openai.respondWith(scoringModel());
    const before = openai.requests.length;

    const run = await calibrate(['--runs', '2']);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const requests = openai.requests.slice(before);
    expect(requests).toHaveLength(5 * 4 * 2);
    expect(new Set(requests.map((r) => r.body.temperature))).toEqual(new Set([0]));
    expect(new Set(requests.map((r) => r.model))).toEqual(new Set(['judge-under-test']));
    expect(textOf(requests[0]!.messages[1]!.content)).toContain('<knowledge_base>\n<passage source="');

    const out = run.stdout;
    expect(out).toMatch(/^Калибровка судьи: модель judge-under-test, температура 0, прогонов на диалог: 2, инструкции judge-/);
    expect(out).toContain('«Холодный звонок» (cold-call), уровень: Средний, критерии ');
    expect(out).toContain('  Средний итог: сильный 86,0 · средний 55,0 · слабый 15,0 · с неверной цифрой 60,0');
    expect(out).toContain('    Установление контакта   Δ10 σ7,1  Δ0 σ0,0  Δ0 σ0,0  Δ0 σ0,0');
    expect(out).toContain('    Итог                    Δ2 σ1,4   Δ0 σ0,0  Δ0 σ0,0  Δ0 σ0,0');
    expect(out).toContain(
      '  Неверная цифра («900 ₽», верно: 1 200 ₽): поймана в 2 из 2 прогонов — ' +
        '««Бизнес» — 900 ₽ за пользователя в месяц при оплате за год, на 12 продавцов выйдет 10 800 ₽ в месяц.» → ' +
        '1 200 ₽ за пользователя в месяц при оплате за год (catalog.md › Тарифы › Тариф «Бизнес»)',
    );
    expect(out).toContain('  Порядок сильный > средний > слабый: нарушен (2 из 3 пар; сильный ≤ средний)');
    expect(out).toContain('  Неверная цифра («36 000 ₽», верно: 3 000 ₽): не поймана ни в одном из 2 прогонов');
    expect(out).toContain('  Точность ранжирования: 93% (14 из 15 пар)');
    expect(out).toContain('наибольший 10 (cold-call, сильный, contact)');
    expect(out).toContain('  Неверная цифра поймана: в 8 из 10 прогонов; хотя бы раз — в 4 из 5 сценариев');
    expect(out).toContain('  Оценок: 40, без оценки: 0');
  });

  it('calibrates one scenario at the temperature from JUDGE_TEMPERATURE', async () => {
    openai.respondWith(scoringModel());
    const before = openai.requests.length;

    const run = await calibrate(['--scenario', 'cold-call', '--runs', '1'], { JUDGE_TEMPERATURE: '0,3' });

    expect(run.code).toBe(0);
    const requests = openai.requests.slice(before);
    expect(requests.map((r) => r.body.temperature)).toEqual([0.3, 0.3, 0.3, 0.3]);
    expect(run.stdout).toContain('температура 0.3');
    expect(run.stdout).not.toContain('(upsell)');
    expect(run.stdout).toContain('  Точность ранжирования: 100% (3 из 3 пар)');
    expect(run.stdout).toContain('  Разброс повторных оценок: не измеряется при одном прогоне (--runs 2 и больше)');
  });

  it('says in Russian that the judge is unreachable and exits 1, after one attempt', async () => {
    const gone = await OpenAiFake.start();
    const url = gone.baseUrl;
    await gone.stop();

    const run = await calibrate(['--runs', '3'], { OPENAI_BASE_URL: url, LLM_TIMEOUT_MS: '2000' });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Судья недоступен: сервер модели не отвечает — проверьте OPENAI_BASE_URL и сеть.');
    expect(run.stderr).toContain(`Модель: judge-under-test, адрес: ${url}.`);
    expect(run.stdout).not.toContain('Точность ранжирования');
  });

  it('explains a wrong key the same way', async () => {
    openai.respondWith(scoringModel());
    const run = await calibrate(['--scenario', 'upsell', '--runs', '1'], { OPENAI_API_KEY: 'sk-wrong' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'Судья недоступен: сервер отклонил запрос — проверьте OPENAI_API_KEY и имя модели в JUDGE_MODEL.',
    );
  });

  it('refuses bad arguments, an unknown scenario and a missing key with exit code 2', async () => {
    const badRuns = await calibrate(['--runs', '0']);
    expect(badRuns.code).toBe(2);
    expect(badRuns.stderr).toContain('--runs: нужно целое число от 1 до 20');
    expect(badRuns.stderr).toContain('Запуск: npm run judge:calibrate');

    const unknown = await calibrate(['--scenario', 'cold-kall']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Для сценария «cold-kall» нет калибровочного файла');
    expect(unknown.stderr).toContain('Есть: angry-customer, cold-call, needs-discovery, price-objection, upsell.');

    const noKey = await calibrate([], { OPENAI_API_KEY: '' });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('OPENAI_API_KEY: не задана');
  });
});
