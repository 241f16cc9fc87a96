import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { TelegramId } from './db/ids.js';

/** How each variable is documented: README's table and .env.example are checked against this. */
export interface VariableDoc {
  readonly meaning: string;
  readonly default: string;
  readonly example: string;
  /** What an operator should do when the value is wrong. */
  readonly fix: string;
}

const emptyAsUndefined = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const optionalString = () => z.preprocess(emptyAsUndefined, z.string().trim().optional());
const stringWithDefault = (fallback: string) =>
  z.preprocess(emptyAsUndefined, z.string().trim().default(fallback));
const requiredString = () =>
  z.preprocess(emptyAsUndefined, z.string({ error: 'не задана' }).trim().min(1, 'не задана'));
const urlWithDefault = (fallback: string) =>
  z.preprocess(emptyAsUndefined, z.url({ error: 'не похоже на URL' }).default(fallback));
const optionalUrl = () => z.preprocess(emptyAsUndefined, z.url({ error: 'не похоже на URL' }).optional());
const port = (fallback: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce.number({ error: 'должно быть числом' }).int('должно быть целым числом').min(0).max(65535).default(fallback),
  );
const positiveInt = (fallback: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce.number({ error: 'должно быть числом' }).int('должно быть целым числом').positive('должно быть больше нуля').default(fallback),
  );

const telegramIdList = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .default('')
    .transform((raw, ctx) => {
      const ids: TelegramId[] = [];
      for (const part of raw.split(/[\s,;]+/).filter(Boolean)) {
        if (!/^\d{1,20}$/.test(part)) {
          ctx.addIssue({ code: 'custom', message: `«${part}» — не Telegram id (нужны числа через запятую)` });
          continue;
        }
        ids.push(Number(part) as TelegramId);
      }
      return Object.freeze(ids);
    }),
);

const postgresUrl = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .refine((value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
      } catch {
        return false;
      }
    }, 'должен иметь вид postgres://пользователь:пароль@хост:5432/база')
    .optional(),
);

