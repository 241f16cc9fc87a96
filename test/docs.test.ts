import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, variableDocs, type EnvName } from '../src/config.js';
import { extractConfigTable, renderConfigTable, renderEnvExampleEntry, requiredDefault } from '../scripts/config-docs.js';

const root = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const names = Object.keys(variableDocs) as EnvName[];

describe('operator documentation', () => {
  it("README's configuration table is the one generated from the schema", () => {
    expect(extractConfigTable(read('README.md'))).toBe(renderConfigTable());
  });

  it('.env.example documents every variable as the schema does', () => {
    const example = `\n${read('.env.example')}\n`;
    for (const name of names) expect(example, name).toContain(`\n${renderEnvExampleEntry(name)}\n`);
  });

  it('the documented defaults are the ones the schema applies', () => {
    for (const name of names) {
      const documented = variableDocs[name].default;
      const applied = configSchema.in.shape[name].safeParse(undefined);
      if (!applied.success) {
        expect(documented, name).toBe(requiredDefault);
      } else if (typeof applied.data === 'string' || typeof applied.data === 'number') {
        expect(documented, name).toBe(String(applied.data));
      } else {
        // Unset or an empty list: the doc says in words what happens («встроенный», «пусто»…).
        expect(documented, name).not.toBe(requiredDefault);
      }
    }
  });

  it('every documented example is a value the schema accepts', () => {
    for (const name of names) {
      expect(configSchema.in.shape[name].safeParse(variableDocs[name].example).success, name).toBe(true);
    }
  });

  it('README names the test command that .ci/run runs, exactly', () => {
    const command = 'npm test && npm run test:reliability';
    // In a subshell, so that under `set -e` its failure fails the run.
    expect(read('.ci/run').split('\n')).toContain(`(${command})`);
    expect(read('README.md')).toContain(`\`\`\`bash\n${command}\n\`\`\``);
  });
});
