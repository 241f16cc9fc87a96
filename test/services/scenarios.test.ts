import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadScenarios, parseScenarioFile, ScenarioFileError } from '../../src/services/scenarios.js';

const coldCall = readFileSync('scenarios/cold-call.yaml', 'utf8');

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
    }
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
    const yaml = coldCall.replace(/^description:[\s\S]*?(?=^persona:)/m, '');
    const scenario = parseScenarioFile('cold-call.md', `---\n${yaml}---\nЗвонок владелице салонов.\n`);
    expect(scenario.description).toBe('Звонок владелице салонов.');
  });

  it('reports YAML that does not parse', () => {
    expect(() => parseScenarioFile('bad.yaml', 'key: [unclosed')).toThrow(/bad\.yaml: не разбирается/);
  });
});
