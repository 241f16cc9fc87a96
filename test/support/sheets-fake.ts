/**
 * A loopback Google Sheets v4 stand-in for tests, speaking the REST protocol googleapis uses
 * (https://developers.google.com/sheets/api/reference/rest): spreadsheets.get, spreadsheets.batchUpdate
 * (addSheet, repeatCell, updateSheetProperties, deleteDimension of rows), values.get, values.append,
 * values.update, values.clear.
 * Every request must carry `Authorization: Bearer <JWT>` signed RS256 with the test service account's
 * key, as Google checks a self-signed JWT: signature, kid, iss = sub = client_email, the spreadsheets
 * scope (or, without a scope, the audience https://sheets.googleapis.com/), iat/exp. Errors have
 * Google's JSON shape ({ error: { code, message, status, details } }).
 */
import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export const SPREADSHEETS_SCOPE = 'https://www.googleapis.com/auth/spreadsheets';
const SHEETS_AUDIENCE = 'https://sheets.googleapis.com/';

export type Cell = string | number | boolean;
type Json = Record<string, unknown>;

/** A service account made for one test: its key file on disk and the public half to verify with. */
export interface TestServiceAccount {
  readonly file: string;
  readonly clientEmail: string;
  readonly keyId: string;
  readonly publicKey: KeyObject;
}

/** Generates an RSA key pair and writes a service-account JSON key file like Google Cloud Console's. */
export async function writeServiceAccountKey(
  dir: string,
  options: { readonly clientEmail?: string; readonly tokenUri?: string; readonly fileName?: string } = {},
): Promise<TestServiceAccount> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = options.clientEmail ?? 'sales-bot@test-project.iam.gserviceaccount.com';
  const keyId = `kid-${Math.random().toString(16).slice(2)}`;
  const file = path.join(dir, options.fileName ?? 'service-account.json');
  const json = {
    type: 'service_account',
    project_id: 'test-project',
    private_key_id: keyId,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: clientEmail,
    client_id: '100000000000000000001',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: options.tokenUri ?? 'https://oauth2.googleapis.com/token',
  };
  await writeFile(file, JSON.stringify(json, null, 2));
  return { file, clientEmail, keyId, publicKey: createPublicKey(publicKey.export({ type: 'spki', format: 'pem' })) };
}

interface Tab {
  readonly sheetId: number;
  title: string;
  rows: Cell[][];
  /** batchUpdate requests other than addSheet that touched this tab (deleteDimension too), for assertions. */
  readonly formatting: Json[];
}

interface Range {
  readonly tab: string;
  readonly startRow: number; // 0-based, inclusive
  readonly endRow: number | undefined; // 0-based, exclusive; undefined: to the end
  readonly startCol: number;
  readonly endCol: number | undefined;
}

/** A served request, for assertions. */
export interface FakeRequest {
  operation: string;
  readonly method: string;
  readonly path: string;
  status: number;
}

export type Operation =
  'spreadsheets.get' | 'spreadsheets.batchUpdate' | 'values.get' | 'values.append' | 'values.update' | 'values.clear' | 'token';

class GoogleFailure extends Error {
  constructor(
    readonly code: number,
    readonly status: string,
    message: string,
    readonly details: readonly Json[] = [],
  ) {
    super(message);
  }
}

const invalidCredentials = (why: string): GoogleFailure =>
  new GoogleFailure(
    401,
    'UNAUTHENTICATED',
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'ACCESS_TOKEN_TYPE_UNSUPPORTED',
        domain: 'googleapis.com',
        metadata: { why },
      },
    ],
  );
const badRequest = (message: string): GoogleFailure => new GoogleFailure(400, 'INVALID_ARGUMENT', message);

/** The Sheets v4 stand-in. Start with `SheetsFake.start`, point GOOGLE_SHEETS_API_ROOT at `url`. */
export class SheetsFake {
  readonly spreadsheetId: string;
  readonly requests: FakeRequest[] = [];
  /** Claims of the last JWT that passed verification. */
  lastClaims: Json | undefined;
  /** Requests refused for their credentials. */
  authFailures = 0;

