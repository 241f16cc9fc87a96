/**
 * The judge's calibration (`npm run judge:calibrate`): a shipped set of dialogues per scenario — strong,
 * average, poor, and one with a wrong figure — each scored several times by the configured judge, so
 * that an operator sees whether the chosen model ranks them right, how far its repeated scores drift,
 * and whether it catches the wrong figure. The logic lives here; src/cli/judge-calibrate.ts runs it.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import type { ChatMessage } from '../db/queries/messages.js';
import type { FactRecord } from '../db/schema.js';
import { checkQuote, type Evaluation, type Judge } from './judge.js';
import { HEADING_SEPARATOR } from './knowledge-base/chunker.js';
import { formatPassagesForPrompt } from './knowledge-base/retriever.js';
import { difficultyLevels, type Difficulty, type Scenario, type ScenarioCatalog } from './scenarios.js';

/** The four dialogues of a scenario, in the order they must rank (the wrong-figure one is not ranked). */
export const dialogueKinds = ['strong', 'average', 'poor', 'wrong-price'] as const;
export type DialogueKind = (typeof dialogueKinds)[number];
const rankedKinds = ['strong', 'average', 'poor'] as const;

const text = z.string().trim().min(1);
const turnSchema = z.union([z.strictObject({ Клиент: text }), z.strictObject({ Менеджер: text })], {
  error: 'каждая реплика — «Клиент: …» или «Менеджер: …»',
});
const transcriptSchema = z
  .array(turnSchema)
  .min(4, 'в диалоге нужно хотя бы 4 реплики')
  .refine((turns) => turns.some((turn) => 'Менеджер' in turn), 'в диалоге нет ни одной реплики менеджера');
const dialogueSchema = z.strictObject({ transcript: transcriptSchema });

const calibrationFileSchema = z.strictObject({
  scenario: text,
  difficulty: z.enum(difficultyLevels, { error: 'допустимо: easy, medium или hard' }).default('medium'),
  /** What the judge sees as the knowledge base: `source` as the retriever names passages (file › heading › heading). */
  knowledge: z.array(z.strictObject({ source: text, text })).default([]),
  dialogues: z.strictObject({
    strong: dialogueSchema,
    average: dialogueSchema,
    poor: dialogueSchema,
    'wrong-price': dialogueSchema.extend({
      /** The figure the trainee got wrong, as said, and the right one: the judge's facts must list it. */
      wrongFigure: z.strictObject({ said: text, correct: text }),
    }),
  }),
});

/** A calibration file that cannot be used; the message names the file and the field. */
export class CalibrationFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`Калибровочный файл ${file}: ${problems.join('; ')}`);
    this.name = 'CalibrationFileError';
  }
}

/** One scenario's calibration: its four dialogues and the knowledge the judge gets with them. */
export interface CalibrationEntry {
  readonly file: string;
  readonly scenario: Scenario;
  readonly difficulty: Difficulty;
  /** The knowledge block as the bot gives it to the judge (formatPassagesForPrompt). */
  readonly knowledge: string;
  readonly dialogues: Readonly<Record<DialogueKind, readonly ChatMessage[]>>;
  readonly wrongFigure: { readonly said: string; readonly correct: string };
}

/** The calibration files of a folder (`<scenario key>.yaml`), checked against the scenarios they name. */
export async function loadCalibrationSet(
  directory: string,
  scenarios: ScenarioCatalog,
): Promise<{ readonly entries: readonly CalibrationEntry[]; readonly uncovered: readonly Scenario[] }> {
  let names: string[];
  try {
    names = (await readdir(directory)).filter((name) => /\.ya?ml$/.test(name)).sort();
  } catch (error) {
    throw new CalibrationFileError(directory, [`папка не читается (${(error as NodeJS.ErrnoException).code ?? 'ошибка'})`]);
  }
  if (names.length === 0) throw new CalibrationFileError(directory, ['в папке нет ни одного калибровочного файла (.yaml)']);
  const entries: CalibrationEntry[] = [];
  for (const name of names) {
    entries.push(parseCalibrationFile(name, await readFile(path.join(directory, name), 'utf8'), scenarios));
  }
  const covered = new Set(entries.map((entry) => entry.scenario.key));
  return { entries, uncovered: scenarios.all.filter((scenario) => !covered.has(scenario.key)) };
}

