import type { sheets_v4 } from '@googleapis/sheets';
import type { SessionResult, TraineeSummary } from '../../db/queries/sheet-exports.js';
import type { CellValue } from './sheets-client.js';

/** A column format applied to every data row of a tab when the export first uses the tab. */
export interface ColumnFormat {
  readonly column: number;
  readonly type: 'NUMBER' | 'DATE_TIME';
  readonly pattern: string;
}

/** The header and column formats of a tab the export owns. */
export interface TabLayout {
  readonly header: readonly string[];
  readonly formats: readonly ColumnFormat[];
}

/** Shown as 24.11.2026 14:05 whatever the spreadsheet's locale. */
const DATE_TIME_PATTERN = 'dd.mm.yyyy hh:mm';
/** Whole numbers in full: ids must never turn into 5.00E+09. */
const INTEGER_PATTERN = '0';

/**
 * The results tab. The first ten columns are the original project's; rubric criteria share one column
 * of "title: score" lines because rubrics differ between scenarios: a column per criterion would
 * make the header grow (and rows shift) whenever a scenario is added, and leave most cells empty.
 * One stable layout keeps appends and the session-id check simple; managers filter criteria with
 * "text contains".
 */
export const RESULTS_LAYOUT: TabLayout = {
  header: [
    'ID сессии',
    'Пользователь',
    'Дата',
    'Сценарий',
    'Длительность, мин',
    'Сообщений',
    'Балл',
    'Сильные стороны',
    'Ошибки',
    'Рекомендации',
    'ФИО',
    'Telegram ID',
    'Сложность',
    'Критерии',
    // Added later: a tab made before them gets them appended on the right (ensureTab).
    'Токены',
    'Стоимость, $',
  ],
  formats: [
    { column: 0, type: 'NUMBER', pattern: INTEGER_PATTERN },
    { column: 2, type: 'DATE_TIME', pattern: DATE_TIME_PATTERN },
    { column: 11, type: 'NUMBER', pattern: INTEGER_PATTERN },
    { column: 14, type: 'NUMBER', pattern: INTEGER_PATTERN },
    { column: 15, type: 'NUMBER', pattern: '0.0000' },
  ],
};

/** The trainees tab: one row per person, rewritten after every export. */
export const TRAINEES_LAYOUT: TabLayout = {
  header: [
    'ФИО',
    'Пользователь',
    'Telegram ID',
    'Сессий завершено',
    'Средний балл',
    'Лучший балл',
    'Последний балл',
    'Последняя активность',
  ],
  formats: [
    { column: 2, type: 'NUMBER', pattern: INTEGER_PATTERN },
    { column: 4, type: 'NUMBER', pattern: '0.0' },
    { column: 7, type: 'DATE_TIME', pattern: DATE_TIME_PATTERN },
  ],
};

/** The column of the results tab that identifies a row: the session id. */
export const SESSION_ID_COLUMN = 'A';

/** Google refuses cells longer than 50,000 characters; a refused row would block the queue. */
const MAX_CELL_LENGTH = 49_000;

const difficultyLabels: Readonly<Record<string, string>> = {
  easy: 'Лёгкий',
  medium: 'Средний',
  hard: 'Сложный',
};

/** A difficulty as the managers' sheet names it (the sheet is in Russian, whoever reads the bot). */
export function difficultyLabel(level: string): string {
  return difficultyLabels[level] ?? level;
}

/** What rows need from outside the database. */
export interface RowContext {
  /** The human title of a scenario key (scenarios are loaded elsewhere). */
  readonly scenarioTitle: (key: string) => string;
  /** IANA zone in which managers read dates. */
  readonly timeZone: string;
}

/** One row of the results tab, in RESULTS_LAYOUT's column order; numbers stay numbers. */
export function resultRow(result: SessionResult, context: RowContext): CellValue[] {
  return [
    result.sessionId,
    result.username ? `@${result.username}` : '',
    toSheetsDateTime(result.finishedAt, context.timeZone),
    cellText(context.scenarioTitle(result.scenarioKey)),
    durationMinutes(result.startedAt, result.finishedAt),
    result.messageCount,
    result.totalScore,
    bulletList(result.strengths),
    bulletList(result.mistakes),
    bulletList(result.recommendations),
    fullName(result),
    result.telegramId,
    difficultyLabel(result.difficulty),
    cellText(result.criteria.map((criterion) => `${criterion.title}: ${criterion.score}`).join('\n')),
    result.tokens,
    Math.round(result.costUsd * 10_000) / 10_000,
  ];
}

