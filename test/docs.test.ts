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

  it('README names the test command that .ci/run runs, exactly', () => {
    const command = read('.ci/run').trim().split('\n').at(-1)!;
    expect(command).toBe('npm test && npm run test:reliability');
    expect(read('README.md')).toContain(`\`\`\`bash\n${command}\n\`\`\``);
  });
});
