import { describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/client.js';
import { createSheetsExport } from '../../../src/services/sheets/sheets-export.js';
import { silentLogger } from '../../support/database.js';

const noDatabase = {} as Database; // creating the export must not touch it
const title = (key: string) => key;
const alert = () => undefined;

describe('createSheetsExport', () => {
  it('is undefined when the export is off, so the composition root can say so once', () => {
    const off = createSheetsExport(
      { sheets: { enabled: false, reason: 'GOOGLE_SHEETS_ID is not set' }, teamTimeZone: 'Europe/Moscow' },
      noDatabase,
      silentLogger,
      title,
      alert,
    );
    expect(off).toBeUndefined();
  });

  it('builds a worker without reading the key or calling Google, and describes where it writes', () => {
    const on = createSheetsExport(
      {
        sheets: {
          enabled: true,
          spreadsheetId: '1AbCdEf',
          serviceAccountFile: '/nonexistent/key.json',
          apiRoot: undefined,
          resultsTab: 'Результаты',
          traineesTab: 'Сотрудники',
        },
        teamTimeZone: 'Europe/Moscow',
      },
      noDatabase,
      silentLogger,
      title,
      alert,
    );
    expect(on?.describe()).toBe('Google Sheets 1AbCdEf (tabs «Результаты», «Сотрудники»; key /nonexistent/key.json)');
    expect(on?.worker.isFailing).toBe(false);
  });
});
