import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadScenarios, parseScenarioFile, ScenarioFileError } from '../../src/services/scenarios.js';

const coldCall = readFileSync('scenarios/cold-call.yaml', 'utf8');

/** The cold-call scenario with its fields changed, as a company might write its own. */
function coldCallWith(change: (data: Record<string, unknown>) => void): string {
  const data = YAML.parse(coldCall) as Record<string, unknown>;
  change(data);
  return YAML.stringify(data);
}

function problemsOf(source: string): string {
  try {
    parseScenarioFile('own.yaml', source);
  } catch (error) {
    if (error instanceof ScenarioFileError) return error.message;
    throw error;
  }
  throw new Error('the scenario was accepted');
}

type Criterion = { anchors?: Record<number, string> };
const firstCriterion = (data: Record<string, unknown>) => (data.rubric as Criterion[])[0]!;

describe('scenarios', () => {
  it('ships five valid Russian scenarios with rubrics that add up to 100', async () => {
    const catalog = await loadScenarios('scenarios');
    expect(catalog.all.map((s) => s.key).sort()).toEqual([
      'angry-customer',
      'cold-call',
      'needs-discovery',
      'price-objection',
      'upsell',
    ]);
    for (const scenario of catalog.all) {
      expect(scenario.rubric.reduce((sum, c) => sum + c.weight, 0)).toBe(100);
      expect(scenario.persona.openingLine).toMatch(/[а-яё]/i);
      expect(scenario.language).toBe('ru');
      expect(scenario.brief.known.length, scenario.key).toBeGreaterThanOrEqual(3);
      expect(scenario.brief.goal, scenario.key).toMatch(/[а-яё]/i);
      // Every criterion says what a 0, 50, 80 and 100 look like, in Russian.
      for (const criterion of scenario.rubric) {
        expect(Object.keys(criterion.anchors ?? {}), `${scenario.key}.${criterion.key}`).toEqual(['0', '50', '80', '100']);
        for (const anchor of Object.values(criterion.anchors!)) expect(anchor).toMatch(/[а-яё]{3}/i);
      }
    }
  });

  it('the client card is required: a scenario without one is refused, naming the field', () => {
    const message = problemsOf(coldCallWith((data) => delete data.brief));
    expect(message).toMatch(/^Сценарий own\.yaml: brief: обязательное поле: карточка клиента/);
    expect(message).toContain('who — кто на линии, company — компания, known — что стажёр знает');
  });

  it('the card needs who, the company and at least one fact, and stays short enough for a phone', () => {
    expect(problemsOf(coldCallWith((data) => delete (data.brief as Record<string, unknown>).who))).toContain(
      'brief.who: обязательное поле',
    );
    expect(problemsOf(coldCallWith((data) => ((data.brief as Record<string, unknown>).known = [])))).toContain(
      'brief.known: нужен хотя бы один факт, который знает стажёр',
    );
    const nine = Array.from({ length: 9 }, (_, i) => `Факт ${i + 1}`);
    expect(problemsOf(coldCallWith((data) => ((data.brief as Record<string, unknown>).known = nine)))).toContain(
      'brief.known: не больше 8 пунктов: карточка должна помещаться на экран телефона',
    );
    expect(problemsOf(coldCallWith((data) => ((data.brief as Record<string, unknown>).budget = 10)))).toContain(
      'brief: лишнее поле: «budget»',
    );
  });

  it('the goal is optional', () => {
    const scenario = parseScenarioFile(
      'cold-call.yaml',
      coldCallWith((data) => delete (data.brief as Record<string, unknown>).goal),
    );
    expect(scenario.brief.goal).toBeUndefined();
    expect(scenario.brief.known[0]).toContain('звонок холодный');
  });

  it('anchors are all four or none', () => {
    const withoutAnchors = parseScenarioFile(
      'cold-call.yaml',
      coldCallWith((data) => delete firstCriterion(data).anchors),
    );
    expect(withoutAnchors.rubric[0]!.anchors).toBeUndefined();

    expect(problemsOf(coldCallWith((data) => delete firstCriterion(data).anchors![80]))).toContain(
      'rubric.0.anchors.80: обязательное поле',
    );
    expect(problemsOf(coldCallWith((data) => (firstCriterion(data).anchors![90] = 'почти идеально')))).toContain(
      'rubric.0.anchors: лишнее поле: «90»',
    );
    expect(problemsOf(coldCallWith((data) => (firstCriterion(data).anchors = { 0: 'плохо' })))).toContain(
      'rubric.0.anchors.50: обязательное поле',
    );
    expect(problemsOf(coldCallWith((data) => (firstCriterion(data).anchors = 'хорошо')))).toContain(
      'rubric.0.anchors: ожидаются четыре описания с ключами 0, 50, 80 и 100',
    );
  });

  it('reads the anchors by score, as YAML writes them with numeric keys', () => {
    const scenario = parseScenarioFile('cold-call.yaml', coldCall);
    const anchors = scenario.rubric.find((c) => c.key === 'accuracy')!.anchors!;
    expect(anchors['100']).toContain('14 400 ₽ в месяц');
    expect(anchors['0']).toContain('Называет неверные цены');
  });

  it('the language is Russian unless the scenario says otherwise, as a two-letter code', () => {
    expect(
      parseScenarioFile(
        'own.yaml',
        coldCallWith((data) => delete data.language),
      ).language,
    ).toBe('ru');
    expect(
      parseScenarioFile(
        'own.yaml',
        coldCallWith((data) => (data.language = 'en')),
      ).language,
    ).toBe('en');
    expect(problemsOf(coldCallWith((data) => (data.language = 'English')))).toContain(
      'language: код языка из двух строчных латинских букв, например ru или en',
    );
  });

  it('a misspelt field is named, not silently dropped', () => {
    expect(problemsOf(coldCallWith((data) => (data.breif = data.brief)))).toContain('(файл): лишнее поле: «breif»');
  });

  it('names the file and the field of a broken scenario', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'scenarios-'));
    await writeFile(path.join(dir, 'cold-call.yaml'), coldCall.replace(/weight: \d+/, 'weight: -5'));
    const error = await loadScenarios(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScenarioFileError);
    expect((error as Error).message).toContain('cold-call.yaml');
    expect((error as Error).message).toMatch(/rubric\.0\.weight/);
  });

  it('refuses a key that differs from the file name, and an empty folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'scenarios-'));
    await expect(loadScenarios(dir)).rejects.toThrow(/нет ни одного сценария/);
    await writeFile(path.join(dir, 'other.yaml'), coldCall);
    await expect(loadScenarios(dir)).rejects.toThrow(/other\.yaml.*совпадать/);
  });

  it('reads Markdown with front matter, the body becoming the description', () => {
    const yaml = coldCall.replace(/^description:[\s\S]*?(?=^language:)/m, '');
    const scenario = parseScenarioFile('cold-call.md', `---\n${yaml}---\nЗвонок владелице салонов.\n`);
    expect(scenario.description).toBe('Звонок владелице салонов.');
  });

  it('reports YAML that does not parse', () => {
    expect(() => parseScenarioFile('bad.yaml', 'key: [unclosed')).toThrow(/bad\.yaml: не разбирается/);
  });
});
