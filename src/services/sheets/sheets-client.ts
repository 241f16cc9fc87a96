import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { auth as googleAuth, sheets, type sheets_v4 } from '@googleapis/sheets';
import { z } from 'zod';

/** The one OAuth scope the export needs: read and write spreadsheets shared with the account. */
export const SPREADSHEETS_SCOPE = 'https://www.googleapis.com/auth/spreadsheets';

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Why a Sheets call failed, as far as an operator is concerned:
 * - `credentials`: the key file is missing or invalid, or Google rejects the key (401);
 * - `api-disabled`: the Sheets API is not enabled in the service account's Cloud project;
 * - `no-access`: the spreadsheet is not shared with the service account as an editor (403);
 * - `spreadsheet-missing`: no spreadsheet with this id (404);
 * - `unavailable`: Google is down, overloaded (429, 5xx), unreachable or too slow (a timeout);
 * - `rejected`: Google refused the request itself (400): a bug, or a tab changed by hand.
 */
export type SheetsFailureKind = 'credentials' | 'api-disabled' | 'no-access' | 'spreadsheet-missing' | 'unavailable' | 'rejected';

/** A failed Sheets call, classified; `message` is precise and never contains a secret. */
export class SheetsError extends Error {
  constructor(
    readonly kind: SheetsFailureKind,
    message: string,
    readonly status?: number,
    /** Google's own explanation (error.message of the response body), when there was one. */
    readonly googleMessage?: string,
  ) {
    super(message);
    this.name = 'SheetsError';
  }

  /** Google did not recognise the range: the tab was deleted or renamed by hand. */
  get isUnknownRange(): boolean {
    return this.kind === 'rejected' && /unable to parse range/i.test(this.googleMessage ?? '');
  }
}

/** The parts of a Google service-account key file the export uses. */
export interface ServiceAccountKey {
  readonly file: string;
  readonly clientEmail: string;
  readonly privateKey: string;
  readonly privateKeyId: string | undefined;
}

const keyFileSchema = z.object({
  type: z.literal('service_account', { error: '"type" is not "service_account"' }).optional(),
  client_email: z.email({ error: 'no valid "client_email" (the service account address)' }),
  private_key: z.string({ error: 'no "private_key"' }).min(1, '"private_key" is empty'),
  private_key_id: z.string().optional(),
});

/**
 * Reads and checks a service-account JSON key; every problem is a `credentials` SheetsError
 * naming the file, so the operator knows what to fix.
 */
export async function readServiceAccountKey(file: string): Promise<ServiceAccountKey> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'the file does not exist'
        : code === 'EACCES'
          ? 'no permission to read it'
          : `cannot be read (${code ?? 'error'})`;
    throw keyFileError(file, why);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw keyFileError(file, 'not JSON (a service-account JSON key from Google Cloud Console is expected)');
  }
  const parsed = keyFileSchema.safeParse(json);
  if (!parsed.success) throw keyFileError(file, parsed.error.issues.map((issue) => issue.message).join('; '));
  try {
    createPrivateKey(parsed.data.private_key);
  } catch {
    throw keyFileError(file, '"private_key" is not a PEM private key');
  }
  return {
    file,
    clientEmail: parsed.data.client_email,
    privateKey: parsed.data.private_key,
    privateKeyId: parsed.data.private_key_id,
  };
}

function keyFileError(file: string, why: string): SheetsError {
  return new SheetsError('credentials', `Google service-account key file ${file}: ${why}`);
}

export interface SheetsClientOptions {
  readonly spreadsheetId: string;
  /** Sheets API root; undefined means Google's own (https://sheets.googleapis.com/). */
  readonly apiRoot: string | undefined;
  /** Per-request limit; a request that takes longer counts as `unavailable`. */
  readonly timeoutMs?: number;
}

/** A tab of the spreadsheet. */
export interface TabInfo {
  readonly sheetId: number;
  readonly title: string;
}

/** What a cell holds: text or a number (dates are serial numbers with a date format). */
export type CellValue = string | number;

/** Encloses a tab name in quotes for A1 notation ('It''s' for It's). */
export function quoteTab(title: string): string {
  return `'${title.replaceAll("'", "''")}'`;
}

/**
 * The few Sheets v4 calls the export makes, with every failure turned into a SheetsError.
 * Authenticates with a self-signed JWT (scope claim, no token exchange with oauth2.googleapis.com).
 */
export class SheetsClient {
  private readonly api: sheets_v4.Sheets;
  private inFlight = new AbortController();