/** One row of the trainees tab, in TRAINEES_LAYOUT's column order; empty cells where there is no score. */
export function traineeRow(trainee: TraineeSummary, timeZone: string): CellValue[] {
  return [
    fullName(trainee) || (trainee.username ? `@${trainee.username}` : `id ${trainee.telegramId}`),
    trainee.username ? `@${trainee.username}` : '',
    trainee.telegramId,
    trainee.sessionsFinished,
    trainee.averageScore ?? '',
    trainee.bestScore ?? '',
    trainee.lastScore ?? '',
    trainee.lastActivity ? toSheetsDateTime(trainee.lastActivity, timeZone) : '',
  ];
}

/** Trainees in the order managers look for them: by name, Russian alphabet. */
export function sortTrainees(trainees: readonly TraineeSummary[]): TraineeSummary[] {
  const name = (t: TraineeSummary) => fullName(t) || t.username || String(t.telegramId);
  return [...trainees].sort((a, b) => name(a).localeCompare(name(b), 'ru'));
}

/** The session id a results-tab cell holds, if it holds one. */
export function sessionIdOf(cell: CellValue | undefined): number | undefined {
  const value = typeof cell === 'number' ? cell : Number(String(cell ?? '').trim());
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * A Sheets date-time serial (days since 1899-12-30) of the wall-clock time in `timeZone`:
 * with a date format the cell shows that local time, and sorts and filters as a date.
 */
export function toSheetsDateTime(date: Date, timeZone: string): number {
  const wallClockMs = wallClock(date, timeZone);
  const days = wallClockMs / 86_400_000 + 25_569;
  return Math.round(days * 86_400) / 86_400; // whole seconds
}

/** `24.11.2026 14:05` in the team's zone: for texts people read outside the sheet. */
export function formatTeamDateTime(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('ru-RU', {
    timeZone,
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  })
    .format(date)
    .replace(',', '');
}

/** The instant of 00:00 on a calendar day (YYYY-MM-DD) in `timeZone`. */
export function startOfDayInZone(day: string, timeZone: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) throw new RangeError(`not a date (YYYY-MM-DD): ${day}`);
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const asUtc = Date.UTC(year, month - 1, date);
  const check = new Date(asUtc);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== date) {
    throw new RangeError(`no such date: ${day}`);
  }
  // The zone's offset at that moment; computed twice so a DST change near midnight lands right.
  let instant = asUtc - (wallClock(new Date(asUtc), timeZone) - asUtc);
  instant = asUtc - (wallClock(new Date(instant), timeZone) - instant);
  return new Date(instant);
}

/** The requests that give a tab its look: header bold and frozen, column number formats. */
export function tabFormattingRequests(sheetId: number, layout: TabLayout): sheets_v4.Schema$Request[] {
  return [
    {
      updateSheetProperties: {
        properties: { sheetId, gridProperties: { frozenRowCount: 1 } },
        fields: 'gridProperties.frozenRowCount',
      },
    },
    {
      repeatCell: {
        range: { sheetId, startRowIndex: 0, endRowIndex: 1 },
        cell: { userEnteredFormat: { textFormat: { bold: true } } },
        fields: 'userEnteredFormat.textFormat.bold',
      },
    },
    ...columnFormatRequests(sheetId, layout),
  ];
}

/** The number formats of the data columns (dates as dates, ids in full); harmless to apply again. */
export function columnFormatRequests(sheetId: number, layout: TabLayout): sheets_v4.Schema$Request[] {
  return layout.formats.map((format) => ({
    repeatCell: {
      range: { sheetId, startRowIndex: 1, startColumnIndex: format.column, endColumnIndex: format.column + 1 },
      cell: { userEnteredFormat: { numberFormat: { type: format.type, pattern: format.pattern } } },
      fields: 'userEnteredFormat.numberFormat',
    },
  }));
}

/** The column letter of a zero-based index (0 → A, 26 → AA). */
export function columnLetter(index: number): string {
  let n = index + 1;
  let letters = '';
  while (n > 0) {
    const rest = (n - 1) % 26;
    letters = String.fromCharCode(65 + rest) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

function wallClock(date: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(date);
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
}

function durationMinutes(startedAt: Date, finishedAt: Date): number {
  return Math.max(0, Math.round((finishedAt.getTime() - startedAt.getTime()) / 60_000));
}

function fullName(person: { readonly firstName: string | null; readonly lastName: string | null }): string {
  return [person.firstName, person.lastName].filter(Boolean).join(' ').trim();
}

function bulletList(items: readonly string[]): string {
  return cellText(items.map((item) => `• ${item}`).join('\n'));
}

function cellText(text: string): string {
  return text.length > MAX_CELL_LENGTH ? `${text.slice(0, MAX_CELL_LENGTH)}…` : text;
}