const timeZone = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .default('Europe/Moscow')
    .refine((zone) => {
      try {
        new Intl.DateTimeFormat('ru-RU', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    }, 'неизвестный часовой пояс (пример: Europe/Moscow)'),
);

const envSchema = z.object({
  BOT_TOKEN: requiredString().pipe(
    z.string().regex(/^\d+:[\w-]{20,}$/, 'не похоже на токен бота (вид: 123456789:AA…)'),
  ),
  TELEGRAM_API_ROOT: urlWithDefault('https://api.telegram.org'),
  OPENAI_API_KEY: requiredString(),
  OPENAI_BASE_URL: optionalUrl(),
  LLM_MODEL: stringWithDefault('gpt-4o-mini'),
  JUDGE_MODEL: optionalString(),
  LLM_TIMEOUT_MS: positiveInt(60_000),
  HISTORY_TOKEN_BUDGET: positiveInt(6_000),
  DATABASE_URL: postgresUrl,
  CHROMA_URL: optionalUrl(),
  DATA_DIR: stringWithDefault('./data'),
  KNOWLEDGE_BASE_DIR: stringWithDefault('./knowledge_base'),
  SCENARIOS_DIR: stringWithDefault('./scenarios'),
  EMBEDDING_MODEL: stringWithDefault('Xenova/multilingual-e5-small'),
  MODELS_DIR: optionalString(),
  GOOGLE_SHEETS_ID: optionalString(),
  GOOGLE_SERVICE_ACCOUNT_FILE: optionalString(),
  GOOGLE_SHEETS_API_ROOT: optionalUrl(),
  SHEETS_RESULTS_TAB: stringWithDefault('Результаты'),
  SHEETS_TRAINEES_TAB: stringWithDefault('Сотрудники'),
  TEAM_TIME_ZONE: timeZone,
  ACCESS_MODE: z.preprocess(
    emptyAsUndefined,
    z.enum(['allowlist', 'invite', 'open'], { error: 'допустимо: allowlist, invite или open' }).default('allowlist'),
  ),
  ALLOWED_USER_IDS: telegramIdList,
  ADMIN_USER_IDS: telegramIdList,
  LOG_LEVEL: z.preprocess(
    emptyAsUndefined,
    z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'допустимо: fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
  ),
  HEALTH_PORT: port(8080),
  DEFAULT_LOCALE: z.preprocess(emptyAsUndefined, z.enum(['ru', 'en'], { error: 'допустимо: ru или en' }).default('ru')),
  SHUTDOWN_TIMEOUT_MS: positiveInt(15_000),
});

export type EnvName = keyof z.input<typeof envSchema>;

/** One entry per variable; the compiler refuses a variable without documentation. */
export const variableDocs: { readonly [K in EnvName]: VariableDoc } = {
  BOT_TOKEN: {
    meaning: 'Токен бота от @BotFather',
    default: 'обязательна',
    example: '123456789:AAExampleExampleExampleExample',
    fix: 'создайте бота у @BotFather (/newbot) и вставьте выданный токен',
  },
  TELEGRAM_API_ROOT: {
    meaning: 'Адрес Bot API (свой Bot API сервер или тестовый эмулятор)',
    default: 'https://api.telegram.org',
    example: 'https://api.telegram.org',
    fix: 'укажите полный URL, например https://api.telegram.org',
  },
  OPENAI_API_KEY: {
    meaning: 'Ключ API языковой модели',
    default: 'обязательна',
    example: 'sk-...',
    fix: 'возьмите ключ в кабинете OpenAI или вашего OpenAI-совместимого сервиса (для Ollama подойдёт любая строка)',
  },
  OPENAI_BASE_URL: {
    meaning: 'Любой OpenAI-совместимый адрес (OpenAI, Azure, Ollama, vLLM…)',
    default: 'OpenAI',
    example: 'http://localhost:11434/v1',
    fix: 'укажите полный URL с /v1 на конце или удалите переменную',
  },
  LLM_MODEL: {
    meaning: 'Модель, играющая клиента',
    default: 'gpt-4o-mini',
    example: 'gpt-4o-mini',
    fix: 'укажите имя модели',
  },
  JUDGE_MODEL: {
    meaning: 'Модель-судья, оценивающая диалог',
    default: 'как LLM_MODEL',
    example: 'gpt-4o',
    fix: 'укажите имя модели или удалите переменную',
  },
  LLM_TIMEOUT_MS: {
    meaning: 'Сколько ждать ответа модели, мс',
    default: '60000',
    example: '60000',
    fix: 'укажите целое число миллисекунд',
  },
  HISTORY_TOKEN_BUDGET: {
    meaning: 'Сколько токенов истории диалога отправлять модели (старые реплики отбрасываются первыми)',
    default: '6000',
    example: '6000',
    fix: 'укажите целое число',
  },
  DATABASE_URL: {
    meaning: 'PostgreSQL; без неё бот запускает встроенный PostgreSQL в DATA_DIR',
    default: 'встроенный',
    example: 'postgres://bot:secret@postgres:5432/bot',
    fix: 'формат postgres://пользователь:пароль@хост:5432/база, или удалите переменную для встроенной базы',
  },
  CHROMA_URL: {
    meaning: 'Сервер Chroma; без неё бот запускает встроенную Chroma в DATA_DIR',
    default: 'встроенная',
    example: 'http://chroma:8000',
    fix: 'укажите полный URL, например http://chroma:8000',
  },
  DATA_DIR: {
    meaning: 'Папка для встроенных баз и кэша моделей',
    default: './data',
    example: './data',
    fix: 'укажите путь к папке, доступной на запись',
  },
  KNOWLEDGE_BASE_DIR: {
    meaning: 'Папка с документами компании (Markdown, TXT, PDF, DOCX)',
    default: './knowledge_base',
    example: './knowledge_base',
    fix: 'укажите путь к папке',
  },
  SCENARIOS_DIR: {
    meaning: 'Папка со сценариями (YAML или Markdown с front matter)',
    default: './scenarios',
    example: './scenarios',
    fix: 'укажите путь к папке',
  },
  EMBEDDING_MODEL: {
    meaning: 'Модель эмбеддингов: id на Hugging Face или абсолютный путь к локальной папке (тогда без загрузки)',
    default: 'Xenova/multilingual-e5-small',
    example: 'Xenova/multilingual-e5-small',
    fix: 'укажите id модели или абсолютный путь',
  },
  MODELS_DIR: {
    meaning: 'Кэш загруженных моделей',
    default: 'DATA_DIR/models',
    example: './data/models',
    fix: 'укажите путь к папке',
  },
  GOOGLE_SHEETS_ID: {
    meaning: 'ID таблицы Google для руководителей; без неё выгрузка выключена',
    default: 'выключено',
    example: '1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
    fix: 'скопируйте ID из адреса таблицы (между /d/ и /edit)',
  },
  GOOGLE_SERVICE_ACCOUNT_FILE: {
    meaning: 'JSON-ключ сервисного аккаунта Google',
    default: 'выключено',
    example: './secrets/service-account.json',
    fix: 'укажите путь к JSON-ключу сервисного аккаунта',
  },
  GOOGLE_SHEETS_API_ROOT: {
    meaning: 'Адрес Sheets API (прокси, тесты)',
    default: 'Google',
    example: 'https://sheets.googleapis.com',
    fix: 'укажите полный URL или удалите переменную',
  },
  SHEETS_RESULTS_TAB: {
    meaning: 'Лист с результатами (создаётся сам)',
    default: 'Результаты',
    example: 'Результаты',
    fix: 'укажите имя листа',
  },
  SHEETS_TRAINEES_TAB: {
    meaning: 'Лист со сводкой по сотрудникам (перезаписывается)',
    default: 'Сотрудники',
    example: 'Сотрудники',
    fix: 'укажите имя листа',
  },
  TEAM_TIME_ZONE: {
    meaning: 'Часовой пояс дат в таблице',
    default: 'Europe/Moscow',
    example: 'Europe/Moscow',
    fix: 'укажите пояс из базы IANA, например Europe/Moscow или Asia/Yekaterinburg',
  },
  ACCESS_MODE: {
    meaning: 'Кто может пользоваться ботом: allowlist (список), invite (по приглашению) или open (все)',
    default: 'allowlist',
    example: 'allowlist',
    fix: 'укажите allowlist, invite или open',
  },
  ALLOWED_USER_IDS: {
    meaning: 'Telegram id допущенных сотрудников через запятую',
    default: 'пусто',
    example: '111111111,222222222',
    fix: 'перечислите числовые Telegram id через запятую',
  },
  ADMIN_USER_IDS: {
    meaning: 'Telegram id администраторов через запятую',
    default: 'пусто',
    example: '111111111',
    fix: 'перечислите числовые Telegram id через запятую',
  },
  LOG_LEVEL: {
    meaning: 'Подробность журнала',
    default: 'info',
    example: 'info',
    fix: 'укажите fatal, error, warn, info, debug, trace или silent',
  },
  HEALTH_PORT: {
    meaning: 'Порт /healthz, /readyz и /metrics (0 — выключить)',
    default: '8080',
    example: '8080',
    fix: 'укажите номер порта от 0 до 65535',
  },
  DEFAULT_LOCALE: {
    meaning: 'Язык по умолчанию для тех, чей язык Telegram не ru и не en',
    default: 'ru',
    example: 'ru',
    fix: 'укажите ru или en',
  },
  SHUTDOWN_TIMEOUT_MS: {
    meaning: 'Сколько ждать завершения текущих реплик при остановке, мс',
    default: '15000',
    example: '15000',
    fix: 'укажите целое число миллисекунд',
  },
};

export type AccessMode = 'allowlist' | 'invite' | 'open';
export type Locale = 'ru' | 'en';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly botToken: string;
  readonly telegramApiRoot: string;
  readonly openai: {
    readonly apiKey: string;
    readonly baseUrl: string | undefined;
    readonly clientModel: string;
    readonly judgeModel: string;
    readonly timeoutMs: number;
    readonly historyTokenBudget: number;
  };
  readonly databaseUrl: string | undefined;
  readonly chromaUrl: string | undefined;
  readonly dataDir: string;
  readonly knowledgeBaseDir: string;
  readonly scenariosDir: string;
  readonly embeddingModel: string;
  readonly modelsDir: string;
  readonly sheets:
    | { readonly enabled: false; readonly reason: string }
    | {
        readonly enabled: true;
        readonly spreadsheetId: string;
        readonly serviceAccountFile: string;
        readonly apiRoot: string | undefined;
        readonly resultsTab: string;
        readonly traineesTab: string;
      };
  readonly teamTimeZone: string;
  readonly access: {
    readonly mode: AccessMode;
    readonly allowedUserIds: readonly TelegramId[];
    readonly adminUserIds: readonly TelegramId[];
  };
  readonly logLevel: LogLevel;
  readonly healthPort: number;
  readonly defaultLocale: Locale;
  readonly shutdownTimeoutMs: number;
}