  constructor(
    readonly key: ServiceAccountKey,
    private readonly options: SheetsClientOptions,
  ) {
    // The Sheets package brings its own google-auth-library (googleapis-common pins it); its JWT class
    // is the one the Sheets client is typed and tested against, so we take it from there.
    const auth = new googleAuth.JWT({
      email: key.clientEmail,
      key: key.privateKey,
      keyId: key.privateKeyId,
      scopes: [SPREADSHEETS_SCOPE],
    });
    auth.useJWTAccessWithScope = true;
    this.api = sheets({
      version: 'v4',
      auth,
      ...(options.apiRoot ? { rootUrl: withTrailingSlash(options.apiRoot) } : {}),
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      // Retrying is the export worker's job (with backoff and a check for the row), not gaxios'.
      retry: false,
    });
  }

  get spreadsheetId(): string {
    return this.options.spreadsheetId;
  }

  /** The spreadsheet's tabs (spreadsheets.get). */
  async listTabs(): Promise<readonly TabInfo[]> {
    const response = await this.call('spreadsheets.get', (options) =>
      this.api.spreadsheets.get({ spreadsheetId: this.spreadsheetId, fields: 'sheets.properties(sheetId,title)' }, options),
    );
    return (response.data.sheets ?? []).map((sheet) => ({
      sheetId: sheet.properties?.sheetId ?? 0,
      title: sheet.properties?.title ?? '',
    }));
  }

  /** Adds a tab (batchUpdate addSheet) and returns it. */
  async addTab(title: string): Promise<TabInfo> {
    const response = await this.batchUpdate([{ addSheet: { properties: { title } } }]);
    const properties = response.replies?.[0]?.addSheet?.properties;
    if (properties?.sheetId === undefined || properties.sheetId === null) {
      throw new SheetsError('rejected', `Google did not return the id of the new tab «${title}»`);
    }
    return { sheetId: properties.sheetId, title: properties.title ?? title };
  }

  /** Applies formatting and structural requests in one batchUpdate. */
  async batchUpdate(requests: readonly sheets_v4.Schema$Request[]): Promise<sheets_v4.Schema$BatchUpdateSpreadsheetResponse> {
    const response = await this.call('spreadsheets.batchUpdate', (options) =>
      this.api.spreadsheets.batchUpdate({ spreadsheetId: this.spreadsheetId, requestBody: { requests: [...requests] } }, options),
    );
    return response.data;
  }

  /**
   * Deletes whole rows of a tab (zero-based indices) in one batchUpdate, applied entirely or not at
   * all: one deleteDimension per run of adjacent rows, the lowest run last, so that each request's
   * indices still point at the rows they were read for (Google applies the requests in order).
   */
  async deleteRows(sheetId: number, rowIndices: readonly number[]): Promise<void> {
    const runs = rowRuns(rowIndices);
    if (runs.length === 0) return;
    await this.batchUpdate(
      runs.reverse().map((run) => ({
        deleteDimension: { range: { sheetId, dimension: 'ROWS', startIndex: run.start, endIndex: run.end } },
      })),
    );
  }

  /** The cells of an A1 range, row by row, unformatted (numbers as numbers); trailing blanks omitted. */
  async getValues(range: string): Promise<readonly (readonly CellValue[])[]> {
    const response = await this.call('values.get', (options) =>
      this.api.spreadsheets.values.get(
        { spreadsheetId: this.spreadsheetId, range, valueRenderOption: 'UNFORMATTED_VALUE', majorDimension: 'ROWS' },
        options,
      ),
    );
    return (response.data.values ?? []) as CellValue[][];
  }

  /** Appends rows after the last row of the tab's table (values.append, RAW, INSERT_ROWS). */
  async appendValues(range: string, rows: readonly (readonly CellValue[])[]): Promise<void> {
    await this.call('values.append', (options) =>
      this.api.spreadsheets.values.append(
        {
          spreadsheetId: this.spreadsheetId,
          range,
          // RAW: model-written text starting with "=" or "+" stays text, never a formula.
          valueInputOption: 'RAW',
          insertDataOption: 'INSERT_ROWS',
          requestBody: { values: rows.map((row) => [...row]) },
        },
        options,
      ),
    );
  }

  /** Overwrites the cells of a range (values.update, RAW). */
  async updateValues(range: string, rows: readonly (readonly CellValue[])[]): Promise<void> {
    await this.call('values.update', (options) =>
      this.api.spreadsheets.values.update(
        {
          spreadsheetId: this.spreadsheetId,
          range,
          valueInputOption: 'RAW',
          requestBody: { values: rows.map((row) => [...row]) },
        },
        options,
      ),
    );
  }

  /** Empties the cells of a range, keeping their formatting (values.clear). */
  async clearValues(range: string): Promise<void> {
    await this.call('values.clear', (options) =>
      this.api.spreadsheets.values.clear({ spreadsheetId: this.spreadsheetId, range, requestBody: {} }, options),
    );
  }

