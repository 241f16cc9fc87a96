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

/**
 * Each variable's documentation, attached to its schema. A registry of our own rather than
 * `.meta()`: `.meta()` writes loosely typed `GlobalMeta` into the registry every zod schema shares,
 * this one holds exactly a `VariableDoc`.
 */
export const variableDocRegistry = z.registry<VariableDoc>();

declare const documentedBrand: unique symbol;
/** A schema that went through `documented()`; the environment's shape accepts nothing else. */
export type Documented<S extends z.ZodType = z.ZodType> = S & { readonly [documentedBrand]: true };

/** Attaches a variable's documentation to its schema. */
function documented<S extends z.ZodType>(schema: S, doc: VariableDoc): Documented<S> {
  // The registry keys by schema instance: two variables sharing one schema would share one doc.
  if (variableDocRegistry.has(schema)) throw new Error('a documented schema was reused for another variable');
  variableDocRegistry.add(schema, doc);
  return schema as Documented<S>;
}

const emptyAsUndefined = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : value);

// Factories, never shared constants: each variable needs its own schema instance to carry its doc.
const optionalString = () => z.preprocess(emptyAsUndefined, z.string().trim().optional());
const stringWithDefault = (fallback: string) => z.preprocess(emptyAsUndefined, z.string().trim().default(fallback));
const requiredString = () => z.preprocess(emptyAsUndefined, z.string({ error: 'не задана' }).trim().min(1, 'не задана'));
const urlWithDefault = (fallback: string) =>
  z.preprocess(emptyAsUndefined, z.url({ error: 'не похоже на URL' }).default(fallback));
const optionalUrl = () => z.preprocess(emptyAsUndefined, z.url({ error: 'не похоже на URL' }).optional());
const port = (fallback: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce.number({ error: 'должно быть числом' }).int('должно быть целым числом').min(0).max(65535).default(fallback),
  );
const optionalPositiveInt = () =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ error: 'должно быть числом' })
      .int('должно быть целым числом')
      .positive('должно быть больше нуля')
      .optional(),
  );
const positiveInt = (fallback: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ error: 'должно быть числом' })
      .int('должно быть целым числом')
      .positive('должно быть больше нуля')
      .default(fallback),
  );

const nonNegativeInt = (fallback: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ error: 'должно быть числом' })
      .int('должно быть целым числом')
      .min(0, 'не может быть меньше нуля')
      .default(fallback),
  );
const nonNegativeNumber = (fallback: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce.number({ error: 'должно быть числом' }).min(0, 'не может быть меньше нуля').default(fallback),
  );

