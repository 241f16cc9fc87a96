/**
 * What a production install (`npm ci --omit=dev`, the Docker image) carries, read from the lockfile
 * that decides it: the bot's runtime dependencies and nothing a developer alone needs.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

interface LockedPackage {
  readonly version?: string;
  readonly dev?: boolean;
  readonly link?: boolean;
  readonly resolved?: string;
}
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockedPackage>;
};

/** Every package `npm ci --omit=dev` installs, by name (nested copies included). */
const productionPackages = new Map(
  Object.entries(lock.packages)
    .filter(([location, entry]) => location.includes('node_modules/') && !entry.dev)
    .map(([location, entry]) => [location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length), entry]),
);

describe('a production install', () => {
  it('leaves out every development-only package: compilers, test tools, tsx, the pretty log printer', () => {
    const developmentOnly = [
      'typescript',
      'vitest',
      'tsx',
      'esbuild',
      'eslint',
      'prettier',
      'pino-pretty',
      'drizzle-kit',
      'fast-check',
    ];
    for (const name of [...developmentOnly, ...Object.keys(manifest.devDependencies)]) {
      expect(productionPackages.has(name), `${name} is installed in production`).toBe(false);
    }
    // Type packages that vega (the /stats and /team pictures) lists as its own runtime dependencies.
    const requiredByRuntimeDependencies = ['@types/estree', '@types/geojson'];
    const types = [...productionPackages.keys()].filter((name) => name.startsWith('@types/'));
    expect(types.filter((name) => !requiredByRuntimeDependencies.includes(name))).toEqual([]);
  });

  it('carries an empty stand-in for onnxruntime-web, the 140 MB browser runtime the Node build never loads', () => {
    expect(productionPackages.get('onnxruntime-web')).toMatchObject({ link: true, resolved: 'vendor/onnxruntime-web-stub' });
    const stubFiles = readdirSync(path.join(root, 'vendor/onnxruntime-web-stub'));
    expect(stubFiles.sort()).toEqual(['README.md', 'package.json']);
    // transformers.js' Node build inlines what it uses of onnxruntime-web and loads onnxruntime-node.
    const nodeBuild = readFileSync(path.join(root, 'node_modules/@huggingface/transformers/dist/transformers.node.mjs'), 'utf8');
    expect(nodeBuild).not.toMatch(/from ["']onnxruntime-web/);
    expect(nodeBuild).not.toMatch(/require(FromHere)?\(["']onnxruntime-web/);
    expect(nodeBuild).toContain('requireFromHere("onnxruntime-node")');
  });

  it('has every package the bot’s own code imports at run time', () => {
    const builtins = new Set(builtinModules);
    const missing: string[] = [];
    // Runs only when the bot runs from source with tsx; the build leaves it out.
    const sourceOnly = new Set([path.join(root, 'src/worker-bootstrap.mjs')]);
    for (const file of sourceFiles(path.join(root, 'src')).filter((f) => !sourceOnly.has(f))) {
      for (const name of runtimeImports(readFileSync(file, 'utf8'))) {
        if (builtins.has(name) || name.startsWith('node:')) continue;
        if (!(name in manifest.dependencies)) missing.push(`${path.relative(root, file)} imports ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return /\.(ts|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [file] : [];
  });
}

/** Package names of value imports (type-only imports vanish from the built JavaScript). */
function runtimeImports(source: string): string[] {
  const names: string[] = [];
  const patterns = [
    /^import\s+(?!type\s)[^'"]*?from\s+'([^'.][^']*)'/gm,
    /^import\s+'([^'.][^']*)'/gm,
    /import\(\s*'([^'.][^']*)'\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) {
      const specifier = match[1] ?? '';
      const parts = specifier.split('/');
      names.push(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier));
    }
  }
  return names;
}
