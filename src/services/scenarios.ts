import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';

const text = z.string().trim().min(1);
const textList = z.array(text).min(1);

const difficultySchema = z.object({ label: text, behaviour: text });

/**
 * What the trainee is told before the client's first line: who is on the line, the company, and the
 * facts a real employee would have in front of them (tariff, usage, what was sent, the history). The
 * rubric may score only what the trainee can learn from this card, the dialogue or the knowledge base
 * (`npm run scenarios:check`). The limits keep the card on one phone screen.
 */
const briefSchema = z
  .object(
    {
      who: text.max(200, 'не длиннее 200 символов'),
      company: text.max(200, 'не длиннее 200 символов'),
      known: z
        .array(text.max(300, 'не длиннее 300 символов: карточка должна помещаться на экран телефона'))
        .min(1, 'нужен хотя бы один факт, который знает стажёр')
        .max(8, 'не больше 8 пунктов: карточка должна помещаться на экран телефона'),
      goal: text.max(300, 'не длиннее 300 символов').optional(),
    },
    {
      error: (issue) =>
        issue.input === undefined
          ? 'обязательное поле: карточка клиента, которую стажёр видит перед первой репликой клиента (who — кто на линии, company — компания, known — что стажёр знает, goal — задача звонка)'
          : undefined,
    },
  )
  .strict();

/** The marks a criterion's anchors describe: what a 0, a 50, an 80 and a 100 look like. */
export const anchorScores = ['0', '50', '80', '100'] as const;

const anchorsSchema = z
  .object(
    { 0: text, 50: text, 80: text, 100: text },
    { error: (issue) => (issue.code === 'invalid_type' ? 'ожидаются четыре описания с ключами 0, 50, 80 и 100' : undefined) },
  )
  .strict();

/** The key the delivery criterion is scored under (it is not one of the rubric's). */
export const deliveryCriterionKey = 'delivery';

/**
 * For call scenarios: `replies` — the client answers with voice notes unless the trainee chose
 * otherwise with /voice; `delivery` — one more criterion, scored only when the trainee spoke.
 */
const voiceSchema = z
  .object({
    replies: z.boolean().default(false),
    delivery: z
      .object({
        title: text,
        weight: z.number().int().positive().max(100),
        good: text,
      })
      .strict()
      .optional(),
  })
  .strict();

export const difficultyLevels = ['easy', 'medium', 'hard'] as const;
export type Difficulty = (typeof difficultyLevels)[number];

const scenarioSchema = z
  .object({
    key: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'только латиница, цифры и дефисы (kebab-case)'),
    title: text.max(32, 'не длиннее 32 символов: это надпись на кнопке'),
    description: text,
    /** The language of the scenario's content: the client speaks it and the evaluation is written in it. */
    language: z
      .string()
      .regex(/^[a-z]{2}$/, 'код языка из двух строчных латинских букв, например ru или en')
      .default('ru'),
    brief: briefSchema,
    persona: z.object({
      name: text,
      role: text,
      company: text,
      situation: text,
      mood: text,
      goals: textList,
      hiddenNeeds: textList,
      objections: textList,
      agreeWhen: textList,
      speechStyle: text,
      openingLine: text,
    }),
    difficulties: z.object({ easy: difficultySchema, medium: difficultySchema, hard: difficultySchema }),
    rubric: z
      .array(
        z.object({
          key: z.string().regex(/^[A-Za-z0-9-]+$/, 'латиница, цифры и дефисы'),
          title: text,
          weight: z.number().int().positive(),
          good: text,
          anchors: anchorsSchema.optional(),
        }),
      )
      .min(1)
      .refine((criteria) => criteria.reduce((sum, c) => sum + c.weight, 0) === 100, 'сумма весов должна быть 100')
      .refine((criteria) => new Set(criteria.map((c) => c.key)).size === criteria.length, 'ключи критериев повторяются')
      .refine(
        (criteria) => criteria.every((c) => c.key !== deliveryCriterionKey),
        `ключ «${deliveryCriterionKey}» занят критерием голоса (voice.delivery)`,
      ),
    voice: voiceSchema.optional(),
    /** The score an assignment of this scenario needs (/assign); absent: DEFAULT_PASS_MARK. */
    passMark: z.number().int().min(1, 'от 1 до 100').max(100, 'от 1 до 100').optional(),
  })
  .strict();

