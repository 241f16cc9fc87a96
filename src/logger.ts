import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/** Paths pino censors wherever they appear in a log object. */
const redactPaths = [
  'botToken',
  'token',
  'apiKey',
  'password',
  'private_key',
  'privateKey',
  'authorization',
  '*.botToken',
  '*.token',
  '*.apiKey',
  '*.password',
  '*.private_key',
  '*.privateKey',
  '*.authorization',
  '*.headers.authorization',
  'config.openai.apiKey',
];

/** Secrets that may hide inside free text: error messages, URLs, stack traces. */
const secretPatterns: readonly RegExp[] = [
  /(?<!\d)\d{6,12}:[\w-]{30,}/g, // Telegram bot token (also inside /bot<token>/ URLs)
  /\bsk-[\w-]{16,}\b/g, // OpenAI-style keys
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /(?<=\b(?:postgres|postgresql|redis|http|https):\/\/[^:/@\s]+:)[^@\s]+(?=@)/g, // passwords inside URLs
  /(?<=\bBearer )[\w.~+/-]+=*/g,
];

/** Replaces every secret that can be recognised in a string. */
export function redactSecrets(text: string, extraSecrets: readonly string[] = []): string {
  let result = text;
  for (const secret of extraSecrets) {
    if (secret.length >= 6) result = result.split(secret).join('[REDACTED]');
  }
  for (const pattern of secretPatterns) result = result.replace(pattern, '[REDACTED]');
  return result;
}

function redactDeep(value: unknown, secrets: readonly string[], seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactSecrets(value, secrets);
  if (value === null || typeof value !== 'object') return value;
  // Errors keep their class for pino's err serializer, which redacts them itself.
  if (value instanceof Error || seen.has(value)) return value;
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = redactDeep(item, secrets, seen);
  return out;
}

/**
 * What trainees wrote and what the model answered never reaches the log: errors carry it in the
 * query parameters drizzle quotes in its message (`params: …`) and in the request grammY failed to
 * send (`payload.text`). Ids and method names stay, for the log line to say what failed.
 */
const userDataKeys = new Set(['params', 'parameters', 'args']);
const payloadKeysKept = new Set(['chat_id', 'message_id', 'callback_query_id', 'user_id', 'draft_id']);

function withoutUserData(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return value.replace(/\nparams: [\s\S]*?(?=\n {4}at |$)/, '\nparams: [hidden]');
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => withoutUserData(item, seen));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value) as [string, unknown][]) {
    if (userDataKeys.has(key)) out[key] = '[hidden]';
    else if (key === 'payload' && item !== null && typeof item === 'object') out[key] = keptPayloadFields(item);
    else out[key] = withoutUserData(item, seen);
  }
  return out;
}

function keptPayloadFields(payload: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(payload).map(([key, item]) => [key, payloadKeysKept.has(key) ? item : '[hidden]']));
}

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Known secret values (token, keys) to censor even where no pattern recognises them. */
  readonly secrets?: readonly string[];
  /** Pretty output for a person at a terminal; JSON otherwise. Defaults to stdout being a TTY. */
  readonly pretty?: boolean;
  readonly destination?: pino.DestinationStream;
}

/** pino-pretty is a development dependency: a production install (`npm ci --omit=dev`) logs JSON. */
function prettyPrinterInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

export function createLogger(options: LoggerOptions): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 6);
  const pretty = (options.pretty ?? (process.stdout.isTTY && process.env.NODE_ENV !== 'production')) && prettyPrinterInstalled();
  const pinoOptions: pino.LoggerOptions = {
    level: options.level,
    redact: { paths: redactPaths, censor: '[REDACTED]' },
    serializers: {
      err: (err: unknown) => redactDeep(withoutUserData(pino.stdSerializers.err(err as Error)), secrets),
    },
    hooks: {
      // Free text (messages and string fields) is scrubbed too: errors quote URLs and keys.
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (arg instanceof Error ? arg : redactDeep(arg, secrets)));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
  if (options.destination) return pino(pinoOptions, options.destination);
  if (pretty) {
    return pino({ ...pinoOptions, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino(pinoOptions);
}