const telegramIdList = () =>
  z.preprocess(
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

const postgresUrl = () =>
  z.preprocess(
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

const timeZone = () =>
  z.preprocess(
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

/**
 * Every variable, in the order of README's table. `satisfies` makes the compiler refuse a variable
 * whose schema did not go through `documented()` (or was changed after it: `.optional()` drops the brand).
 */
const envSchema = z.object({
  BOT_TOKEN: documented(
    requiredString().pipe(z.string().regex(/^\d+:[\w-]{20,}$/, 'не похоже на токен бота (вид: 123456789:AA…)')),
    {
      meaning: 'Токен бота от @BotFather',
      default: 'обязательна',
      example: '123456789:AAExampleExampleExampleExample',
      fix: 'создайте бота у @BotFather (/newbot) и вставьте выданный токен',
    },
  ),
  TELEGRAM_API_ROOT: documented(urlWithDefault('https://api.telegram.org'), {
    meaning: 'Адрес Bot API (свой Bot API сервер или тестовый эмулятор)',
    default: 'https://api.telegram.org',
    example: 'https://api.telegram.org',
    fix: 'укажите полный URL, например https://api.telegram.org',
  }),
  OPENAI_API_KEY: documented(requiredString(), {
    meaning: 'Ключ API языковой модели',
    default: 'обязательна',
    example: 'sk-...',
    fix: 'возьмите ключ в кабинете OpenAI или вашего OpenAI-совместимого сервиса (для Ollama подойдёт любая строка)',
  }),
  OPENAI_BASE_URL: documented(optionalUrl(), {
    meaning: 'Любой OpenAI-совместимый адрес (OpenAI, Azure, Ollama, vLLM…)',
    default: 'OpenAI',
    example: 'http://localhost:11434/v1',
    fix: 'укажите полный URL с /v1 на конце или удалите переменную',
  }),
  LLM_MODEL: documented(stringWithDefault('gpt-4o-mini'), {
    meaning: 'Модель, играющая клиента',
    default: 'gpt-4o-mini',
    example: 'gpt-4o-mini',
    fix: 'укажите имя модели',
  }),
  JUDGE_MODEL: documented(optionalString(), {
    meaning: 'Модель-судья, оценивающая диалог',
    default: 'как LLM_MODEL',
    example: 'gpt-4o',
    fix: 'укажите имя модели или удалите переменную',
  }),
  LLM_TIMEOUT_MS: documented(positiveInt(60_000), {
    meaning: 'Сколько ждать ответа модели, мс',
    default: '60000',
    example: '60000',
    fix: 'укажите целое число миллисекунд',
  }),
  HISTORY_TOKEN_BUDGET: documented(positiveInt(6_000), {
    meaning: 'Сколько токенов истории диалога отправлять модели (старые реплики отбрасываются первыми)',
    default: '6000',
    example: '6000',
    fix: 'укажите целое число',
  }),
  JUDGE_CONTEXT_TOKENS: documented(positiveInt(32_000), {
    meaning: 'Окно контекста модели-судьи в токенах: длинный диалог судья видит с начала и с конца, середина пропускается',
    default: '32000',
    example: '32000',
    fix: 'укажите целое число: окно контекста JUDGE_MODEL (для своих моделей часто 8192 или 32768)',
  }),
  JUDGE_TEMPERATURE: documented(
    z.preprocess(
      (value) => (typeof value === 'string' ? emptyAsUndefined(value.replace(',', '.')) : value),
      z.coerce.number({ error: 'должно быть числом' }).min(0, 'должно быть от 0 до 2').max(2, 'должно быть от 0 до 2').default(0),
    ),
    {
      meaning:
        'Температура модели-судьи (0–2): при 0 повторные оценки одного диалога почти не расходятся; насколько — показывает npm run judge:calibrate',
      default: '0',
      example: '0',
      fix: 'укажите число от 0 до 2, например 0 или 0.2',
    },
  ),
  STT_MODEL: documented(stringWithDefault('whisper-1'), {
    meaning: 'Модель распознавания речи для голосовых реплик (/audio/transcriptions)',
    default: 'whisper-1',
    example: 'whisper-1',
    fix: 'укажите имя модели распознавания, например whisper-1 или Systran/faster-whisper-small для speaches',
  }),
  STT_BASE_URL: documented(optionalUrl(), {
    meaning: 'OpenAI-совместимый адрес распознавания речи (faster-whisper/speaches, LocalAI…)',
    default: 'как OPENAI_BASE_URL',
    example: 'http://speaches:8000/v1',
    fix: 'укажите полный URL с /v1 на конце или удалите переменную',
  }),
  STT_API_KEY: documented(optionalString(), {
    meaning: 'Ключ API распознавания речи',
    default: 'как OPENAI_API_KEY',
    example: 'sk-...',
    fix: 'укажите ключ сервиса распознавания или удалите переменную',
  }),
  TTS_MODEL: documented(stringWithDefault('tts-1'), {
    meaning: 'Модель синтеза речи для голосовых ответов клиента (/audio/speech)',
    default: 'tts-1',
    example: 'tts-1',
    fix: 'укажите имя модели синтеза, например tts-1 или gpt-4o-mini-tts',
  }),
  TTS_VOICE: documented(stringWithDefault('alloy'), {
    meaning: 'Голос клиента в голосовых ответах',
    default: 'alloy',
    example: 'onyx',
    fix: 'укажите голос, который знает сервер синтеза (у OpenAI: alloy, echo, onyx, nova, shimmer…)',
  }),
  TTS_BASE_URL: documented(optionalUrl(), {
    meaning: 'OpenAI-совместимый адрес синтеза речи',
    default: 'как OPENAI_BASE_URL',
    example: 'http://speaches:8000/v1',
    fix: 'укажите полный URL с /v1 на конце или удалите переменную',
  }),
  TTS_API_KEY: documented(optionalString(), {
    meaning: 'Ключ API синтеза речи',
    default: 'как OPENAI_API_KEY',
    example: 'sk-...',
    fix: 'укажите ключ сервиса синтеза или удалите переменную',
  }),
  VOICE_MAX_SECONDS: documented(positiveInt(180), {
    meaning:
      'Самое длинное голосовое, которое бот расшифровывает, секунд (файл больше 20 МБ Telegram не отдаёт ботам в любом случае)',
    default: '180',
    example: '180',
    fix: 'укажите целое число секунд',
  }),
  VOICE_REPLY_TEXT: documented(
    z.preprocess(
      emptyAsUndefined,
      z.enum(['caption', 'message'], { error: 'допустимо: caption или message' }).default('caption'),
    ),
    {
      meaning:
        'Где текст голосового ответа клиента: caption — подписью к голосовому (длинный — следующим сообщением), message — всегда следующим сообщением',
      default: 'caption',
      example: 'caption',
      fix: 'укажите caption или message',
    },
  ),
  DATABASE_URL: documented(postgresUrl(), {
    meaning: 'PostgreSQL; без неё бот запускает встроенный PostgreSQL в DATA_DIR',
    default: 'встроенный',
    example: 'postgres://bot:secret@postgres:5432/bot',
    fix: 'формат postgres://пользователь:пароль@хост:5432/база, или удалите переменную для встроенной базы',
  }),
  DATABASE_POOL_SIZE: documented(positiveInt(10), {
    meaning: 'Сколько соединений с PostgreSQL держит бот (у управляемой базы бывает лимит соединений)',
    default: '10',
    example: '10',
    fix: 'укажите целое число больше нуля, меньше лимита соединений базы (max_connections)',
  }),
  CHROMA_URL: documented(optionalUrl(), {
    meaning: 'Сервер Chroma; без неё бот запускает встроенную Chroma в DATA_DIR',
    default: 'встроенная',
    example: 'http://chroma:8000',
    fix: 'укажите полный URL, например http://chroma:8000',
  }),
  DATA_DIR: documented(stringWithDefault('./data'), {
    meaning: 'Папка для встроенных баз и кэша моделей',
    default: './data',
    example: './data',
    fix: 'укажите путь к папке, доступной на запись',
  }),
  KNOWLEDGE_BASE_DIR: documented(stringWithDefault('./knowledge_base'), {
    meaning: 'Папка с документами компании (Markdown, TXT, PDF, DOCX)',
    default: './knowledge_base',
    example: './knowledge_base',
    fix: 'укажите путь к папке',
  }),
  KB_MAX_FILE_MB: documented(positiveInt(20), {
    meaning: 'Документ базы знаний больше этого размера (МБ) пропускается и называется в сводке',
    default: '20',
    example: '20',
    fix: 'укажите целое число мегабайт',
  }),
  KB_MAX_TEXT_CHARS: documented(positiveInt(1_000_000), {
    meaning: 'Документ, в котором текста больше этого числа символов, пропускается и называется в сводке',
    default: '1000000',
    example: '1000000',
    fix: 'укажите целое число символов',
  }),
  SCENARIOS_DIR: documented(stringWithDefault('./scenarios'), {
    meaning: 'Папка со сценариями (YAML или Markdown с front matter)',
    default: './scenarios',
    example: './scenarios',
    fix: 'укажите путь к папке',
  }),
  EMBEDDING_MODEL: documented(stringWithDefault('Xenova/multilingual-e5-small'), {
    meaning: 'Модель эмбеддингов: id на Hugging Face или абсолютный путь к локальной папке (тогда без загрузки)',
    default: 'Xenova/multilingual-e5-small',
    example: 'Xenova/multilingual-e5-small',
    fix: 'укажите id модели или абсолютный путь',
  }),
  MODELS_DIR: documented(optionalString(), {
    meaning: 'Кэш загруженных моделей',
    default: 'DATA_DIR/models',
    example: './data/models',
    fix: 'укажите путь к папке',
  }),
  GOOGLE_SHEETS_ID: documented(optionalString(), {
    meaning: 'ID таблицы Google для руководителей; без неё выгрузка выключена',
    default: 'выключено',
    example: '1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
    fix: 'скопируйте ID из адреса таблицы (между /d/ и /edit)',
  }),
  GOOGLE_SERVICE_ACCOUNT_FILE: documented(optionalString(), {
    meaning: 'JSON-ключ сервисного аккаунта Google',
    default: 'выключено',
    example: './secrets/service-account.json',
    fix: 'укажите путь к JSON-ключу сервисного аккаунта',
  }),
  GOOGLE_SHEETS_API_ROOT: documented(optionalUrl(), {
    meaning: 'Адрес Sheets API (прокси, тесты)',
    default: 'Google',
    example: 'https://sheets.googleapis.com',
    fix: 'укажите полный URL или удалите переменную',
  }),
  SHEETS_RESULTS_TAB: documented(stringWithDefault('Результаты'), {
    meaning: 'Лист с результатами (создаётся сам)',
    default: 'Результаты',
    example: 'Результаты',
    fix: 'укажите имя листа',
  }),
  SHEETS_TRAINEES_TAB: documented(stringWithDefault('Сотрудники'), {
    meaning: 'Лист со сводкой по сотрудникам (перезаписывается)',
    default: 'Сотрудники',
    example: 'Сотрудники',
    fix: 'укажите имя листа',
  }),
  TEAM_TIME_ZONE: documented(timeZone(), {
    meaning: 'Часовой пояс дат в таблице',
    default: 'Europe/Moscow',
    example: 'Europe/Moscow',
    fix: 'укажите пояс из базы IANA, например Europe/Moscow или Asia/Yekaterinburg',
  }),
  ACCESS_MODE: documented(
    z.preprocess(
      emptyAsUndefined,
      z.enum(['allowlist', 'invite', 'open'], { error: 'допустимо: allowlist, invite или open' }).default('allowlist'),
    ),
    {
      meaning:
        'Кто может пользоваться ботом: allowlist (ALLOWED_USER_IDS, /allow и приглашения), invite (только приглашения и /allow) или open (все); /revoke закрывает доступ в любом режиме',
      default: 'allowlist',
      example: 'allowlist',
      fix: 'укажите allowlist, invite или open',
    },
  ),
  ALLOWED_USER_IDS: documented(telegramIdList(), {
    meaning:
      'Telegram id допущенных сотрудников через запятую; к ним добавляются допущенные командой /allow и по приглашениям (хранятся в PostgreSQL)',
    default: 'пусто',
    example: '111111111,222222222',
    fix: 'перечислите числовые Telegram id через запятую',
  }),
  ADMIN_USER_IDS: documented(telegramIdList(), {
    meaning: 'Telegram id администраторов через запятую',
    default: 'пусто',
    example: '111111111',
    fix: 'перечислите числовые Telegram id через запятую',
  }),
  LOG_LEVEL: documented(
    z.preprocess(
      emptyAsUndefined,
      z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
          error: 'допустимо: fatal, error, warn, info, debug, trace, silent',
        })
        .default('info'),
    ),
    {
      meaning: 'Подробность журнала',
      default: 'info',
      example: 'info',
      fix: 'укажите fatal, error, warn, info, debug, trace или silent',
    },
  ),
  HEALTH_PORT: documented(port(8080), {
    meaning: 'Порт /healthz, /readyz и /metrics (0 — выключить)',
    default: '8080',
    example: '8080',
    fix: 'укажите номер порта от 0 до 65535',
  }),
  DEFAULT_LOCALE: documented(
    z.preprocess(emptyAsUndefined, z.enum(['ru', 'en'], { error: 'допустимо: ru или en' }).default('ru')),
    {
      meaning: 'Язык по умолчанию для тех, чей язык Telegram не ru и не en',
      default: 'ru',
      example: 'ru',
      fix: 'укажите ru или en',
    },
  ),
  SHUTDOWN_TIMEOUT_MS: documented(positiveInt(15_000), {
    meaning: 'Сколько ждать завершения текущих реплик при остановке, мс',
    default: '15000',
    example: '15000',
    fix: 'укажите целое число миллисекунд',
  }),
  RETENTION_DAYS: documented(optionalPositiveInt(), {
    meaning:
      'Через сколько дней после завершения тренировки удалять её переписку (оценки и баллы остаются); проверяется раз в сутки',
    default: 'хранить всегда',
    example: '180',
    fix: 'укажите целое число дней больше нуля или удалите переменную, чтобы хранить переписку всегда',
  }),
  TURN_RATE_PER_MINUTE: documented(positiveInt(20), {
    meaning:
      'Сколько реплик в минуту один сотрудник может отправить клиенту; сверх — реплика не передаётся, сотрудник видит просьбу повторить позже (счёт в памяти процесса)',
    default: '20',
    example: '20',
    fix: 'укажите целое число больше нуля',
  }),
  TURN_BURST: documented(positiveInt(5), {
    meaning: 'Сколько реплик подряд можно отправить без паузы, прежде чем действует TURN_RATE_PER_MINUTE',
    default: '5',
    example: '5',
    fix: 'укажите целое число больше нуля',
  }),
  FINISH_RATE_PER_HOUR: documented(positiveInt(10), {
    meaning: 'Сколько раз в час один сотрудник может вызвать /finish (оценку судьи)',
    default: '10',
    example: '10',
    fix: 'укажите целое число больше нуля',
  }),
  USER_DAILY_TOKENS: documented(nonNegativeInt(0), {
    meaning: 'Дневной лимит токенов модели на одного сотрудника (сутки по TEAM_TIME_ZONE); 0 — без лимита',
    default: '0',
    example: '200000',
    fix: 'укажите целое число токенов (0 — без лимита)',
  }),
  TEAM_DAILY_TOKENS: documented(nonNegativeInt(0), {
    meaning: 'Дневной лимит токенов модели на команду руководителя (сутки по TEAM_TIME_ZONE); 0 — без лимита',
    default: '0',
    example: '2000000',
    fix: 'укажите целое число токенов (0 — без лимита)',
  }),
  MODEL_PRICE_PER_1K_INPUT: documented(nonNegativeNumber(0), {
    meaning: 'Цена 1000 входных токенов модели в долларах — для оценки стоимости в базе, /metrics и таблице',
    default: '0',
    example: '0.00015',
    fix: 'укажите число долларов, например 0.00015',
  }),
  MODEL_PRICE_PER_1K_OUTPUT: documented(nonNegativeNumber(0), {
    meaning: 'Цена 1000 выходных токенов модели в долларах — для оценки стоимости',
    default: '0',
    example: '0.0006',
    fix: 'укажите число долларов, например 0.0006',
  }),
  DEFAULT_PASS_MARK: documented(
    z.preprocess(
      emptyAsUndefined,
      z.coerce
        .number({ error: 'должно быть числом' })
        .int('должно быть целым числом')
        .min(1, 'должно быть от 1 до 100')
        .max(100, 'должно быть от 1 до 100')
        .default(80),
    ),
    {
      meaning: 'Проходной балл задания /assign, если в сценарии нет своего passMark; он же — линия на картинках /stats и /team',
      default: '80',
      example: '80',
      fix: 'укажите целое число от 1 до 100',
    },
  ),
  PROGRAMS_DIR: documented(stringWithDefault('./programs'), {
    meaning: 'Папка с программами обучения (наборы заданий, *.yaml)',
    default: './programs',
    example: './programs',
    fix: 'укажите путь к папке с файлами программ',
  }),
  REMINDER_BEFORE_HOURS: documented(positiveInt(24), {
    meaning: 'За сколько часов до срока задания напомнить сотруднику',
    default: '24',
    example: '24',
    fix: 'укажите целое число часов больше нуля',
  }),
  QUIET_HOURS: documented(
    z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .trim()
        .regex(/^([01]?\d|2[0-3])-([01]?\d|2[0-3])$/, 'ожидается «начало-конец» в часах, например 21-9')
        .default('21-9')
        .transform((range) => {
          const [start, end] = range.split('-').map(Number) as [number, number];
          return { start, end };
        }),
    ),
    {
      meaning:
        'Тихие часы уведомлений в TEAM_TIME_ZONE: уведомление, пришедшееся на них, отправляется утром (0-0 — без тихих часов)',
      default: '21-9',
      example: '21-9',
      fix: 'укажите часы начала и конца через дефис, например 21-9',
    },
  ),
  NOTIFY_POLL_SECONDS: documented(positiveInt(30), {
    meaning: 'Как часто проверять, не пора ли отправить напоминание или сводку, секунд',
    default: '30',
    example: '30',
    fix: 'укажите целое число секунд больше нуля',
  }),
  DIGEST_WEEKDAY: documented(
    z.preprocess(
      emptyAsUndefined,
      z.coerce
        .number({ error: 'должно быть числом' })
        .int('должно быть целым числом')
        .min(1, 'от 1 (пн) до 7 (вс)')
        .max(7, 'от 1 (пн) до 7 (вс)')
        .default(1),
    ),
    {
      meaning: 'День недели еженедельной сводки руководителю: 1 — понедельник … 7 — воскресенье',
      default: '1',
      example: '1',
      fix: 'укажите число от 1 до 7',
    },
  ),
  DIGEST_HOUR: documented(
    z.preprocess(
      emptyAsUndefined,
      z.coerce
        .number({ error: 'должно быть числом' })
        .int('должно быть целым числом')
        .min(0, 'от 0 до 23')
        .max(23, 'от 0 до 23')
        .default(9),
    ),
    {
      meaning: 'Час еженедельной сводки руководителю (в TEAM_TIME_ZONE)',
      default: '9',
      example: '9',
      fix: 'укажите час от 0 до 23',
    },
  ),
} satisfies Readonly<Record<string, Documented>>);