/** Parses one calibration file; the scenario must exist and the wrong figure must be in the trainee's words. */
export function parseCalibrationFile(fileName: string, source: string, scenarios: ScenarioCatalog): CalibrationEntry {
  let data: unknown;
  try {
    data = YAML.parse(source);
  } catch (error) {
    throw new CalibrationFileError(fileName, [`не разбирается: ${(error as Error).message.split('\n')[0]}`]);
  }
  const parsed = calibrationFileSchema.safeParse(data);
  if (!parsed.success) {
    throw new CalibrationFileError(
      fileName,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(файл)'}: ${issue.message}`),
    );
  }
  const file = parsed.data;
  const scenario = scenarios.find(file.scenario);
  if (!scenario) throw new CalibrationFileError(fileName, [`scenario: сценария «${file.scenario}» нет в SCENARIOS_DIR`]);
  const dialogues = Object.fromEntries(
    dialogueKinds.map((kind) => [kind, file.dialogues[kind].transcript.map(toMessage)]),
  ) as Record<DialogueKind, ChatMessage[]>;
  const { wrongFigure } = file.dialogues['wrong-price'];
  const traineeLines = dialogues['wrong-price'].filter((m) => m.role === 'user').map((m) => m.content);
  if (checkQuote(wrongFigure.said, traineeLines) !== 'found') {
    throw new CalibrationFileError(fileName, [
      `dialogues.wrong-price.wrongFigure.said: «${wrongFigure.said}» — менеджер в этом диалоге так не говорит`,
    ]);
  }
  return {
    file: fileName,
    scenario,
    difficulty: file.difficulty,
    knowledge: formatPassagesForPrompt(
      file.knowledge.map((passage, position) => {
        const [sourceFile, ...headingPath] = passage.source.split(HEADING_SEPARATOR.trim()).map((part) => part.trim());
        return { text: passage.text, file: sourceFile!, headingPath, position, audience: 'internal' as const, score: 1 };
      }),
    ),
    dialogues,
    wrongFigure,
  };
}

function toMessage(turn: z.infer<typeof turnSchema>): ChatMessage {
  return 'Менеджер' in turn ? { role: 'user', content: turn.Менеджер } : { role: 'assistant', content: turn.Клиент };
}

/** One scoring of one dialogue: the evaluation, or why the judge gave none. */
export type CalibrationRun = { readonly evaluation: Evaluation } | { readonly failure: string };

export interface CalibrationResult {
  readonly entry: CalibrationEntry;
  readonly runs: Readonly<Record<DialogueKind, readonly CalibrationRun[]>>;
}

export interface CalibrationOptions {
  readonly judge: Judge;
  readonly entries: readonly CalibrationEntry[];
  /** How many times each dialogue is scored. */
  readonly runs: number;
  /** How many judge calls are in flight at once. */
  readonly concurrency?: number;
  /** After each scoring (for a progress line). */
  readonly onScored?: (done: number, total: number) => void;
}

/**
 * Scores every dialogue `runs` times. The first scoring runs alone and its failure is thrown: a model
 * that is down or misconfigured fails it, and nothing else is tried. Later failures are recorded.
 */
