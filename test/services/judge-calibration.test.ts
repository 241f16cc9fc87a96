import { beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/db/queries/messages.js';
import type { FactRecord } from '../../src/db/schema.js';
import {
  CalibrationFileError,
  catchesWrongFigure,
  dialogueKinds,
  formatCalibrationReport,
  loadCalibrationSet,
  parseCalibrationFile,
  runCalibration,
  spreadOf,
  summarizeCalibration,
  type CalibrationEntry,
  type DialogueKind,
} from '../../src/services/judge-calibration.js';
import { JudgeUnavailableError, type Evaluation, type Judge } from '../../src/services/judge.js';
import { ModelUnavailableError } from '../../src/services/llm.js';
import { loadScenarios, type ScenarioCatalog } from '../../src/services/scenarios.js';

let scenarios: ScenarioCatalog;
let entries: readonly CalibrationEntry[];
beforeAll(async () => {
  scenarios = await loadScenarios('scenarios');
  ({ entries } = await loadCalibrationSet('calibration', scenarios));
});

/** Which shipped dialogue a transcript is. */
function identify(transcript: readonly ChatMessage[]): { entry: CalibrationEntry; kind: DialogueKind } {
  for (const entry of entries) for (const kind of dialogueKinds) if (entry.dialogues[kind] === transcript) return { entry, kind };
  throw new Error('not a calibration dialogue');
}

/**
 * A judge in memory: every criterion of a dialogue gets `scores(...)`; the wrong-figure dialogue's facts
 * come from `facts(...)`. Calls are counted per dialogue, so a test can make repeated scores differ.
 */
function fakeJudge(
  scores: (key: string, kind: DialogueKind, run: number) => number,
  facts: (entry: CalibrationEntry, run: number) => FactRecord[] = () => [],
): Judge & { calls: number } {
  const runs = new Map<string, number>();
  const judge = {
    calls: 0,
    scoreTranscript: async ({ transcript }: Parameters<Judge['scoreTranscript']>[0]): Promise<Evaluation> => {
      judge.calls++;
      const { entry, kind } = identify(transcript);
      const run = runs.get(`${entry.scenario.key}/${kind}`) ?? 0;
      runs.set(`${entry.scenario.key}/${kind}`, run + 1);
      const score = scores(entry.scenario.key, kind, run);
      return {
        totalScore: score,
        criteria: entry.scenario.rubric.map((c, i) => ({
          key: c.key,
          title: c.title,
          weight: c.weight,
          // The first criterion drifts by 10 on every second run of the strong dialogue.
          score: i === 0 && kind === 'strong' && run % 2 === 1 ? Math.min(100, score + 10) : score,
          evidence: '',
          comment: '',
        })),
        strengths: [],
        mistakes: [],
        recommendations: [],
        summary: '',
        model: 'fake',
        omittedMessages: 0,
        delivery: null,
        facts: kind === 'wrong-price' ? facts(entry, run) : [],
        rubricVersion: 'rubric',
        promptVersion: 'prompt',
        judgeTemperature: 0,
      };
    },
  };
  return judge;
}

const byKind: Readonly<Record<DialogueKind, number>> = { strong: 90, average: 60, poor: 20, 'wrong-price': 55 };

describe('the shipped calibration set', () => {
  it('covers every shipped scenario with four realistic dialogues of 8–14 lines', async () => {
    const set = await loadCalibrationSet('calibration', scenarios);
    expect(set.entries.map((e) => e.scenario.key)).toEqual(scenarios.all.map((s) => s.key));
    expect(set.uncovered).toEqual([]);
    for (const entry of set.entries) {
      for (const kind of dialogueKinds) {
        const dialogue = entry.dialogues[kind];
        expect(dialogue.length, `${entry.file} ${kind}`).toBeGreaterThanOrEqual(8);
        expect(dialogue.length, `${entry.file} ${kind}`).toBeLessThanOrEqual(14);
        expect(dialogue[0]!.role, `${entry.file} ${kind}: the client speaks first`).toBe('assistant');
        expect(dialogue[0]!.content).toBe(entry.scenario.persona.openingLine);
      }
      expect(entry.knowledge).toMatch(/^<knowledge_base>\n<passage source="[a-z-]+\.md › /);
    }
  });

  it('names the passage the wrong figure contradicts as the retriever would (file › section)', () => {
    const coldCall = entries.find((e) => e.scenario.key === 'cold-call')!;
    expect(coldCall.knowledge).toContain('<passage source="catalog.md › Тарифы › Тариф «Бизнес»">\nЦена: 1 500 ₽');
    expect(coldCall.wrongFigure).toEqual({ said: '900 ₽', correct: '1 200 ₽' });
  });

  it('explains a file that cannot be used: the file, the field, what is wrong', () => {
    const problems = (source: string) => {
      try {
        parseCalibrationFile('broken.yaml', source, scenarios);
      } catch (error) {
        if (error instanceof CalibrationFileError) return error.message;
        throw error;
      }
      throw new Error('expected a CalibrationFileError');
    };
    const dialogue = (extra = '') =>
      `    transcript:\n      - Клиент: Алло\n      - Менеджер: Добрый день, 900 ₽\n      - Клиент: Да\n      - Менеджер: Пока\n${extra}`;
    const file = (scenario: string, said = '900 ₽') =>
      `scenario: ${scenario}\ndialogues:\n  strong:\n${dialogue()}  average:\n${dialogue()}  poor:\n${dialogue()}` +
      `  wrong-price:\n${dialogue(`    wrongFigure:\n      said: ${said}\n      correct: 1 200 ₽\n`)}`;

    expect(parseCalibrationFile('ok.yaml', file('cold-call'), scenarios).dialogues.poor).toHaveLength(4);
    expect(problems(file('cold-kall'))).toBe(
      'Калибровочный файл broken.yaml: scenario: сценария «cold-kall» нет в SCENARIOS_DIR',
    );
    expect(problems(file('cold-call', '800 ₽'))).toContain(
      'dialogues.wrong-price.wrongFigure.said: «800 ₽» — менеджер в этом диалоге так не говорит',
    );
    expect(problems('scenario: cold-call\ndialogues:\n  strong:\n' + dialogue())).toContain('dialogues.average');
    expect(problems(file('cold-call').replace('- Клиент: Алло', '- Клиентка: Алло'))).toContain(
      'каждая реплика — «Клиент: …» или «Менеджер: …»',
    );
  });
});

describe('a calibration run', () => {
  it('scores every dialogue N times and measures ranking, spread and the wrong figure', async () => {
    // upsell's average dialogue outscores its strong one: one of 15 pairs is out of order.
    const judge = fakeJudge(
      (scenario, kind) => (scenario === 'upsell' && kind === 'average' ? 95 : byKind[kind]),
      // The wrong figure is caught on the first run only, and in angry-customer never.
      (entry, run) =>
        run === 0 && entry.scenario.key !== 'angry-customer'
          ? [{ claim: `«${entry.wrongFigure.said} за пользователя»`, correct: entry.wrongFigure.correct, source: 'catalog.md' }]
          : [],
    );
    const results = await runCalibration({ judge, entries, runs: 2, concurrency: 3 });
    expect(judge.calls).toBe(5 * 4 * 2);
    const summary = summarizeCalibration(results);

    expect(summary.ranking).toEqual({ held: 14, judged: 15, accuracy: 14 / 15 });
    const upsell = summary.scenarios.find((s) => s.key === 'upsell')!;
    expect(upsell.ranking).toEqual([
      { higher: 'strong', lower: 'average', holds: false },
      { higher: 'strong', lower: 'poor', holds: true },
      { higher: 'average', lower: 'poor', holds: true },
    ]);

    const coldCall = summary.scenarios.find((s) => s.key === 'cold-call')!;
    const strong = coldCall.dialogues.find((d) => d.kind === 'strong')!;
    expect(strong.meanTotal).toBe(90);
    expect(strong.criteria[0]).toMatchObject({ key: 'contact', scores: [90, 100], range: 10 });
    expect(strong.criteria[0]!.stdDev).toBeCloseTo(7.071, 3);
    expect(strong.criteria[1]).toMatchObject({ range: 0, stdDev: 0 });
    expect(summary.spread.widest).toEqual({ scenario: 'angry-customer', kind: 'strong', criterion: 'listen', range: 10 });
    // 5 of the 5 × 4 × 6–7 criterion spreads are 10, the rest 0.
    const spreads = summary.scenarios.reduce((n, s) => n + s.dialogues.reduce((m, d) => m + d.criteria.length, 0), 0);
    expect(summary.spread.meanRange).toBeCloseTo((5 * 10) / spreads, 6);

    expect(coldCall.wrongFigure).toMatchObject({ said: '900 ₽', correct: '1 200 ₽', caught: 1, scored: 2 });
    expect(summary.wrongFigure).toEqual({ caught: 4, scored: 10, scenariosCaught: 4 });
    expect(summary.runs).toEqual({ scored: 40, failed: 0 });

    const report = formatCalibrationReport(summary, 2);
    expect(report).toContain('«Холодный звонок» (cold-call), уровень: Средний, критерии rubric');
    expect(report).toContain('  Средний итог: сильный 90,0 · средний 60,0 · слабый 20,0 · с неверной цифрой 55,0');
    expect(report).toContain('  Порядок сильный > средний > слабый: соблюдён (3 из 3 пар)');
    expect(report).toContain('  Порядок сильный > средний > слабый: нарушен (2 из 3 пар; сильный ≤ средний)');
    expect(report).toContain('    Установление контакта   Δ10 σ7,1  Δ0 σ0,0  Δ0 σ0,0  Δ0 σ0,0');
    expect(report).toContain(
      '  Неверная цифра («900 ₽», верно: 1 200 ₽): поймана в 1 из 2 прогонов — «900 ₽ за пользователя» → 1 200 ₽ (catalog.md)',
    );
    expect(report).toContain('  Неверная цифра («36 000 ₽», верно: 3 000 ₽): не поймана ни в одном из 2 прогонов');
    expect(report).toContain('  Точность ранжирования: 93% (14 из 15 пар)');
    expect(report).toContain('  Разброс повторных оценок по критериям: в среднем 0,');
    expect(report).toContain('наибольший 10 (angry-customer, сильный, listen)');
    expect(report).toContain('  Неверная цифра поймана: в 4 из 10 прогонов; хотя бы раз — в 4 из 5 сценариев');
  });

  it('stops at once when the very first scoring fails: the model is down or misconfigured', async () => {
    const judge = fakeJudge(() => 50);
    let calls = 0;
    const down: Judge = {
      scoreTranscript: async () => {
        calls++;
        throw new JudgeUnavailableError(new ModelUnavailableError('unavailable', 'connect ECONNREFUSED'));
      },
    };
    await expect(runCalibration({ judge: down, entries, runs: 3, concurrency: 4 })).rejects.toBeInstanceOf(JudgeUnavailableError);
    expect(calls).toBe(1);
    expect(judge.calls).toBe(0);
  });

  it('after a first success, records a failed scoring and goes on', async () => {
    const judge = fakeJudge((_, kind) => byKind[kind]);
    let calls = 0;
    const flaky: Judge = {
      scoreTranscript: async (input) => {
        if (++calls === 2) throw new JudgeUnavailableError(new ModelUnavailableError('timeout', 'timed out'));
        return judge.scoreTranscript(input);
      },
    };
    const coldCall = entries.filter((e) => e.scenario.key === 'cold-call');
    const summary = summarizeCalibration(await runCalibration({ judge: flaky, entries: coldCall, runs: 2 }));
    expect(summary.runs).toEqual({ scored: 7, failed: 1 });
    expect(summary.scenarios[0]!.dialogues[0]).toMatchObject({ kind: 'strong', scored: 1, failed: 1, meanTotal: 90 });
    expect(formatCalibrationReport(summary, 2)).toContain('  Судья не дал оценку: 1 раз (см. журнал)');
  });

  it('says that one run measures no spread', async () => {
    const coldCall = entries.filter((e) => e.scenario.key === 'cold-call');
    const report = formatCalibrationReport(
      summarizeCalibration(await runCalibration({ judge: fakeJudge((_, kind) => byKind[kind]), entries: coldCall, runs: 1 })),
      1,
    );
    expect(report).toContain('  Разброс повторных оценок: не измеряется при одном прогоне (--runs 2 и больше)');
    expect(report).toContain('  Разброс повторных оценок: не измерен (нужно не меньше двух прогонов: --runs 2)');
  });
});

describe('the measures', () => {
  it('spread: max − min and the sample standard deviation', () => {
    expect(spreadOf([70, 80, 90])).toMatchObject({ range: 20, stdDev: 10 });
    expect(spreadOf([75])).toMatchObject({ range: 0, stdDev: 0 });
    expect(spreadOf([])).toMatchObject({ range: 0, stdDev: 0 });
  });

  it('a wrong figure is caught by a fact that quotes it and gives the right one, whatever the spacing', () => {
    const figure = { said: '900 ₽', correct: '1 200 ₽' };
    const fact = (claim: string, correct: string) => [{ claim, correct, source: '' }];
    expect(catchesWrongFigure(fact('«Бизнес» — 900 ₽ за пользователя', '1200 рублей при оплате за год'), figure)).toBe(true);
    expect(catchesWrongFigure(fact('900 ₽', '1\u00a0200 ₽'), figure)).toBe(true);
    expect(catchesWrongFigure(fact('900 ₽', '11 200 ₽'), figure)).toBe(false);
    expect(catchesWrongFigure(fact('10 800 ₽ в месяц', '14 400 ₽'), figure)).toBe(false);
    expect(catchesWrongFigure([], figure)).toBe(false);
  });
});
