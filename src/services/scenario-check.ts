import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  defaultDocumentLimits,
  DocumentParseError,
  formatOf,
  parseDocument,
  tooLargeFileReason,
  type DocumentLimits,
} from './knowledge-base/parsers.js';
import { anchorScores, type RubricCriterion, type Scenario, type ScenarioBrief } from './scenarios.js';

/**
 * The scenario validator: the judge may score only facts the trainee can know — from the client
 * card (brief), from what the client says when asked (the persona), or from the knowledge base. Every
 * figure of a rubric (numbers, percentages, times, days of the week) is looked up in those three; a
 * figure found in none of them is flagged, unless the rubric computes it from figures the trainee
 * knows (9 × 1 200 = 10 800).
 */

export type FigureKind = 'number' | 'percent' | 'time' | 'day';

/** One figure as a text states it. */
export interface Figure {
  /** As written («9 600», «12%», «16:00», «вторник»). */
  readonly text: string;
  readonly kind: FigureKind;
  /** The number; minutes after midnight for a time; 1–7 (Monday first) for a day. */
  readonly value: number;
  /** Stated as an estimate («около 600 000 ₽»): a close value counts as the same figure. */
  readonly approximate: boolean;
  /** Where in the text it starts. */
  readonly index: number;
}

const separator = '[ \\u00A0\\u202F\\u2009]';
// A number is not part of a word («1С», «P2», «152-ФЗ» keeps 152): no letter or digit right before it
// or right after it. Thousands are grouped by spaces of any width (or by commas, as English writes).
const figurePattern = new RegExp(
  [
    '(?<![\\p{L}\\p{N}_.,:])',
    '(?:',
    '(?<hours>\\d{1,2}):(?<minutes>[0-5]\\d)(?![\\d])',
    '|',
    `(?<integer>\\d{1,3}(?:${separator}\\d{3})+(?!\\d)|\\d{1,3}(?:,\\d{3})+(?![\\d,])|\\d+)`,
    '(?:[.,](?<fraction>\\d+))?',
    '(?<scale>\\s?(?:тыс\\.|тыс(?!\\p{L})|тысяч\\p{L}*|млн|миллион\\p{L}*|млрд|миллиард\\p{L}*|thousand|million|billion))?',
    '(?<percent>\\s?(?:%|процент\\p{L}*|percent|per cent))?',
    ')',
    '(?![\\p{L}\\p{N}])',
  ].join(''),
  'gu',
);

const dayPatterns: ReadonlyArray<readonly [number, RegExp]> = [
  [1, /^(?:понедельник\p{L}{0,3}|mondays?)$/u],
  [2, /^(?:вторник\p{L}{0,3}|tuesdays?)$/u],
  // Not «сред» and any ending: «среди», «средний».
  [3, /^(?:сред[аыуе]|средой|средам|средами|wednesdays?)$/u],
  [4, /^(?:четверг\p{L}{0,3}|thursdays?)$/u],
  [5, /^(?:пятниц\p{L}{0,3}|fridays?)$/u],
  [6, /^(?:суббот\p{L}{0,3}|saturdays?)$/u],
  [7, /^(?:воскресень\p{L}{0,3}|sundays?)$/u],
];

const estimateBefore =
  /(?:около|примерно|приблизительно|порядка|почти|где-то|~|≈|about|around|approximately|roughly|nearly)\s*$/iu;

/** «410 тысяч», «18 млн ₽»: the factor a word after the number stands for. */
function scaleOf(word: string | undefined): number {
  const scale = word?.trim().toLowerCase();
  if (scale === undefined) return 1;
  if (scale.startsWith('тыс') || scale === 'thousand') return 1e3;
  if (scale.startsWith('млн') || scale.startsWith('миллион') || scale === 'million') return 1e6;
  return 1e9;
}

