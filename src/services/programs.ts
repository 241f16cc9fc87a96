import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { difficultyLevels, type ScenarioCatalog } from './scenarios.js';

const itemSchema = z
  .object({
    scenario: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'ключ сценария (kebab-case)'),
    difficulty: z.enum(difficultyLevels, { error: 'допустимо: easy, medium или hard' }),
    /** Absent: the scenario's passMark, or DEFAULT_PASS_MARK. */
    passMark: z.number().int().min(1, 'от 1 до 100').max(100, 'от 1 до 100').optional(),
  })
  .strict();

const programSchema = z
  .object({
    key: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'только латиница, цифры и дефисы (kebab-case)'),
    title: z.string().trim().min(1, 'обязательное поле').max(40, 'не длиннее 40 символов: это надпись на кнопке'),
    items: z.array(itemSchema).min(1, 'хотя бы один сценарий'),
    /** How long the certification holds; after it the program is assigned again. Absent: for good. */
    validDays: z.number().int().positive('целое число дней больше нуля').optional(),
    /** The deadline of a renewal (days after the certification expired). */
    renewalDays: z.number().int().positive('целое число дней больше нуля').default(14),
  })
  .strict()
  .refine((program) => new Set(program.items.map((item) => item.scenario)).size === program.items.length, {
    message: 'сценарий повторяется в программе',
    path: ['items'],
  });

/** A named set of assignments («Онбординг: 5 сценариев»); passing all of them certifies. */
export type Program = Readonly<z.infer<typeof programSchema>>;
export type ProgramItem = Program['items'][number];

export interface ProgramCatalog {
  readonly all: readonly Program[];
  find(key: string): Program | undefined;
}

/** A program file that cannot be used; the message names the file and the field. */
export class ProgramFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`Программа ${file}: ${problems.join('; ')}`);
    this.name = 'ProgramFileError';
  }
}

/** Reads and validates every program file; an absent folder is no programs, a broken file stops the load. */
export async function loadPrograms(directory: string, scenarios: ScenarioCatalog): Promise<ProgramCatalog> {
  let names: string[];
  try {
    names = (await readdir(directory)).filter((name) => ['.yaml', '.yml'].includes(path.extname(name))).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') names = [];
    else throw new ProgramFileError(directory, [`папка не читается (${(error as NodeJS.ErrnoException).code ?? 'ошибка'})`]);
  }
  const programs: Program[] = [];
  for (const name of names) programs.push(parseProgramFile(name, await readFile(path.join(directory, name), 'utf8'), scenarios));
  return programCatalog(programs);
}

export function programCatalog(programs: readonly Program[]): ProgramCatalog {
  const byKey = new Map(programs.map((program) => [program.key, program]));
  return { all: Object.freeze([...programs]), find: (key) => byKey.get(key) };
}

/** One program file: YAML whose `key` is the file's name and whose scenarios all exist. */
export function parseProgramFile(fileName: string, source: string, scenarios: ScenarioCatalog): Program {
  let data: unknown;
  try {
    data = YAML.parse(source);
  } catch (error) {
    throw new ProgramFileError(fileName, [`не разбирается: ${(error as Error).message.split('\n')[0]}`]);
  }
  const parsed = programSchema.safeParse(data);
  if (!parsed.success) {
    throw new ProgramFileError(
      fileName,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(файл)'}: ${issue.message}`),
    );
  }
  const program = parsed.data;
  const expectedKey = path.basename(fileName, path.extname(fileName));
  const problems = [
    ...(program.key !== expectedKey ? [`key: «${program.key}» должен совпадать с именем файла («${expectedKey}»)`] : []),
    ...program.items.flatMap((item, index) =>
      scenarios.find(item.scenario) ? [] : [`items.${index}.scenario: нет сценария «${item.scenario}»`],
    ),
  ];
  if (problems.length > 0) throw new ProgramFileError(fileName, problems);
  return program;
}
