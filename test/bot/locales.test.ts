import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const localesDir = path.resolve(import.meta.dirname, '../../src/bot/locales');
const srcDir = path.resolve(import.meta.dirname, '../../src');

/** Every .ftl file of a locale: `ru.ftl` and any `ru/<feature>.ftl` (the i18n plugin merges them). */
function keysOf(locale: string): Set<string> {
  const files = [path.join(localesDir, `${locale}.ftl`)];
  const folder = path.join(localesDir, locale);
  if (statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
    files.push(
      ...readdirSync(folder)
        .filter((name) => name.endsWith('.ftl'))
        .map((name) => path.join(folder, name)),
    );
  }
  const keys = new Set<string>();
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(/^([a-z][\w-]*)\s*=/gm)) keys.add(match[1]!);
  }
  return keys;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? sourceFiles(file) : file.endsWith('.ts') ? [file] : [];
  });
}

describe('the translations', () => {
  it('have the same keys in Russian and English', () => {
    const ru = keysOf('ru');
    const en = keysOf('en');
    expect([...ru].filter((key) => !en.has(key))).toEqual([]);
    expect([...en].filter((key) => !ru.has(key))).toEqual([]);
  });

  it('hold every key the code asks for by name', () => {
    const ru = keysOf('ru');
    const missing: string[] = [];
    for (const file of sourceFiles(srcDir)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([a-z][\w-]*)'/g)) {
        if (!ru.has(match[1]!)) missing.push(`${path.relative(srcDir, file)}: ${match[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