  /** Aborts the requests in flight and refuses new ones until `reopen()` (the export is stopping). */
  abortInFlight(): void {
    this.inFlight.abort();
  }

  /** Accepts requests again after `abortInFlight()`. */
  reopen(): void {
    if (this.inFlight.signal.aborted) this.inFlight = new AbortController();
  }

  private async call<T>(operation: string, request: (options: { readonly signal: AbortSignal }) => Promise<T>): Promise<T> {
    const signal = this.inFlight.signal;
    try {
      return await request({ signal });
    } catch (error) {
      if (signal.aborted) throw new SheetsError('unavailable', `${operation} interrupted: the export is stopping`);
      throw toSheetsError(error, operation, this.key, this.spreadsheetId, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    }
  }
}

/** Row indices as runs of adjacent rows, [start, end) ascending; duplicates and order do not matter. */
function rowRuns(rowIndices: readonly number[]): Array<{ start: number; end: number }> {
  const sorted = [...new Set(rowIndices)].sort((a, b) => a - b);
  const runs: Array<{ start: number; end: number }> = [];
  for (const index of sorted) {
    const last = runs[runs.length - 1];
    if (last && last.end === index) last.end = index + 1;
    else runs.push({ start: index, end: index + 1 });
  }
  return runs;
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

interface GoogleErrorBody {
  readonly error?: {
    readonly message?: string;
    readonly status?: string;
    readonly details?: readonly { readonly reason?: string }[];
    readonly errors?: readonly { readonly reason?: string }[];
  };
}

/** The duck-typed shape of a gaxios error: gaxios is googleapis' transport, not our dependency. */
interface HttpFailure {
  readonly message?: string;
  readonly code?: string | number;
  readonly cause?: { readonly name?: string };
  readonly response?: { readonly status?: number; readonly data?: unknown };
}

/** Classifies any failure of a Sheets call; the message says what happened and what to do. */
export function toSheetsError(
  error: unknown,
  operation: string,
  key: Pick<ServiceAccountKey, 'clientEmail' | 'file'>,
  spreadsheetId: string,
  timeoutMs: number,
): SheetsError {
  if (error instanceof SheetsError) return error;
  const failure = (error ?? {}) as HttpFailure;
  const status = failure.response?.status;
  if (status === undefined) {
    const timedOut = failure.cause?.name === 'AbortError' || failure.code === 'TimeoutError';
    const reason = timedOut ? `no answer within ${timeoutMs} ms` : String(failure.code ?? failure.message ?? 'unknown error');
    return new SheetsError('unavailable', `Google Sheets unreachable during ${operation}: ${reason}`);
  }
  const body = (failure.response?.data ?? {}) as GoogleErrorBody;
  const googleMessage = typeof body.error?.message === 'string' ? body.error.message : undefined;
  const reasons = [...(body.error?.details ?? []), ...(body.error?.errors ?? [])].map((d) => d.reason ?? '');
  const said = googleMessage ? `: ${googleMessage.replace(/\.+$/, '')}` : '';
  const kind = classifyStatus(status, reasons);
  const explanation = explain(kind, key, spreadsheetId);
  return new SheetsError(kind, `${operation} failed with HTTP ${status}${said}. ${explanation}`.trim(), status, googleMessage);
}

function classifyStatus(status: number, reasons: readonly string[]): SheetsFailureKind {
  if (status === 401) return 'credentials';
  if (status === 403) {
    if (reasons.some((r) => r === 'SERVICE_DISABLED' || r === 'accessNotConfigured')) return 'api-disabled';
    return 'no-access';
  }
  if (status === 404) return 'spreadsheet-missing';
  if (status === 408 || status === 429 || status >= 500) return 'unavailable';
  return 'rejected';
}

function explain(kind: SheetsFailureKind, key: Pick<ServiceAccountKey, 'clientEmail' | 'file'>, spreadsheetId: string): string {
  switch (kind) {
    case 'credentials':
      return `Google rejected the key of ${key.clientEmail} (${key.file}); it may have been deleted or disabled: create a new JSON key.`;
    case 'api-disabled':
      return `The Google Sheets API is not enabled in the Cloud project of ${key.clientEmail}: enable it in Google Cloud Console.`;
    case 'no-access':
      return `${key.clientEmail} cannot write to spreadsheet ${spreadsheetId}: share the spreadsheet with it as an Editor.`;
    case 'spreadsheet-missing':
      return `Spreadsheet ${spreadsheetId} does not exist: check GOOGLE_SHEETS_ID.`;
    case 'unavailable':
      return 'Google is unavailable; the export will be retried.';
    case 'rejected':
      return '';
    default: {
      const unreachable: never = kind;
      return unreachable;
    }
  }
}
