import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { variableDocs } from '../src/config.js';
import { extractConfigTable, renderConfigTable } from '../scripts/config-docs.js';

const root = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

describe('operator documentation', () => {
  it("README's configuration table is the one generated from the schema", () => {
    expect(extractConfigTable(read('README.md'))).toBe(renderConfigTable());
  });

  it('.env.example documents every variable with a comment', () => {
    const example = read('.env.example');
    for (const name of Object.keys(variableDocs)) {
      expect(example, name).toMatch(new RegExp(`^# .+\\n#? ?${name}=`, 'm'));
    }
  });

  it('README names the one test command that .ci/run runs', () => {
    expect(read('README.md')).toContain('```bash\nnpm test\n```');
    expect(read('.ci/run').trim().split('\n').at(-1)).toBe('npm test');
  });
});