export type Scenario = Readonly<z.infer<typeof scenarioSchema>>;
export type RubricCriterion = Scenario['rubric'][number];
export type ScenarioBrief = Scenario['brief'];
/** What a 0, 50, 80 and 100 look like for one criterion (keys '0', '50', '80', '100'). */
export type CriterionAnchors = NonNullable<RubricCriterion['anchors']>;
export type DeliveryCriterion = NonNullable<NonNullable<Scenario['voice']>['delivery']>;

/** Whether the client answers this scenario with voice notes when the trainee has not chosen. */
export function repliesByVoiceByDefault(scenario: Pick<Scenario, 'voice'>): boolean {
  return scenario.voice?.replies ?? false;
}

/** A scenario file that cannot be used; the message names the file and the field. */
export class ScenarioFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`Сценарий ${file}: ${problems.join('; ')}`);
    this.name = 'ScenarioFileError';
  }
}

export class ScenarioNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`scenario ${key} not found`);
    this.name = 'ScenarioNotFoundError';
  }
}

/** The scenarios loaded at start-up; immutable while the bot runs. */
export interface ScenarioCatalog {
  readonly all: readonly Scenario[];
  find(key: string): Scenario | undefined;
  /** The scenario, or ScenarioNotFoundError (a session may name a scenario that was since removed). */
  get(key: string): Scenario;
}

const scenarioExtensions = new Set(['.yaml', '.yml', '.md']);

/** Reads and validates every scenario file in a folder; any broken file stops the load. */
export async function loadScenarios(directory: string): Promise<ScenarioCatalog> {
  let names: string[];
  try {
    names = (await readdir(directory)).filter((name) => scenarioExtensions.has(path.extname(name))).sort();
  } catch (error) {
    throw new ScenarioFileError(directory, [`папка не читается (${(error as NodeJS.ErrnoException).code ?? 'ошибка'})`]);
  }
  if (names.length === 0) throw new ScenarioFileError(directory, ['в папке нет ни одного сценария (.yaml, .yml, .md)']);

  const scenarios: Scenario[] = [];
  for (const name of names) {
    const scenario = parseScenarioFile(name, await readFile(path.join(directory, name), 'utf8'));
    const expectedKey = path.basename(name, path.extname(name));
    if (scenario.key !== expectedKey) {
      throw new ScenarioFileError(name, [`key: «${scenario.key}» должен совпадать с именем файла («${expectedKey}»)`]);
    }
    scenarios.push(scenario);
  }
  const byKey = new Map(scenarios.map((s) => [s.key, s]));
  return {
    all: Object.freeze(scenarios),
    find: (key) => byKey.get(key),
    get: (key) => {
      const scenario = byKey.get(key);
      if (!scenario) throw new ScenarioNotFoundError(key);
      return scenario;
    },
  };
}

/** Parses one scenario: YAML, or Markdown whose front matter holds the fields (the body, if any, is the description). */
export function parseScenarioFile(fileName: string, source: string): Scenario {
  let data: unknown;
  try {
    data = path.extname(fileName) === '.md' ? parseFrontMatter(source) : YAML.parse(source);
  } catch (error) {
    throw new ScenarioFileError(fileName, [`не разбирается: ${(error as Error).message.split('\n')[0]}`]);
  }
  const parsed = scenarioSchema.safeParse(data, { error: scenarioIssueMessage });
  if (!parsed.success) {
    throw new ScenarioFileError(
      fileName,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(файл)'}: ${issue.message}`),
    );
  }
  return deepFreeze(parsed.data);
}

const russianIssues = z.locales.ru().localeError;

/** Messages for the person who wrote the file, in Russian like the rest (fields keep their own above). */
function scenarioIssueMessage(issue: Parameters<typeof russianIssues>[0]): string | undefined {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'обязательное поле';
  if (issue.code === 'unrecognized_keys') return `лишнее поле: ${issue.keys.map((key) => `«${key}»`).join(', ')}`;
  const message = russianIssues(issue);
  return typeof message === 'string' ? message : message?.message;
}

function parseFrontMatter(source: string): unknown {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(source);
  if (!match) throw new Error('нет блока front matter между строками ---');
  const data = YAML.parse(match[1]!) as Record<string, unknown> | null;
  const body = match[2]!.trim();
  return body && data && data.description === undefined ? { ...data, description: body } : data;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
