import { describe, expect, it } from 'vitest';
import type { SessionId, TelegramId } from '../../../src/db/ids.js';
import type { SessionResult } from '../../../src/db/queries/sheet-exports.js';
import {
  columnLetter,
  formatTeamDateTime,
  RESULTS_LAYOUT,
  resultRow,
  sessionIdOf,
  startOfDayInZone,
  toSheetsDateTime,
} from '../../../src/services/sheets/sheet-layout.js';

/** What a Sheets cell with the pattern dd.mm.yyyy hh:mm shows for a serial. */
function shown(serial: number): string {
  const wall = new Date(Math.round((serial - 25_569) * 86_400) * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(wall.getUTCDate())}.${two(wall.getUTCMonth() + 1)}.${wall.getUTCFullYear()} ${two(wall.getUTCHours())}:${two(wall.getUTCMinutes())}`;
}

const result: SessionResult = {
  sessionId: 42 as SessionId,
  telegramId: 5_123_456_789 as TelegramId,
  username: null,
  firstName: 'Ольга',
  lastName: null,
  scenarioKey: 'price-objection',
  difficulty: 'hard',
  startedAt: new Date('2026-11-24T10:50:10Z'),
  finishedAt: new Date('2026-11-24T11:05:00Z'),
  messageCount: 14,
  totalScore: 0,
  criteria: [],
  strengths: [],
  mistakes: ['x'.repeat(60_000)],
  recommendations: ['+7 звонить утром'],
  tokens: 12_345,
  costUsd: 0.004_567_8,
};

describe('the results row', () => {
  it('shows the finish time in the team time zone as a real date', () => {
    const serial = toSheetsDateTime(new Date('2026-11-24T11:05:00Z'), 'Europe/Moscow');
    expect(shown(serial)).toBe('24.11.2026 14:05');
    expect(shown(toSheetsDateTime(new Date('2026-11-24T11:05:00Z'), 'Asia/Yekaterinburg'))).toBe('24.11.2026 16:05');
    expect(formatTeamDateTime(new Date('2026-11-24T11:05:00Z'), 'Europe/Moscow')).toBe('24.11.2026 14:05');
  });

  it('has one cell per header column, numbers as numbers, text kept as text', () => {
    const row = resultRow(result, { scenarioTitle: () => 'Возражение «дорого»', timeZone: 'Europe/Moscow' });
    expect(row).toHaveLength(RESULTS_LAYOUT.header.length);
    expect(row[0]).toBe(42);
    expect(row[1]).toBe('');
    expect(row[3]).toBe('Возражение «дорого»');
    expect(row[4]).toBe(15); // 14 min 50 s
    expect(row[5]).toBe(14);
    expect(row[6]).toBe(0);
    expect(String(row[8]).length).toBeLessThan(50_000); // Google refuses longer cells
    expect(row[9]).toBe('• +7 звонить утром');
    expect(row[10]).toBe('Ольга');
    expect(row[11]).toBe(5_123_456_789);
    expect(row[12]).toBe('Сложный');
    expect(row[14]).toBe(12_345);
    expect(row[15]).toBe(0.0046); // dollars to four places
  });

  it('reads session ids back from the first column, whatever a person typed there', () => {
    expect(sessionIdOf(17)).toBe(17);
    expect(sessionIdOf('17')).toBe(17);
    expect(sessionIdOf('итого')).toBeUndefined();
    expect(sessionIdOf('')).toBeUndefined();
    expect(sessionIdOf(undefined)).toBeUndefined();
  });
});

describe('calendar days in the team time zone', () => {
  it('starts a day at local midnight, also on a daylight-saving day', () => {
    expect(startOfDayInZone('2026-11-24', 'Europe/Moscow').toISOString()).toBe('2026-11-23T21:00:00.000Z');
    expect(startOfDayInZone('2026-03-29', 'Europe/Berlin').toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(startOfDayInZone('2026-03-30', 'Europe/Berlin').toISOString()).toBe('2026-03-29T22:00:00.000Z');
    expect(() => startOfDayInZone('2026-02-30', 'Europe/Moscow')).toThrow(RangeError);
  });

  it('names columns like Sheets does', () => {
    expect([columnLetter(0), columnLetter(13), columnLetter(25), columnLetter(26)]).toEqual(['A', 'N', 'Z', 'AA']);
  });
});