export async function runCalibration(options: CalibrationOptions): Promise<CalibrationResult[]> {
  const jobs = options.entries.flatMap((entry, at) =>
    dialogueKinds.flatMap((kind) => Array.from({ length: options.runs }, () => ({ at, entry, kind }))),
  );
  const runs = options.entries.map(
    () =>
      Object.fromEntries(dialogueKinds.map((kind) => [kind, [] as CalibrationRun[]])) as Record<DialogueKind, CalibrationRun[]>,
  );
  let done = 0;
  const score = (job: (typeof jobs)[number]) =>
    options.judge.scoreTranscript({
      scenario: job.entry.scenario,
      difficulty: job.entry.difficulty,
      transcript: job.entry.dialogues[job.kind],
      knowledge: job.entry.knowledge,
    });
  const record = (job: (typeof jobs)[number], run: CalibrationRun) => {
    runs[job.at]![job.kind].push(run);
    options.onScored?.(++done, jobs.length);
  };

  const [first, ...rest] = jobs;
  if (first) record(first, { evaluation: await score(first) });
  let next = 0;
  const worker = async () => {
    while (next < rest.length) {
      const job = rest[next++]!;
      try {
        record(job, { evaluation: await score(job) });
      } catch (error) {
        record(job, { failure: error instanceof Error ? error.message : String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, worker));
  return options.entries.map((entry, at) => ({ entry, runs: runs[at]! }));
}

// ---------------------------------------------------------------------------------------------
// What the runs say

/** How far repeated scores of the same thing lie apart. */
export interface Spread {
  readonly scores: readonly number[];
  /** max − min. */
  readonly range: number;
  /** The sample standard deviation (0 for one score). */
  readonly stdDev: number;
}

export interface DialogueSummary {
  readonly kind: DialogueKind;
  readonly scored: number;
  readonly failed: number;
  /** The mean total over the scored runs; null when none was scored. */
  readonly meanTotal: number | null;
  readonly total: Spread;
  readonly criteria: ReadonlyArray<{ readonly key: string; readonly title: string } & Spread>;
}

export interface RankingPair {
  readonly higher: DialogueKind;
  readonly lower: DialogueKind;
  /** Whether the higher one's mean total is strictly above; null when one of them was never scored. */
  readonly holds: boolean | null;
}

export interface WrongFigureCheck {
  readonly said: string;
  readonly correct: string;
  /** Scored runs of the wrong-figure dialogue whose facts list it. */
  readonly caught: number;
  readonly scored: number;
  /** The facts the judge listed in the runs that caught it (for the report), without repeats. */
  readonly facts: readonly FactRecord[];
}

export interface ScenarioSummary {
  readonly key: string;
  readonly title: string;
  readonly difficultyLabel: string;
  readonly rubricVersion: string | undefined;
  readonly dialogues: readonly DialogueSummary[];
  readonly ranking: readonly RankingPair[];
  readonly wrongFigure: WrongFigureCheck;
}

export interface CalibrationSummary {
  readonly scenarios: readonly ScenarioSummary[];
  readonly ranking: { readonly held: number; readonly judged: number; readonly accuracy: number | null };
  /** The criterion spreads over every scenario and dialogue: their mean range, and the widest. */
  readonly spread: {
    readonly meanRange: number | null;
    readonly widest:
      { readonly scenario: string; readonly kind: DialogueKind; readonly criterion: string; readonly range: number } | undefined;
  };
  readonly wrongFigure: { readonly caught: number; readonly scored: number; readonly scenariosCaught: number };
  readonly runs: { readonly scored: number; readonly failed: number };
  readonly promptVersions: readonly string[];
  /** The temperatures the judge ran at (null: the model's default, when it refused a set one). */
  readonly temperatures: ReadonlyArray<number | null>;
}

export function spreadOf(scores: readonly number[]): Spread {
  if (scores.length === 0) return { scores, range: 0, stdDev: 0 };
  const mean = scores.reduce((sum, s) => sum + s, 0) / scores.length;
  const variance = scores.length > 1 ? scores.reduce((sum, s) => sum + (s - mean) ** 2, 0) / (scores.length - 1) : 0;
  return { scores, range: Math.max(...scores) - Math.min(...scores), stdDev: Math.sqrt(variance) };
}

/** Whether the judge's facts list the wrong figure: a claim with the figure said, a correction with the right one. */
export function catchesWrongFigure(
  facts: readonly FactRecord[],
  figure: { readonly said: string; readonly correct: string },
): boolean {
  return facts.some((fact) => containsFigure(fact.claim, figure.said) && containsFigure(fact.correct, figure.correct));
}

/**
 * Whether every number of the figure stands in the text as a number: «1 200 ₽» is in «1200 рублей
 * в месяц», not in «11 200». A figure without digits is looked for as words.
 */
function containsFigure(text: string, figure: string): boolean {
  const wanted = numbersOf(figure);
  if (wanted.length === 0) return ` ${wordsOf(text)} `.includes(` ${wordsOf(figure)} `);
  const present = new Set(numbersOf(text));
  return wanted.every((number) => present.has(number));
}

/** The numbers in a text, thousands groups joined («1 200» → 1200), decimal commas as points. */
function numbersOf(text: string): string[] {
  const joined = text.replace(/(\d)[\s\u00a0\u202f](?=\d{3}(?!\d))/g, '$1');
  return (joined.match(/\d+(?:[.,]\d+)?/g) ?? []).map((number) => number.replace(',', '.'));
}

const wordsOf = (text: string) =>
  text
    .toLowerCase()
    .replaceAll('ё', 'е')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

export function summarizeCalibration(results: readonly CalibrationResult[]): CalibrationSummary {
  const scenarios = results.map(summarizeScenario);
  const pairs = scenarios.flatMap((s) => s.ranking).filter((pair) => pair.holds !== null);
  const held = pairs.filter((pair) => pair.holds).length;
  const criterionSpreads = scenarios.flatMap((s) =>
    s.dialogues
      .filter((d) => d.scored > 1)
      .flatMap((d) => d.criteria.map((c) => ({ scenario: s.key, kind: d.kind, criterion: c.key, range: c.range }))),
  );
  const allRuns = results.flatMap((r) => dialogueKinds.flatMap((kind) => r.runs[kind]));
  const evaluations = allRuns.flatMap(evaluationOf);
  return {
    scenarios,
    ranking: { held, judged: pairs.length, accuracy: pairs.length > 0 ? held / pairs.length : null },
    spread: {
      meanRange:
        criterionSpreads.length > 0 ? criterionSpreads.reduce((sum, c) => sum + c.range, 0) / criterionSpreads.length : null,
      widest: criterionSpreads.reduce<(typeof criterionSpreads)[number] | undefined>(
        (widest, c) => (widest === undefined || c.range > widest.range ? c : widest),
        undefined,
      ),
    },
    wrongFigure: {
      caught: scenarios.reduce((sum, s) => sum + s.wrongFigure.caught, 0),
      scored: scenarios.reduce((sum, s) => sum + s.wrongFigure.scored, 0),
      scenariosCaught: scenarios.filter((s) => s.wrongFigure.caught > 0).length,
    },
    runs: { scored: evaluations.length, failed: allRuns.length - evaluations.length },
    promptVersions: [...new Set(evaluations.map((e) => e.promptVersion))],
    temperatures: [...new Set(evaluations.map((e) => e.judgeTemperature))],
  };
}

function evaluationOf(run: CalibrationRun): Evaluation[] {
  return 'evaluation' in run ? [run.evaluation] : [];
}

function summarizeScenario({ entry, runs }: CalibrationResult): ScenarioSummary {
  const dialogues = dialogueKinds.map((kind): DialogueSummary => {
    const evaluations = runs[kind].flatMap(evaluationOf);
    const totals = evaluations.map((e) => e.totalScore);
    const keys = evaluations[0]?.criteria ?? [];
    return {
      kind,
      scored: evaluations.length,
      failed: runs[kind].length - evaluations.length,
      meanTotal: totals.length > 0 ? totals.reduce((sum, t) => sum + t, 0) / totals.length : null,
      total: spreadOf(totals),
      criteria: keys.map((criterion) => ({
        key: criterion.key,
        title: criterion.title,
        ...spreadOf(evaluations.flatMap((e) => e.criteria.filter((c) => c.key === criterion.key).map((c) => c.score))),
      })),
    };
  });
  const mean = (kind: DialogueKind) => dialogues.find((d) => d.kind === kind)!.meanTotal;
  const ranking = rankedKinds.flatMap((higher, i) =>
    rankedKinds.slice(i + 1).map((lower): RankingPair => {
      const [a, b] = [mean(higher), mean(lower)];
      return { higher, lower, holds: a === null || b === null ? null : a > b };
    }),
  );
  const wrongRuns = runs['wrong-price'].flatMap(evaluationOf);
  const catching = wrongRuns.filter((e) => catchesWrongFigure(e.facts, entry.wrongFigure));
  const facts = new Map<string, FactRecord>();
  for (const fact of catching.flatMap((e) => e.facts.filter((f) => catchesWrongFigure([f], entry.wrongFigure))))
    facts.set(`${fact.claim}\u0000${fact.correct}`, fact);
  return {
    key: entry.scenario.key,
    title: entry.scenario.title,
    difficultyLabel: entry.scenario.difficulties[entry.difficulty].label,
    rubricVersion: runs.strong.flatMap(evaluationOf)[0]?.rubricVersion,
    dialogues,
    ranking,
    wrongFigure: { ...entry.wrongFigure, caught: catching.length, scored: wrongRuns.length, facts: [...facts.values()] },
  };
}

// ---------------------------------------------------------------------------------------------
// The report an operator reads

const kindNames: Readonly<Record<DialogueKind, string>> = {
  strong: 'сильный',
  average: 'средний',
  poor: 'слабый',
  'wrong-price': 'с неверной цифрой',
};

/** «прогон», «прогона», «прогонов» after a number. */
function runsWord(count: number): string {
  const [tens, ones] = [count % 100, count % 10];
  if (ones === 1 && tens !== 11) return 'прогон';
  if (ones >= 2 && ones <= 4 && (tens < 12 || tens > 14)) return 'прогона';
  return 'прогонов';
}

/** A genitive after «из N»: «из 1 сценария», «из 5 сценариев». */
function outOf(count: number, one: string, many: string): string {
  return `из ${count} ${count % 10 === 1 && count % 100 !== 11 ? one : many}`;
}
const pairs = (count: number) => outOf(count, 'пары', 'пар');
const runsOf = (count: number) => outOf(count, 'прогона', 'прогонов');

const decimal = (value: number) => value.toFixed(1).replace('.', ',');
const percent = (share: number) => `${Math.round(share * 100)}%`;

/** The calibration as plain text for a terminal: per scenario, then the totals. */
export function formatCalibrationReport(summary: CalibrationSummary, runs: number): string {
  const lines: string[] = [];
  for (const scenario of summary.scenarios) {
    lines.push(
      '',
      `«${scenario.title}» (${scenario.key}), уровень: ${scenario.difficultyLabel}` +
        (scenario.rubricVersion ? `, критерии ${scenario.rubricVersion}` : ''),
    );
    lines.push(
      `  Средний итог: ${scenario.dialogues
        .map((d) => `${kindNames[d.kind]} ${d.meanTotal === null ? '—' : decimal(d.meanTotal)}`)
        .join(' · ')}`,
    );
    const judged = scenario.ranking.filter((pair) => pair.holds !== null);
    const held = judged.filter((pair) => pair.holds).length;
    const broken = scenario.ranking
      .filter((pair) => pair.holds === false)
      .map((pair) => `${kindNames[pair.higher]} ≤ ${kindNames[pair.lower]}`);
    lines.push(
      `  Порядок сильный > средний > слабый: ${
        judged.length < scenario.ranking.length
          ? `не проверить: не все диалоги оценены (верных пар: ${held} из ${judged.length})`
          : held === judged.length
            ? `соблюдён (${held} ${pairs(judged.length)})`
            : `нарушен (${held} ${pairs(judged.length)}; ${broken.join(', ')})`
      }`,
    );
    lines.push(...spreadTable(scenario, runs));
    lines.push(wrongFigureLine(scenario.wrongFigure));
    const failed = scenario.dialogues.reduce((sum, d) => sum + d.failed, 0);
    if (failed > 0) lines.push(`  Судья не дал оценку: ${failed} раз (см. журнал)`);
  }
  lines.push('', 'Итого');
  lines.push(
    `  Точность ранжирования: ${
      summary.ranking.accuracy === null
        ? 'не измерена'
        : `${percent(summary.ranking.accuracy)} (${summary.ranking.held} ${pairs(summary.ranking.judged)})`
    }`,
  );
  const { meanRange, widest } = summary.spread;
  lines.push(
    meanRange === null
      ? '  Разброс повторных оценок: не измерен (нужно не меньше двух прогонов: --runs 2)'
      : `  Разброс повторных оценок по критериям: в среднем ${decimal(meanRange)}, наибольший ${widest!.range} ` +
          `(${widest!.scenario}, ${kindNames[widest!.kind]}, ${widest!.criterion})`,
  );
  lines.push(
    `  Неверная цифра поймана: в ${summary.wrongFigure.caught} ${runsOf(summary.wrongFigure.scored)}; ` +
      `хотя бы раз — в ${summary.wrongFigure.scenariosCaught} ${outOf(summary.scenarios.length, 'сценария', 'сценариев')}`,
  );
  lines.push(`  Оценок: ${summary.runs.scored}, без оценки: ${summary.runs.failed}`);
  return lines.join('\n');
}

/** Criteria by dialogue: «Δ range σ std» of the repeated scores, the total last. */
function spreadTable(scenario: ScenarioSummary, runs: number): string[] {
  if (runs < 2) return ['  Разброс повторных оценок: не измеряется при одном прогоне (--runs 2 и больше)'];
  const cell = (spread: Spread | undefined) => (spread ? `Δ${spread.range} σ${decimal(spread.stdDev)}` : '—');
  const rows = [
    ...(scenario.dialogues.find((d) => d.criteria.length > 0)?.criteria ?? []).map((criterion) => ({
      name: criterion.title,
      cells: scenario.dialogues.map((d) => cell(d.criteria.find((c) => c.key === criterion.key))),
    })),
    { name: 'Итог', cells: scenario.dialogues.map((d) => cell(d.scored > 0 ? d.total : undefined)) },
  ];
  const nameWidth = Math.max(...rows.map((row) => row.name.length), 'Критерий'.length);
  const widths = scenario.dialogues.map((d, i) => Math.max(kindNames[d.kind].length, ...rows.map((row) => row.cells[i]!.length)));
  const line = (name: string, cells: readonly string[]) =>
    `    ${name.padEnd(nameWidth)}  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  return [
    `  Разброс повторных оценок (Δ — макс. минус мин., σ — стандартное отклонение; ${runs} ${runsWord(runs)} на диалог):`,
    line(
      'Критерий',
      scenario.dialogues.map((d) => kindNames[d.kind]),
    ),
    ...rows.map((row) => line(row.name, row.cells)),
  ];
}

/** A quote in «…», unless the judge already put the whole of it in quotation marks. */
function quoted(text: string): string {
  const quote = text.trim();
  return /^[«"“„][\s\S]*[»"”]$/u.test(quote) ? quote : `«${quote}»`;
}

function wrongFigureLine(check: WrongFigureCheck): string {
  const head = `  Неверная цифра («${check.said}», верно: ${check.correct}): `;
  if (check.scored === 0) return `${head}не проверена — судья не оценил этот диалог`;
  if (check.caught === 0) return `${head}не поймана ни в одном ${runsOf(check.scored)}`;
  const example = check.facts[0]!;
  return (
    `${head}поймана в ${check.caught} ${runsOf(check.scored)} — ` +
    `${quoted(example.claim)} → ${example.correct}${example.source ? ` (${example.source})` : ''}`
  );
}