/** Every figure of a text, in order. */
export function extractFigures(text: string): Figure[] {
  const figures: Figure[] = [];
  for (const match of text.matchAll(figurePattern)) {
    const groups = match.groups!;
    const index = match.index;
    const approximate = estimateBefore.test(text.slice(Math.max(0, index - 20), index));
    const written = match[0].trim();
    if (groups.hours !== undefined) {
      const hours = Number(groups.hours);
      if (hours > 24) continue;
      figures.push({ text: written, kind: 'time', value: hours * 60 + Number(groups.minutes), approximate, index });
      continue;
    }
    const integer = groups.integer!.replace(/[\s,\u00A0\u202F\u2009]/gu, '');
    const value = Number(groups.fraction === undefined ? integer : `${integer}.${groups.fraction}`) * scaleOf(groups.scale);
    figures.push({ text: written, kind: groups.percent === undefined ? 'number' : 'percent', value, approximate, index });
  }
  for (const match of text.matchAll(/\p{L}+/gu)) {
    const word = match[0].toLowerCase();
    const day = dayPatterns.find(([, pattern]) => pattern.test(word));
    if (day) figures.push({ text: match[0], kind: 'day', value: day[0], approximate: false, index: match.index });
  }
  return figures.sort((a, b) => a.index - b.index);
}

/** A rubric figure the trainee has no way to know. */
export interface FlaggedFigure {
  /** As the rubric writes it. */
  readonly figure: string;
  readonly criterion: string;
  readonly criterionTitle: string;
  /** `good`, or `anchors.50` and the like. */
  readonly field: string;
  /** The sentence of the rubric it stands in. */
  readonly sentence: string;
}

export interface ScenarioCheck {
  readonly key: string;
  readonly title: string;
  /** How many figures the rubric states. */
  readonly figures: number;
  readonly flagged: readonly FlaggedFigure[];
}

/** The texts of a scenario the trainee sees or hears: the card, the description, what the client may say. */
export function traineeVisibleTexts(scenario: Scenario): string[] {
  const { persona } = scenario;
  return [
    ...briefTexts(scenario.brief),
    // Shown with the difficulty choice, before the training starts.
    scenario.description,
    // The client says these when asked: its facts, wishes, needs and objections.
    persona.name,
    persona.role,
    persona.company,
    persona.situation,
    ...persona.goals,
    ...persona.hiddenNeeds,
    ...persona.objections,
    persona.openingLine,
  ];
}

function briefTexts(brief: ScenarioBrief): string[] {
  return [brief.who, brief.company, ...brief.known, ...(brief.goal === undefined ? [] : [brief.goal])];
}

/**
 * Flags every figure of the scenario's rubric (the `good` texts and the anchors) that is in neither
 * the brief, the persona's lines nor the knowledge base's text, and that the same criterion does not
 * compute from known figures. The voice delivery criterion is left out: its figures (words a minute)
 * are norms the bot measures, not facts about the client.
 */
export function checkScenario(scenario: Scenario, knowledgeBaseText: string): ScenarioCheck {
  const known = new FigureSet();
  for (const text of [...traineeVisibleTexts(scenario), knowledgeBaseText]) known.addAll(extractFigures(text));
  const briefFigures = briefTexts(scenario.brief).flatMap(extractFigures);

  let count = 0;
  const flagged: FlaggedFigure[] = [];
  for (const criterion of scenario.rubric) {
    const texts = criterionTexts(criterion).map((entry) => ({ ...entry, figures: extractFigures(entry.text) }));
    count += texts.reduce((sum, entry) => sum + entry.figures.length, 0);
    const unknown = unknownFigures(
      texts.flatMap((entry) => entry.figures),
      known,
      briefFigures,
    );
    for (const entry of texts) {
      for (const figure of entry.figures) {
        if (!unknown.has(figure)) continue;
        flagged.push({
          figure: figure.text,
          criterion: criterion.key,
          criterionTitle: criterion.title,
          field: entry.field,
          sentence: sentenceAt(entry.text, figure.index),
        });
      }
    }
  }
  return { key: scenario.key, title: scenario.title, figures: count, flagged };
}

function criterionTexts(criterion: RubricCriterion): Array<{ field: string; text: string }> {
  const texts = [{ field: 'good', text: criterion.good }];
  if (criterion.anchors) {
    for (const score of anchorScores) texts.push({ field: `anchors.${score}`, text: criterion.anchors[score] });
  }
  return texts;
}

/**
 * The criterion's figures that stay unknown. A figure the criterion computes — a sum or a product of
 * two known figures of the same criterion or of the brief («9 × 1 200 = 10 800», «12% из 1 800 —
 * около 216») — is known too, and may in turn be an operand. Operands come only from there, not from
 * the whole knowledge base: pairs of its hundreds of numbers would "explain" almost any figure.
 */