export type EnvName = keyof typeof envSchema.shape;

/** Each variable's documentation by name, read back from the registry (README's table, .env.example). */
export const variableDocs = Object.fromEntries(
  Object.entries(envSchema.shape).map(([name, schema]) => [name, docOf(name, schema)]),
) as { readonly [K in EnvName]: VariableDoc };

function docOf(name: string, schema: z.ZodType): VariableDoc {
  const doc = variableDocRegistry.get(schema);
  if (!doc) throw new Error(`${name} has no documentation: wrap its schema in documented()`);
  return doc;
}

/** The environment parsed, checked across variables and shaped into the app's frozen `Config`. */
export const configSchema = envSchema.superRefine(requireBothSheetsHalves).transform(toConfig);

export type Config = z.output<typeof configSchema>;
export type AccessMode = Config['access']['mode'];
export type Locale = Config['defaultLocale'];
export type LogLevel = Config['logLevel'];

type Env = z.output<typeof envSchema>;

function requireBothSheetsHalves(e: Env, ctx: z.RefinementCtx<Env>): void {
  if (e.GOOGLE_SHEETS_ID && !e.GOOGLE_SERVICE_ACCOUNT_FILE) {
    ctx.addIssue({ code: 'custom', path: ['GOOGLE_SERVICE_ACCOUNT_FILE'], message: 'не задана, хотя задан GOOGLE_SHEETS_ID' });
  }
  if (e.GOOGLE_SERVICE_ACCOUNT_FILE && !e.GOOGLE_SHEETS_ID) {
    ctx.addIssue({ code: 'custom', path: ['GOOGLE_SHEETS_ID'], message: 'не задана, хотя задан GOOGLE_SERVICE_ACCOUNT_FILE' });
  }
}