  private readonly tabsByTitle = new Map<string, Tab>();
  private nextSheetId = 1_000;
  private outage: number | undefined;
  private keyRevoked = false;
  private accessDenied = false;
  private apiDisabled = false;
  private timeoutNextAppend: { readonly tab: string | undefined } | undefined;
  private readonly held = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly account: Pick<TestServiceAccount, 'clientEmail' | 'keyId' | 'publicKey'>,
    spreadsheetId: string,
  ) {
    this.spreadsheetId = spreadsheetId;
    this.addTab('Лист1');
  }

  /** Starts the stand-in on a free loopback port. */
  static async start(options: {
    readonly account: Pick<TestServiceAccount, 'clientEmail' | 'keyId' | 'publicKey'>;
    readonly spreadsheetId?: string;
  }): Promise<SheetsFake> {
    const holder: { fake?: SheetsFake } = {};
    const server = createServer((req, res) => {
      void holder.fake!.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.fake = new SheetsFake(
      server,
      `http://127.0.0.1:${port}`,
      options.account,
      options.spreadsheetId ?? 'test-spreadsheet-id',
    );
    return holder.fake;
  }

  /** Google answers every request with this status (503 UNAVAILABLE by default) until `up()`. */
  down(status = 503): void {
    this.outage = status;
  }

  up(): void {
    this.outage = undefined;
  }

  /** The key is deleted in Cloud Console: every request signed with it gets 401 UNAUTHENTICATED. */
  revokeKey(): void {
    this.keyRevoked = true;
  }

  restoreKey(): void {
    this.keyRevoked = false;
  }

  /** The spreadsheet is no longer shared with the service account: 403 PERMISSION_DENIED. */
  denyAccess(): void {
    this.accessDenied = true;
  }

  grantAccess(): void {
    this.accessDenied = false;
  }

  /** The Sheets API is switched off in the service account's Cloud project: 403 SERVICE_DISABLED. */
  disableApi(): void {
    this.apiDisabled = true;
  }

  enableApi(): void {
    this.apiDisabled = false;
  }

  /** The next values.append (to `tab`, when given) is applied, but its answer never comes: the client times out. */
  timeoutAfterApplyingNext(tab?: string): void {
    this.timeoutNextAppend = { tab };
  }

  /** Titles of the tabs, in order. */
  tabs(): string[] {
    return [...this.tabsByTitle.keys()];
  }

  /** Every row of a tab (header included), trailing empty rows dropped; [] for a missing tab. */
  rows(tab: string): Cell[][] {
    const found = this.tabsByTitle.get(tab);
    if (!found) return [];
    return trimRows(found.rows).map((row) => [...row]);
  }

  /** Formatting requests applied to a tab (repeatCell, updateSheetProperties). */
  formatting(tab: string): readonly Json[] {
    return this.tabsByTitle.get(tab)?.formatting ?? [];
  }

  /** A manager deletes rows by hand: matching rows are removed and the rows below move up. */
  deleteRows(tab: string, predicate: (row: readonly Cell[], index: number) => boolean): number {
    const found = this.tabsByTitle.get(tab);
    if (!found) return 0;
    const before = found.rows.length;
    found.rows = found.rows.filter((row, index) => !predicate(row, index));
    return before - found.rows.length;
  }

  /** Rows typed into a tab by hand (or written by an earlier client): appended below the last row. */
  seedRows(tab: string, rows: Cell[][]): void {
    const found = this.tabsByTitle.get(tab);
    if (!found) throw new Error(`no tab ${tab}`);
    found.rows = [...trimRows(found.rows), ...rows.map((row) => [...row])];
  }

  /** A manager deletes a whole tab. */
  removeTab(title: string): void {
    this.tabsByTitle.delete(title);
  }

  /** A tab made by hand (for tests of a spreadsheet prepared by a manager). */
  addTab(title: string, rows: Cell[][] = []): void {
    this.tabsByTitle.set(title, { sheetId: this.nextSheetId++, title, rows, formatting: [] });
  }

  /** How many requests of an operation were served successfully. */
  count(operation: Operation): number {
    return this.requests.filter((r) => r.operation === operation && r.status === 200).length;
  }

  /** How many requests of an operation arrived, whatever the answer. */
  attempts(operation: Operation): number {
    return this.requests.filter((r) => r.operation === operation).length;
  }

  async close(): Promise<void> {
    for (const response of this.held) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const record: FakeRequest = { operation: 'unknown', method: req.method ?? 'GET', path: url.pathname, status: 0 };
    this.requests.push(record);
    try {
      const body = await readBody(req);
      const route = this.route(req.method ?? 'GET', url.pathname);
      record.operation = route.operation;
      if (route.operation === 'token') {
        // The self-signed JWT flow never exchanges a token; answering like an unreachable endpoint shows it.
        throw new GoogleFailure(400, 'INVALID_ARGUMENT', 'the test token endpoint is not to be used');
      }
      if (this.outage !== undefined) throw new GoogleFailure(this.outage, 'UNAVAILABLE', 'The service is currently unavailable.');
      this.authenticate(req.headers.authorization);
      if (this.apiDisabled) {
        throw new GoogleFailure(
          403,
          'PERMISSION_DENIED',
          'Google Sheets API has not been used in project 100000000001 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/sheets.googleapis.com/overview?project=100000000001 then retry.',
          [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SERVICE_DISABLED', domain: 'googleapis.com' }],
        );
      }
      if (route.spreadsheetId !== this.spreadsheetId) {
        throw new GoogleFailure(404, 'NOT_FOUND', 'Requested entity was not found.');
      }
      if (this.accessDenied) throw new GoogleFailure(403, 'PERMISSION_DENIED', 'The caller does not have permission');
      const result = this.execute(route, url.searchParams, body);
      if (route.operation === 'values.append' && this.holdsAnswerTo(route.range!)) {
        this.timeoutNextAppend = undefined;
        record.status = 200;
        this.held.add(res); // applied; the answer never leaves
        res.on('close', () => this.held.delete(res));
        return;
      }
      record.status = 200;
      send(res, 200, result);
    } catch (error) {
      const failure =
        error instanceof GoogleFailure ? error : new GoogleFailure(500, 'INTERNAL', `fake failed: ${(error as Error).message}`);
      record.status = failure.code;
      send(res, failure.code, {
        error: {
          code: failure.code,
          message: failure.message,
          status: failure.status,
          ...(failure.details.length ? { details: failure.details } : {}),
        },
      });
    }
  }

  private holdsAnswerTo(range: string): boolean {
    if (!this.timeoutNextAppend) return false;
    const tab = this.timeoutNextAppend.tab;
    return tab === undefined || this.parseRange(range).tab === tab;
  }

  private route(method: string, pathname: string): { operation: Operation; spreadsheetId: string; range?: string } {
    if (pathname === '/token') return { operation: 'token', spreadsheetId: '' };
    const values = /^\/v4\/spreadsheets\/([^/]+)\/values\/([^/]+?)(:append|:clear)?$/.exec(pathname);
    if (values) {
      const spreadsheetId = decodeURIComponent(values[1]!);
      const range = decodeURIComponent(values[2]!);
      if (values[3] === ':append' && method === 'POST') return { operation: 'values.append', spreadsheetId, range };
      if (values[3] === ':clear' && method === 'POST') return { operation: 'values.clear', spreadsheetId, range };
      if (!values[3] && method === 'GET') return { operation: 'values.get', spreadsheetId, range };
      if (!values[3] && method === 'PUT') return { operation: 'values.update', spreadsheetId, range };
    }
    const batch = /^\/v4\/spreadsheets\/([^/]+):batchUpdate$/.exec(pathname);
    if (batch && method === 'POST')
      return { operation: 'spreadsheets.batchUpdate', spreadsheetId: decodeURIComponent(batch[1]!) };
    const get = /^\/v4\/spreadsheets\/([^/:]+)$/.exec(pathname);
    if (get && method === 'GET') return { operation: 'spreadsheets.get', spreadsheetId: decodeURIComponent(get[1]!) };
    throw new GoogleFailure(404, 'NOT_FOUND', `The fake does not serve ${method} ${pathname}`);
  }

  /** Verifies the bearer JWT the way Google verifies a self-signed service-account JWT. */
  private authenticate(header: string | undefined): void {
    const fail = (why: string): never => {
      this.authFailures += 1;
      throw invalidCredentials(why);
    };
    const token = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(header ?? '');
    if (!token) return fail('no bearer JWT');
    const [, encodedHeader, encodedPayload, signature] = token as unknown as [string, string, string, string];
    const jwtHeader = parseJsonPart(encodedHeader);
    const claims = parseJsonPart(encodedPayload);
    if (!jwtHeader || !claims) return fail('malformed JWT');
    if (jwtHeader.alg !== 'RS256') return fail(`alg ${String(jwtHeader.alg)}`);
    if (jwtHeader.kid !== this.account.keyId || this.keyRevoked) return fail('unknown or revoked key id');
    const signed = verify(
      'RSA-SHA256',
      Buffer.from(`${encodedHeader}.${encodedPayload}`),
      this.account.publicKey,
      Buffer.from(signature, 'base64url'),
    );
    if (!signed) return fail('bad signature');
    if (claims.iss !== this.account.clientEmail || claims.sub !== this.account.clientEmail) return fail('iss/sub');
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number') return fail('no iat/exp');
    if (claims.iat > now + 60 || claims.exp <= now || claims.exp - claims.iat > 3600) return fail('iat/exp');
    if (typeof claims.scope === 'string') {
      if (!claims.scope.split(' ').includes(SPREADSHEETS_SCOPE)) return fail('scope');
    } else if (claims.aud !== SHEETS_AUDIENCE) {
      return fail('neither scope nor audience');
    }
    this.lastClaims = claims;
  }

  private execute(route: { operation: Operation; range?: string }, query: URLSearchParams, body: unknown): Json {
    switch (route.operation) {
      case 'spreadsheets.get':
        return {
          spreadsheetId: this.spreadsheetId,
          properties: { title: 'Результаты обучения' },
          sheets: [...this.tabsByTitle.values()].map((tab, index) => ({
            properties: {
              sheetId: tab.sheetId,
              title: tab.title,
              index,
              sheetType: 'GRID',
              gridProperties: { rowCount: 1000, columnCount: 26 },
            },
          })),
        };
      case 'spreadsheets.batchUpdate':
        return this.batchUpdate(body);
      case 'values.get':
        return this.getValues(route.range!, query.get('valueRenderOption') ?? 'FORMATTED_VALUE');
      case 'values.append':
        return this.append(route.range!, query, body);
      case 'values.update':
        return this.update(route.range!, query, body);
      case 'values.clear':
        return this.clear(route.range!);
      case 'token':
        throw badRequest('token');
      default: {
        const unreachable: never = route.operation;
        throw badRequest(String(unreachable));
      }
    }
  }

  private batchUpdate(body: unknown): Json {
    const requests = (body as { requests?: Json[] } | undefined)?.requests;
    if (!Array.isArray(requests) || requests.length === 0) throw badRequest('Must specify at least one request.');
    // Validate first: a batchUpdate is applied entirely or not at all.
    const replies: Json[] = [];
    const pending: (() => void)[] = [];
    requests.forEach((request, index) => {
      const kind = Object.keys(request)[0];
      const spec = request[kind ?? ''] as Json | undefined;
      if (kind === 'addSheet') {
        const rawTitle = (spec?.properties as Json | undefined)?.title;
        const title = typeof rawTitle === 'string' ? rawTitle : '';
        if (!title) throw badRequest(`Invalid requests[${index}].addSheet: title is required`);
        if (this.tabsByTitle.has(title)) {
          throw badRequest(
            `Invalid requests[${index}].addSheet: A sheet with the name "${title}" already exists. Please enter another name.`,
          );
        }
        const sheetId = this.nextSheetId;
        pending.push(() => this.addTab(title));
        replies.push({
          addSheet: {
            properties: {
              sheetId,
              title,
              index: this.tabsByTitle.size,
              sheetType: 'GRID',
              gridProperties: { rowCount: 1000, columnCount: 26 },
            },
          },
        });
      } else if (kind === 'repeatCell' || kind === 'updateSheetProperties') {
        const sheetId =
          kind === 'repeatCell' ? (spec?.range as Json | undefined)?.sheetId : (spec?.properties as Json | undefined)?.sheetId;
        const tab = [...this.tabsByTitle.values()].find((t) => t.sheetId === sheetId);
        if (!tab) throw badRequest(`Invalid requests[${index}].${kind}: No grid with id: ${String(sheetId)}`);
        pending.push(() => tab.formatting.push({ [kind]: spec }));
        replies.push({});
      } else if (kind === 'deleteDimension') {
        const range = spec?.range as Json | undefined;
        const tab = [...this.tabsByTitle.values()].find((t) => t.sheetId === range?.sheetId);
        const where = `Invalid requests[${index}].deleteDimension`;
        if (!tab) throw badRequest(`${where}: No grid with id: ${String(range?.sheetId)}`);
        if (range?.dimension !== 'ROWS') throw badRequest(`${where}: the fake deletes ROWS only`);
        const start = range.startIndex;
        const end = range.endIndex;
        if (typeof start !== 'number' || typeof end !== 'number' || !Number.isInteger(start) || start < 0 || !(end > start)) {
          throw badRequest(`${where}: startIndex must be less than endIndex`);
        }
        // Applied in order, as Google does: a later request's indices see the rows an earlier one removed.
        pending.push(() => {
          tab.rows.splice(start, end - start);
          tab.formatting.push({ deleteDimension: spec });
        });
        replies.push({});
      } else {
        throw badRequest(`Invalid requests[${index}]: the fake does not implement ${String(kind)}`);
      }
    });
    for (const apply of pending) apply();
    return { spreadsheetId: this.spreadsheetId, replies };
  }

  private getValues(a1: string, render: string): Json {
    const range = this.parseRange(a1);
    const tab = this.tabsByTitle.get(range.tab)!;
    const rows = trimRows(tab.rows);
    const endRow = Math.min(range.endRow ?? rows.length, rows.length);
    const values: Cell[][] = [];
    for (let r = range.startRow; r < endRow; r++) {
      const row = rows[r] ?? [];
      const cells = row.slice(range.startCol, range.endCol ?? row.length);
      values.push(trimCells(cells).map((cell) => (render === 'FORMATTED_VALUE' ? String(cell) : cell)));
    }
    while (values.length > 0 && values[values.length - 1]!.length === 0) values.pop();
    return { range: a1, majorDimension: 'ROWS', ...(values.length ? { values } : {}) };
  }

  private append(a1: string, query: URLSearchParams, body: unknown): Json {
    requireValueInputOption(query);
    const range = this.parseRange(a1);
    const tab = this.tabsByTitle.get(range.tab)!;
    const values = bodyValues(body);
    tab.rows = trimRows(tab.rows);
    const firstRow = tab.rows.length;
    for (const row of values) tab.rows.push(padTo(row, range.startCol));
    return {
      spreadsheetId: this.spreadsheetId,
      tableRange: `${quote(tab.title)}!A1:${column(26)}${firstRow}`,
      updates: {
        spreadsheetId: this.spreadsheetId,
        updatedRange: `${quote(tab.title)}!A${firstRow + 1}:${column(maxWidth(values))}${firstRow + values.length}`,
        updatedRows: values.length,
        updatedColumns: maxWidth(values),
        updatedCells: values.reduce((n, row) => n + row.length, 0),
      },
    };
  }

  private update(a1: string, query: URLSearchParams, body: unknown): Json {
    requireValueInputOption(query);
    const range = this.parseRange(a1);
    const tab = this.tabsByTitle.get(range.tab)!;
    const values = bodyValues(body);
    values.forEach((row, r) => {
      const target = (tab.rows[range.startRow + r] ??= []);
      row.forEach((cell, c) => {
        while (target.length < range.startCol + c) target.push('');
        target[range.startCol + c] = cell;
      });
    });
    for (let r = 0; r < tab.rows.length; r++) tab.rows[r] ??= [];
    return {
      spreadsheetId: this.spreadsheetId,
      updatedRange: a1,
      updatedRows: values.length,
      updatedColumns: maxWidth(values),
      updatedCells: values.reduce((n, row) => n + row.length, 0),
    };
  }

  private clear(a1: string): Json {
    const range = this.parseRange(a1);
    const tab = this.tabsByTitle.get(range.tab)!;
    const endRow = Math.min(range.endRow ?? tab.rows.length, tab.rows.length);
    for (let r = range.startRow; r < endRow; r++) {
      const row = tab.rows[r] ?? [];
      const endCol = Math.min(range.endCol ?? row.length, row.length);
      for (let c = range.startCol; c < endCol; c++) row[c] = '';
    }
    return { spreadsheetId: this.spreadsheetId, clearedRange: a1 };
  }

  /** Parses 'Tab'!A1, 'Tab'!A2:A, 'Tab'!A1:H5, 'Tab'!1:1 or Tab; an unknown tab is Google's 400. */
  private parseRange(a1: string): Range {
    const match = /^(?:'((?:[^']|'')+)'|([^'!]+))(?:!([A-Z]*)(\d*)(?::([A-Z]*)(\d*))?)?$/.exec(a1);
    const title = match ? (match[1]?.replaceAll("''", "'") ?? match[2]!) : undefined;
    if (!match || !title || !this.tabsByTitle.has(title)) throw badRequest(`Unable to parse range: ${a1}`);
    const [, , , startColText, startRowText, endColText, endRowText] = match;
    const hasEnd = endColText !== undefined || endRowText !== undefined;
    return {
      tab: title,
      startRow: startRowText ? Number(startRowText) - 1 : 0,
      endRow: endRowText ? Number(endRowText) : hasEnd ? undefined : startRowText ? Number(startRowText) : undefined,
      startCol: startColText ? columnIndex(startColText) : 0,
      endCol: endColText
        ? columnIndex(endColText) + 1
        : hasEnd
          ? undefined
          : startColText
            ? columnIndex(startColText) + 1
            : undefined,
    };
  }
}