function unknownFigures(figures: readonly Figure[], known: FigureSet, briefFigures: readonly Figure[]): Set<Figure> {
  const unknown = new Set(figures.filter((figure) => !known.has(figure)));
  const operands = new FigureSet();
  operands.addAll(briefFigures);
  operands.addAll(figures.filter((figure) => !unknown.has(figure)));
  for (let changed = unknown.size > 0; changed;) {
    changed = false;
    const derived = operands.combinations();
    for (const figure of unknown) {
      if (!derived.has(figure)) continue;
      unknown.delete(figure);
      operands.add(figure);
      changed = true;
    }
  }
  return unknown;
}

/** Figures by kind and value; an estimate matches any value within 5%. */
class FigureSet {
  private readonly values = new Map<FigureKind, number[]>();

  add(figure: Pick<Figure, 'kind' | 'value'>): void {
    const list = this.values.get(figure.kind) ?? [];
    if (!list.some((value) => same(value, figure.value))) list.push(figure.value);
    this.values.set(figure.kind, list);
  }

  addAll(figures: readonly Figure[]): void {
    for (const figure of figures) this.add(figure);
  }

  has(figure: Figure): boolean {
    const list = this.values.get(figure.kind) ?? [];
    return list.some((value) => (figure.approximate ? close(value, figure.value) : same(value, figure.value)));
  }

  /** Sums and products of every pair: numbers with numbers, a number times a percentage, percentages added. */
  combinations(): FigureSet {
    const result = new FigureSet();
    const numbers = this.values.get('number') ?? [];
    const percents = this.values.get('percent') ?? [];
    for (let i = 0; i < numbers.length; i++) {
      for (let j = i; j < numbers.length; j++) {
        result.add({ kind: 'number', value: numbers[i]! + numbers[j]! });
        result.add({ kind: 'number', value: numbers[i]! * numbers[j]! });
      }
      for (const percent of percents) result.add({ kind: 'number', value: (numbers[i]! * percent) / 100 });
    }
    for (let i = 0; i < percents.length; i++) {
      for (let j = i; j < percents.length; j++) result.add({ kind: 'percent', value: percents[i]! + percents[j]! });
    }
    return result;
  }
}

function same(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 0.05 * Math.max(Math.abs(a), Math.abs(b));
}

/** The sentence of `text` that holds position `index`. */
function sentenceAt(text: string, index: number): string {
  const boundary = /[.!?…](?=\s+[«"(\p{Lu}\d])/gu;
  let start = 0;
  for (const match of text.matchAll(boundary)) {
    const end = match.index + 1;
    if (end > index) return text.slice(start, end).trim();
    start = end;
  }
  return text.slice(start).trim();
}

/** The knowledge base as one text, with the files read and those that could not be. */
export interface KnowledgeBaseText {
  readonly text: string;
  readonly files: readonly string[];
  readonly unreadable: ReadonlyArray<{ readonly file: string; readonly reason: string }>;
}

/** The folder of the knowledge base cannot be read. */
export class KnowledgeBaseFolderError extends Error {
  constructor(
    readonly dir: string,
    readonly code: string,
  ) {
    super(`папка базы знаний ${dir} не читается (${code})`);
    this.name = 'KnowledgeBaseFolderError';
  }
}

/**
 * The text of every document under the folder (the formats the knowledge base reads; hidden files
 * left out, as the indexer does), parsed as the indexer parses it.
 */
export async function readKnowledgeBaseText(
  dir: string,
  limits: DocumentLimits = defaultDocumentLimits,
): Promise<KnowledgeBaseText> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    throw new KnowledgeBaseFolderError(dir, (error as NodeJS.ErrnoException).code ?? 'ошибка');
  }
  const files = entries
    .filter((entry) => entry.isFile() && formatOf(entry.name) !== undefined)
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .filter((file) => !file.split('/').some((part) => part.startsWith('.') || part.startsWith('~$')))
    .sort();
  const texts: string[] = [];
  const read: string[] = [];
  const unreadable: Array<{ file: string; reason: string }> = [];
  for (const file of files) {
    const absolute = path.join(dir, file);
    const { size } = await stat(absolute);
    if (size > limits.maxFileBytes) {
      unreadable.push({ file, reason: tooLargeFileReason(size, limits) });
      continue;
    }
    try {
      texts.push((await parseDocument(file, await readFile(absolute), limits)).text);
      read.push(file);
    } catch (error) {
      if (!(error instanceof DocumentParseError)) throw error;
      unreadable.push({ file, reason: error.reason });
    }
  }
  return { text: texts.join('\n\n'), files: read, unreadable };
}