function toConfig(e: Env) {
  const dataDir = path.resolve(e.DATA_DIR);
  return deepFreeze({
    botToken: e.BOT_TOKEN,
    telegramApiRoot: e.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
    openai: {
      apiKey: e.OPENAI_API_KEY,
      baseUrl: e.OPENAI_BASE_URL,
      clientModel: e.LLM_MODEL,
      judgeModel: e.JUDGE_MODEL ?? e.LLM_MODEL,
      timeoutMs: e.LLM_TIMEOUT_MS,
      historyTokenBudget: e.HISTORY_TOKEN_BUDGET,
      judgeContextTokens: e.JUDGE_CONTEXT_TOKENS,
      judgeTemperature: e.JUDGE_TEMPERATURE,
    },
    speech: {
      // Self-hosted speech servers (speaches, LocalAI) are often the chat model's own: by default, the same.
      stt: { apiKey: e.STT_API_KEY ?? e.OPENAI_API_KEY, baseUrl: e.STT_BASE_URL ?? e.OPENAI_BASE_URL, model: e.STT_MODEL },
      tts: {
        apiKey: e.TTS_API_KEY ?? e.OPENAI_API_KEY,
        baseUrl: e.TTS_BASE_URL ?? e.OPENAI_BASE_URL,
        model: e.TTS_MODEL,
        voice: e.TTS_VOICE,
      },
      timeoutMs: e.LLM_TIMEOUT_MS,
      maxSeconds: e.VOICE_MAX_SECONDS,
      replyText: e.VOICE_REPLY_TEXT,
    },
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    chromaUrl: e.CHROMA_URL,
    dataDir,
    knowledgeBaseDir: path.resolve(e.KNOWLEDGE_BASE_DIR),
    documentLimits: { maxFileBytes: e.KB_MAX_FILE_MB * 1024 * 1024, maxTextChars: e.KB_MAX_TEXT_CHARS },
    scenariosDir: path.resolve(e.SCENARIOS_DIR),
    embeddingModel: e.EMBEDDING_MODEL,
    modelsDir: path.resolve(e.MODELS_DIR ?? path.join(dataDir, 'models')),
    sheets:
      e.GOOGLE_SHEETS_ID && e.GOOGLE_SERVICE_ACCOUNT_FILE
        ? sheetsOn(e, e.GOOGLE_SHEETS_ID, e.GOOGLE_SERVICE_ACCOUNT_FILE)
        : sheetsOff('GOOGLE_SHEETS_ID is not set'),
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
    retentionDays: e.RETENTION_DAYS,
    assignments: {
      defaultPassMark: e.DEFAULT_PASS_MARK,
      programsDir: path.resolve(e.PROGRAMS_DIR),
      reminderBeforeHours: e.REMINDER_BEFORE_HOURS,
      quietHours: e.QUIET_HOURS,
      digestWeekday: e.DIGEST_WEEKDAY,
      digestHour: e.DIGEST_HOUR,
      pollMs: e.NOTIFY_POLL_SECONDS * 1000,
    },
    limits: {
      turnsPerMinute: e.TURN_RATE_PER_MINUTE,
      turnBurst: e.TURN_BURST,
      finishesPerHour: e.FINISH_RATE_PER_HOUR,
      userDailyTokens: e.USER_DAILY_TOKENS,
      teamDailyTokens: e.TEAM_DAILY_TOKENS,
      pricePer1kInput: e.MODEL_PRICE_PER_1K_INPUT,
      pricePer1kOutput: e.MODEL_PRICE_PER_1K_OUTPUT,
    },
  } as const);
}

// One function per branch: a conditional between two object literals would widen each side of the
// union with the other's fields as `?: undefined`.
function sheetsOn(e: Env, spreadsheetId: string, serviceAccountFile: string) {
  return {
    enabled: true,
    spreadsheetId,
    serviceAccountFile: path.resolve(serviceAccountFile),
    apiRoot: e.GOOGLE_SHEETS_API_ROOT,
    resultsTab: e.SHEETS_RESULTS_TAB,
    traineesTab: e.SHEETS_TRAINEES_TAB,
  } as const;
}

function sheetsOff(reason: string) {
  return { enabled: false, reason } as const;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
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
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(describeProblem));
  return parsed.data;
}

function describeProblem(issue: z.core.$ZodIssue): string {
  const name = String(issue.path[0] ?? '?');
  const doc = Object.hasOwn(variableDocs, name) ? variableDocs[name as EnvName] : undefined;
  return doc ? `${name}: ${issue.message} — ${doc.fix}` : `${name}: ${issue.message}`;
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