function requireValueInputOption(query: URLSearchParams): void {
  const option = query.get('valueInputOption');
  if (option !== 'RAW' && option !== 'USER_ENTERED') {
    throw badRequest("'valueInputOption' is required but not specified");
  }
}

function bodyValues(body: unknown): Cell[][] {
  const values = (body as { values?: unknown } | undefined)?.values;
  if (!Array.isArray(values)) throw badRequest('Invalid JSON payload: values is required');
  return values.map((row) => {
    if (!Array.isArray(row)) throw badRequest('Invalid values: each row must be a list');
    return row.map((cell): Cell => {
      if (typeof cell === 'string' || typeof cell === 'number' || typeof cell === 'boolean') return cell;
      if (cell === null) return '';
      throw badRequest(`Invalid value at 'data.values': ${JSON.stringify(cell)}`);
    });
  });
}

function parseJsonPart(part: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

function trimCells(cells: readonly Cell[]): Cell[] {
  const out = [...cells];
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

function trimRows(rows: readonly Cell[][]): Cell[][] {
  const out = rows.map((row) => trimCells(row ?? []));
  while (out.length > 0 && out[out.length - 1]!.length === 0) out.pop();
  return out;
}

function padTo(row: Cell[], startCol: number): Cell[] {
  return [...Array.from({ length: startCol }, (): Cell => ''), ...row];
}

function maxWidth(rows: readonly Cell[][]): number {
  return rows.reduce((n, row) => Math.max(n, row.length), 0);
}

function columnIndex(letters: string): number {
  let n = 0;
  for (const ch of letters) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

function column(count: number): string {
  let n = Math.max(count, 1);
  let out = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    out = String.fromCharCode(65 + rem) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

function quote(title: string): string {
  return `'${title.replaceAll("'", "''")}'`;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('Invalid JSON payload received.');
  }
}

function send(res: ServerResponse, status: number, body: Json): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
