import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteTab, readServiceAccountKey, SheetsClient, SheetsError } from '../../../src/services/sheets/sheets-client.js';
import { SheetsFake, SPREADSHEETS_SCOPE, writeServiceAccountKey, type TestServiceAccount } from '../../support/sheets-fake.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

let dir: string;
let account: TestServiceAccount;
let fake: SheetsFake;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sheets-client-'));
  account = await writeServiceAccountKey(dir);
  fake = await SheetsFake.start({ account });
});
afterAll(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

async function client(keyFile = account.file, timeoutMs = 2_000): Promise<SheetsClient> {
  return new SheetsClient(await readServiceAccountKey(keyFile), {
    spreadsheetId: fake.spreadsheetId,
    apiRoot: fake.url,
    timeoutMs,
  });
}

async function failure(promise: Promise<unknown>): Promise<SheetsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SheetsError);
  return error as SheetsError;
}

describe('the service-account key file', () => {
  it('names the file and the problem when the key cannot be used', async () => {
    const missing = path.join(dir, 'missing.json');
    const notJson = path.join(dir, 'not-json.json');
    const noKey = path.join(dir, 'no-key.json');
    const badPem = path.join(dir, 'bad-pem.json');
    await writeFile(notJson, 'BEGIN');
    await writeFile(noKey, JSON.stringify({ type: 'service_account', client_email: 'a@b.iam.gserviceaccount.com' }));
    await writeFile(
      badPem,
      JSON.stringify({
        client_email: 'a@b.iam.gserviceaccount.com',
        private_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
      }),
    );

    for (const [file, problem] of [
      [missing, 'the file does not exist'],
      [notJson, 'not JSON'],
      [noKey, 'no "private_key"'],
      [badPem, 'not a PEM private key'],
    ] as const) {
      const error = await failure(readServiceAccountKey(file));
      expect(error.kind).toBe('credentials');
      expect(error.message).toContain(file);
      expect(error.message).toContain(problem);
      expect(error.message).not.toContain('AAAA');
    }
  });
});

describe('the Sheets client', () => {
  it('signs every request with a self-signed JWT carrying the spreadsheets scope, without a token exchange', async () => {
    const sheets = await client();
    await sheets.addTab('Проверка');
    await sheets.updateValues(`${quoteTab('Проверка')}!A1`, [['a', 1]]);
    await sheets.appendValues(`${quoteTab('Проверка')}!A1`, [['b', 2.5]]);
    expect(await sheets.getValues(`${quoteTab('Проверка')}!A:B`)).toEqual([
      ['a', 1],
      ['b', 2.5],
    ]);
    expect(fake.lastClaims).toMatchObject({ iss: account.clientEmail, sub: account.clientEmail, scope: SPREADSHEETS_SCOPE });
    expect(fake.attempts('token')).toBe(0);
    expect(fake.authFailures).toBe(0);
  });

  it('is refused by the stand-in when the JWT is signed with another key (the stand-in really verifies)', async () => {
    const impostor = await writeServiceAccountKey(dir, { fileName: 'impostor.json', clientEmail: account.clientEmail });
    const json = JSON.parse(await readFile(impostor.file, 'utf8')) as Record<string, unknown>;
    await writeFile(impostor.file, JSON.stringify({ ...json, private_key_id: account.keyId }));
    const error = await failure((await client(impostor.file)).listTabs());
    expect(error).toMatchObject({ kind: 'credentials', status: 401 });
  });

  it('classifies what Google answers', async () => {
    const sheets = await client(account.file, 300);
    fake.down(503);
    expect(await failure(sheets.listTabs())).toMatchObject({ kind: 'unavailable', status: 503 });
    fake.down(429);
    expect(await failure(sheets.listTabs())).toMatchObject({ kind: 'unavailable', status: 429 });
    fake.up();
    fake.denyAccess();
    expect(await failure(sheets.listTabs())).toMatchObject({ kind: 'no-access', status: 403 });
    fake.grantAccess();
    fake.disableApi();
    expect(await failure(sheets.listTabs())).toMatchObject({ kind: 'api-disabled', status: 403 });
    fake.enableApi();
    const unknownTab = await failure(sheets.getValues(`${quoteTab('Нет такого')}!A:A`));
    expect(unknownTab).toMatchObject({ kind: 'rejected', status: 400, isUnknownRange: true });
    const other = new SheetsClient(await readServiceAccountKey(account.file), { spreadsheetId: 'other', apiRoot: fake.url });
    expect(await failure(other.listTabs())).toMatchObject({ kind: 'spreadsheet-missing', status: 404 });

    await sheets.addTab('Таймаут');
    fake.timeoutAfterApplyingNext();
    const timeout = await failure(sheets.appendValues(`${quoteTab('Таймаут')}!A1`, [['x']]));
    expect(timeout).toMatchObject({ kind: 'unavailable' });
    expect(timeout.message).toContain('no answer within 300 ms');
    expect(fake.rows('Таймаут')).toEqual([['x']]); // applied all the same
  });
});