/** A configuration that cannot start the bot; `message` lists every problem for the operator. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      [
        `Настройки бота содержат ошибки (${problems.length}):`,
        ...problems.map((problem) => `  • ${problem}`),
        'Исправьте .env (образец со всеми переменными — .env.example) и запустите снова.',
      ].join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** Parses the environment into a frozen config, or throws one ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '?') as EnvName;
      const doc = variableDocs[name];
      return doc ? `${name}: ${issue.message} — ${doc.fix}` : `${name}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  const sheetProblems = sheetsProblems(e.GOOGLE_SHEETS_ID, e.GOOGLE_SERVICE_ACCOUNT_FILE);
  if (sheetProblems.length > 0) throw new ConfigError(sheetProblems);

  const dataDir = path.resolve(e.DATA_DIR);
  const config: Config = {
    botToken: e.BOT_TOKEN,
    telegramApiRoot: e.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
    openai: {
      apiKey: e.OPENAI_API_KEY,
      baseUrl: e.OPENAI_BASE_URL,
      clientModel: e.LLM_MODEL,
      judgeModel: e.JUDGE_MODEL ?? e.LLM_MODEL,
      timeoutMs: e.LLM_TIMEOUT_MS,
      historyTokenBudget: e.HISTORY_TOKEN_BUDGET,
    },
    databaseUrl: e.DATABASE_URL,
    chromaUrl: e.CHROMA_URL,
    dataDir,
    knowledgeBaseDir: path.resolve(e.KNOWLEDGE_BASE_DIR),
    scenariosDir: path.resolve(e.SCENARIOS_DIR),
    embeddingModel: e.EMBEDDING_MODEL,
    modelsDir: path.resolve(e.MODELS_DIR ?? path.join(dataDir, 'models')),
    sheets:
      e.GOOGLE_SHEETS_ID && e.GOOGLE_SERVICE_ACCOUNT_FILE
        ? {
            enabled: true,
            spreadsheetId: e.GOOGLE_SHEETS_ID,
            serviceAccountFile: path.resolve(e.GOOGLE_SERVICE_ACCOUNT_FILE),
            apiRoot: e.GOOGLE_SHEETS_API_ROOT,
            resultsTab: e.SHEETS_RESULTS_TAB,
            traineesTab: e.SHEETS_TRAINEES_TAB,
          }
        : { enabled: false, reason: 'GOOGLE_SHEETS_ID is not set' },
    teamTimeZone: e.TEAM_TIME_ZONE,
    access: {
      mode: e.ACCESS_MODE,
      allowedUserIds: e.ALLOWED_USER_IDS,
      adminUserIds: e.ADMIN_USER_IDS,
    },
    logLevel: e.LOG_LEVEL,
    healthPort: e.HEALTH_PORT,
    defaultLocale: e.DEFAULT_LOCALE,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
  return deepFreeze(config);
}

function sheetsProblems(spreadsheetId: string | undefined, keyFile: string | undefined): string[] {
  if (spreadsheetId && !keyFile) {
    return [`GOOGLE_SERVICE_ACCOUNT_FILE: не задана, хотя задан GOOGLE_SHEETS_ID — ${variableDocs.GOOGLE_SERVICE_ACCOUNT_FILE.fix}`];
  }
  if (keyFile && !spreadsheetId) {
    return [`GOOGLE_SHEETS_ID: не задана, хотя задан GOOGLE_SERVICE_ACCOUNT_FILE — ${variableDocs.GOOGLE_SHEETS_ID.fix}`];
  }
  return [];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * For commands (the bot, kb:index, sheets:resync): reads `.env` when present, then the environment
 * (over `defaults`). On a bad configuration prints the one message listing every problem and
 * returns undefined; the caller exits with code 2.
 */
export function loadConfigOrExplain(defaults: Readonly<Record<string, string>> = {}): Config | undefined {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadConfig({ ...defaults, ...process.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return undefined;
  }
}
