/**
 * Static checks of the Dockerfile, docker-compose.yml and .dockerignore: the structure operators rely
 * on, and the health-check commands run for real against loopback servers. No Docker engine is needed
 * here; `npm run test:docker` (scripts/test-docker.sh) builds and runs the real image and stack.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig, variableDocs, type EnvName } from '../../src/config.js';
import { startHealthServer, type HealthServer } from '../../src/health.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

/** The paths (relative to the repository) a shell pattern with `*` inside segments names. */
function expandGlob(pattern: string): string[] {
  return pattern.split('/').reduce<string[]>(
    (paths, segment) => {
      if (!segment.includes('*'))
        return paths.map((p) => (p ? `${p}/${segment}` : segment)).filter((p) => existsSync(path.join(root, p)));
      const matcher = new RegExp(
        `^${segment
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      );
      return paths.flatMap((p) =>
        readdirSync(path.join(root, p))
          .filter((name) => matcher.test(name))
          .map((name) => (p ? `${p}/${name}` : name)),
      );
    },
    [''],
  );
}

// ---- the Dockerfile, as Docker reads it -------------------------------------------------------

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** Index of the stage (FROM) it belongs to; -1 before the first FROM. */
  readonly stage: number;
}

/** Instructions with line continuations joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trimEnd();
    if (/^\s*#/.test(line) || (pending === '' && line.trim() === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    const match = /^(\w+)\s+([\s\S]*)$/.exec(whole);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    if (keyword === 'FROM') stage += 1;
    instructions.push({ keyword, args: match[2]!.trim(), stage });
  }
  return instructions;
}

/** `ENV A=1 B="x y"` and `ENV A 1` (and ARG) as name → value (undefined when no value is given). */
function assignments(instruction: Instruction): Map<string, string | undefined> {
  const result = new Map<string, string | undefined>();
  const args = instruction.args;
  if (instruction.keyword === 'ENV' && !/^\S+=/.test(args)) {
    const [name, ...rest] = args.split(/\s+/);
    result.set(name!, rest.join(' '));
    return result;
  }
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:=("[^"]*"|'[^']*'|\S*))?/g)) {
    const value = match[2];
    result.set(match[1]!, value === undefined ? undefined : value.replace(/^["']|["']$/g, ''));
  }
  return result;
}

const dockerfile = parseDockerfile(read('Dockerfile'));
const stages = dockerfile.filter((i) => i.keyword === 'FROM');
const finalStage = stages.length - 1;
const inStage = (stage: number, keyword: string) => dockerfile.filter((i) => i.stage === stage && i.keyword === keyword);
const globalArgs = new Map(dockerfile.filter((i) => i.stage === -1 && i.keyword === 'ARG').flatMap((i) => [...assignments(i)]));
const resolveImage = (from: Instruction) =>
  from.args
    .split(/\s+/)[0]!
    .replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => globalArgs.get((a ?? b)!) ?? '');
const finalEnv = new Map(inStage(finalStage, 'ENV').flatMap((i) => [...assignments(i)]));

/**
 * The `node_modules/…` paths the final stage's RUNs delete when building for `arch` (TARGETARCH):
 * plain `rm -rf …` and `if [ "$TARGETARCH" = <arch> ]; then rm -rf …; fi`.
 */
function prunedFor(arch: string): string[] {
  return inStage(finalStage, 'RUN')
    .flatMap((i) => i.args.split('&&'))
    .flatMap((command) => {
      const conditional = /^\s*if \[ "\$TARGETARCH" = "?(\w+)"? \]; then (.*); fi\s*$/.exec(command);
      if (conditional && conditional[1] !== arch) return [];
      const rm = /\brm -rf ([^;]+)/.exec(conditional ? conditional[2]! : command);
      return rm ? rm[1]!.trim().split(/\s+/) : [];
    })
    .filter((target) => target.startsWith('node_modules/'));
}

/** The modules a TypeScript file imports (static imports and re-exports). */
function importsOf(file: string): string[] {
  return [...read(file).matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]!);
}

/** The exec-form command of an instruction (`CMD [...]`, `HEALTHCHECK ... CMD [...]`). */
function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['));
  return JSON.parse(json) as string[];
}

// ---- docker-compose.yml, interpolated as compose does -----------------------------------------

interface ComposeService {
  image?: string;
  build?: { context: string; args?: Record<string, string> } | string;
  restart?: string;
  init?: boolean;
  depends_on?: Record<string, { condition?: string }> | string[];
  env_file?: string | (string | { path: string; required?: boolean })[];
  environment?: Record<string, string | number | null> | string[];
  volumes?: (string | { type: string; source?: string; target: string; read_only?: boolean })[];
  ports?: (string | number)[];
  healthcheck?: { test: string | string[]; interval?: string; timeout?: string; retries?: number; start_period?: string };
  stop_grace_period?: string;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const composeText = read('docker-compose.yml');
const compose = parseYaml(composeText) as ComposeFile;
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

/** `${VAR:-default}`, `${VAR-default}`, `${VAR}` and `$$` with values from `env` (compose reads .env). */
function interpolate(value: string, env: Readonly<Record<string, string>> = {}): string {
  return value
    .replace(/\$\{(\w+)(?:(:?-)([^}]*))?\}/g, (_, name: string, op: string | undefined, fallback: string | undefined) => {
      const set = env[name];
      if (op === ':-') return set ? set : (fallback ?? '');
      if (op === '-') return set ?? fallback ?? '';
      return set ?? '';
    })
    .replace(/\$\$/g, '$');
}

function environmentOf(svc: ComposeService): Record<string, string> {
  const env = svc.environment ?? {};
  const entries: [string, string][] = Array.isArray(env)
    ? env.map((line) => {
        const at = line.indexOf('=');
        return at === -1 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(env).map(([name, value]) => [name, value === null ? '' : String(value)]);
  return Object.fromEntries(entries);
}

interface Mount {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

function mountsOf(svc: ComposeService): Mount[] {
  return (svc.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string')
      return { source: volume.source ?? '', target: volume.target, readOnly: volume.read_only === true };
    const [source, target, mode] = volume.split(':');
    return { source: source!, target: target!, readOnly: (mode ?? '').split(',').includes('ro') };
  });
}

const isBindMount = (source: string) => /^(\.{1,2}\/|\/|~)/.test(source);

function envFilesOf(svc: ComposeService): string[] {
  const files = svc.env_file === undefined ? [] : Array.isArray(svc.env_file) ? svc.env_file : [svc.env_file];
  return files.map((file) => (typeof file === 'string' ? file : file.path));
}

function healthTest(svc: ComposeService): string[] {
  const test = svc.healthcheck?.test;
  if (test === undefined) return [];
  return typeof test === 'string' ? ['CMD-SHELL', test] : test;
}

/** Compose durations: `45s`, `1m30s`, `500ms`. */
function seconds(duration: string): number {
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    total += Number(amount) * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit as 'ms' | 's' | 'm' | 'h'];
  }
  return total;
}

const bot = service('bot');
const botEnvironment = environmentOf(bot);

/** What the bot process sees: the operator's .env, then compose's `environment`, which wins. */
function containerEnv(dotenv: Readonly<Record<string, string>>): Record<string, string> {
  const overrides = Object.fromEntries(Object.entries(botEnvironment).map(([name, value]) => [name, interpolate(value, dotenv)]));
  return { ...dotenv, ...overrides };
}

/** What the bot fixes in the container; everything else passes through from .env untouched. */
const FIXED_BY_COMPOSE = [
  'CHROMA_URL',
  'DATABASE_URL',
  'DATA_DIR',
  'HEALTH_PORT',
  'KNOWLEDGE_BASE_DIR',
  'MODELS_DIR',
  'PROGRAMS_DIR',
  'SCENARIOS_DIR',
];

// ---- running health checks -------------------------------------------------------------------

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 15_000 }, (error) => {
      resolve(error ? (typeof error.code === 'number' ? error.code : 1) : 0);
    });
  });
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const close = (server: http.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

async function closedPort(): Promise<number> {
  const server = http.createServer();
  const port = await listen(server);
  await close(server);
  return port;
}

// ==============================================================================================

describe('the Dockerfile', () => {
  it('builds in one stage and runs in another, on a slim Node image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const runtimeImage = resolveImage(stages[finalStage]!);
    expect(runtimeImage).toMatch(/^node:(2[0-9])(\.\d+)*-(bookworm|trixie)-slim$/);
    expect(Number(/^node:(\d+)/.exec(runtimeImage)![1])).toBeGreaterThanOrEqual(20);
  });

  it('compiles with dev dependencies and runs with production dependencies only', () => {
    const buildRuns = dockerfile.filter((i) => i.stage < finalStage && i.keyword === 'RUN').map((i) => i.args);
    expect(buildRuns.some((run) => /\bnpm ci\b/.test(run) && !/--omit=dev/.test(run))).toBe(true);
    expect(buildRuns.some((run) => /\bnpm run build\b/.test(run))).toBe(true);

    const runtimeRuns = inStage(finalStage, 'RUN').map((i) => i.args);
    expect(runtimeRuns.some((run) => /\bnpm ci\b.*--omit=dev/.test(run))).toBe(true);
    expect(runtimeRuns.some((run) => /\bnpm (install|i)\b/.test(run))).toBe(false);
    expect(finalEnv.get('NODE_ENV')).toBe('production');
  });

  it('skips the CUDA download of onnxruntime-node wherever dependencies are installed', () => {
    for (const from of stages) {
      const stage = stages.indexOf(from);
      if (!inStage(stage, 'RUN').some((i) => /\bnpm ci\b/.test(i.args))) continue;
      const env = new Map(inStage(stage, 'ENV').flatMap((i) => [...assignments(i)]));
      expect(env.get('ONNXRUNTIME_NODE_INSTALL_CUDA'), `stage ${from.args}`).toBe('skip');
    }
  });

  it('prunes only what exists and what the bot never loads from node_modules, per CPU', () => {
    for (const [arch, kept] of [
      ['amd64', 'x64'],
      ['arm64', 'arm64'],
    ] as const) {
      const pruned = prunedFor(arch);
      expect(pruned.length, arch).toBeGreaterThan(0);
      const removed = pruned.flatMap((pattern) => {
        const matches = expandGlob(pattern);
        expect(matches, `${pattern} matches nothing`).not.toEqual([]);
        return matches;
      });
      // What stays: this CPU's Linux binary of onnxruntime-node, and a Node build of transformers.js that needs nothing pruned.
      const binding = expandGlob(`node_modules/onnxruntime-node/bin/napi-v*/linux/${kept}/onnxruntime_binding.node`);
      expect(binding.length, arch).toBeGreaterThan(0);
      expect(
        binding.filter((file) => removed.some((gone) => file.startsWith(`${gone}/`))),
        arch,
      ).toEqual([]);
      const transformers = read('node_modules/@huggingface/transformers/dist/transformers.node.mjs');
      const loaded = [...transformers.matchAll(/(?:from |require\w*\(|import\()\s*["']([^"'.][^"']*)["']/g)].map((m) => m[1]!);
      for (const pattern of pruned) {
        const name = pattern.replace(/^node_modules\//, '').split('/')[0]!;
        if (pattern === `node_modules/${name}` || pattern === `node_modules/${name}/dist`) expect(loaded).not.toContain(name);
      }
    }
  });

  it('installs onnxruntime-web from the local stub the lockfile names, before npm ci in both stages', () => {
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { resolved?: string; link?: boolean }> };
    const stub = lock.packages['node_modules/onnxruntime-web'];
    expect(stub?.resolved ?? '').toMatch(/^vendor\/onnxruntime-web-stub$/);
    expect(existsSync(path.join(root, 'vendor/onnxruntime-web-stub/package.json'))).toBe(true);
    for (const stage of stages.map((_, index) => index)) {
      const install = dockerfile.find((i) => i.stage === stage && i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
      if (!install) continue;
      const vendor = dockerfile.find((i) => i.stage === stage && i.keyword === 'COPY' && /^vendor\s/.test(i.args));
      expect(vendor, `stage ${stage} copies vendor/`).toBeDefined();
      expect(dockerfile.indexOf(vendor!)).toBeLessThan(dockerfile.indexOf(install));
    }
    // The stub replaces the whole package: nothing of it is left to prune.
    expect(read('Dockerfile')).not.toContain('node_modules/onnxruntime-web');
  });

  it('runs as a user other than root', () => {
    const users = inStage(finalStage, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args.split(':')[0]!;
    expect(['root', '0']).not.toContain(user);
  });

  it('copies the build output and everything the bot reads at run time', () => {
    const copies = inStage(finalStage, 'COPY').map((i) => i.args);
    expect(copies.some((c) => /--from=\w+\s+\/app\/dist\s+\.\/dist/.test(c))).toBe(true);
    for (const folder of ['drizzle', 'scenarios', 'knowledge_base', 'calibration']) {
      expect(
        copies.some((c) => new RegExp(`^${folder}\\s+\\./${folder}$`).test(c)),
        folder,
      ).toBe(true);
    }
    expect(copies.some((c) => /package\.json\s+package-lock\.json/.test(c))).toBe(true);
    // dist/db/client.js finds the migrations at ../../drizzle: /app/drizzle next to /app/dist.
    expect(read('src/db/client.ts')).toContain("'../../drizzle'");
    expect(inStage(finalStage, 'WORKDIR').at(-1)?.args).toBe('/app');
  });

  it('copies only what exists and what .dockerignore lets into the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#') && !line.startsWith('!'));
    for (const copy of dockerfile.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
      const sources = copy.args
        .replace(/--\S+\s+/g, '')
        .split(/\s+/)
        .slice(0, -1);
      for (const source of sources) {
        expect(existsSync(path.join(root, source)), source).toBe(true);
        expect(ignored, `${source} is in .dockerignore`).not.toContain(source.split('/')[0]);
      }
    }
  });

  it('keeps dependencies, data, secrets and local state out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim());
    for (const entry of ['node_modules', 'data', '.env', '.git', 'dist', 'coverage', '.cache', 'secrets']) {
      expect(ignored, entry).toContain(entry);
    }
  });

  it('bakes no secret in: no ENV or ARG named like a token, key, password or secret carries a value', () => {
    for (const instruction of dockerfile.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG')) {
      for (const [name, value] of assignments(instruction)) {
        if (/TOKEN|KEY|PASSWORD|SECRET/i.test(name)) expect(value ?? '', `${instruction.keyword} ${name}`).toBe('');
      }
    }
    expect(read('Dockerfile')).not.toMatch(/\d{6,12}:[\w-]{30,}|\bsk-[\w-]{16,}|BEGIN [A-Z ]*PRIVATE KEY/);
  });

  it('keeps data and models in fixed folders and can pre-download the embedding model', () => {
    expect(finalEnv.get('DATA_DIR')).toBe('/app/data');
    expect(finalEnv.get('MODELS_DIR')).toBe('/app/models');
    const args = new Map(inStage(finalStage, 'ARG').flatMap((i) => [...assignments(i)]));
    expect(args.get('EMBEDDING_MODEL')).toBe(variableDocs.EMBEDDING_MODEL.default);
    expect(args.get('PRELOAD_MODEL')).toBe('true');
    const download = inStage(finalStage, 'RUN').find((i) => i.args.includes('node dist/cli/download-model.js'));
    expect(download?.args).toMatch(/PRELOAD_MODEL/);
    expect(download?.args).toContain('"$EMBEDDING_MODEL"');
    // The downloader comes alone from the build stage, before the code: a code change keeps the model layer.
    const copyDownloader = inStage(finalStage, 'COPY').find((i) =>
      /^--from=build \/app\/dist\/cli\/download-model\.js /.test(i.args),
    );
    const copyCode = inStage(finalStage, 'COPY').find((i) => /^--from=build \/app\/dist \.\/dist$/.test(i.args));
    expect(copyDownloader && copyCode).toBeTruthy();
    expect(dockerfile.indexOf(copyDownloader!)).toBeLessThan(dockerfile.indexOf(download!));
    expect(dockerfile.indexOf(download!)).toBeLessThan(dockerfile.indexOf(copyCode!));
    expect(importsOf('src/cli/download-model.ts').filter((name) => name.startsWith('.'))).toEqual([]);
    // Downloaded as the runtime user, so the model needs no chown (a second copy of the layer).
    const users = inStage(finalStage, 'USER');
    const downloadIndex = dockerfile.indexOf(download!);
    expect(users.some((u) => dockerfile.indexOf(u) < downloadIndex && !['root', '0'].includes(u.args))).toBe(true);
    expect(existsSync(path.join(root, 'src/cli/download-model.ts'))).toBe(true);
  });

  it('allocates with jemalloc, installed before LD_PRELOAD names it (memory is measured that way)', () => {
    const preload = finalEnv.get('LD_PRELOAD');
    expect(preload).toBe('/usr/local/lib/libjemalloc.so.2');
    const install = inStage(finalStage, 'RUN').find((i) => i.args.includes('libjemalloc2'));
    expect(install?.args).toMatch(/apt-get install -y --no-install-recommends libjemalloc2/);
    expect(install?.args).toContain(`ln -s "$(find /usr/lib -name libjemalloc.so.2 -print -quit)" ${preload}`);
    expect(install?.args).toContain(`test -e ${preload}`);
    const setsPreload = dockerfile.findIndex((i) => i.keyword === 'ENV' && assignments(i).has('LD_PRELOAD'));
    expect(dockerfile.indexOf(install!)).toBeLessThan(setsPreload);
    // Installed as root: the runtime user takes over only after.
    const firstUser = dockerfile.findIndex((i) => i.stage === finalStage && i.keyword === 'USER');
    expect(dockerfile.indexOf(install!)).toBeLessThan(firstUser);
  });

  it("fetches the embedded Chroma's newer glibc at build time, as root, before dependencies and code", () => {
    const fetch = inStage(finalStage, 'RUN').find((i) =>
      /\bnode dist\/cli\/fetch-chroma-glibc\.js \/app\/\.cache\/glibc$/.test(i.args),
    );
    expect(fetch, 'RUN node dist/cli/fetch-chroma-glibc.js /app/.cache/glibc').toBeDefined();
    const at = dockerfile.indexOf(fetch!);
    const firstUser = dockerfile.findIndex((i) => i.stage === finalStage && i.keyword === 'USER');
    expect(at).toBeLessThan(firstUser);
    const install = inStage(finalStage, 'RUN').find((i) => /\bnpm ci\b/.test(i.args))!;
    const copyCode = inStage(finalStage, 'COPY').find((i) => /^--from=build \/app\/dist \.\/dist$/.test(i.args))!;
    expect(at).toBeLessThan(dockerfile.indexOf(install));
    expect(at).toBeLessThan(dockerfile.indexOf(copyCode));
    // Only the fetcher and the one module it imports are copied for it; both import nothing else of ours.
    const copied = inStage(finalStage, 'COPY')
      .filter((i) => dockerfile.indexOf(i) < at && i.args.startsWith('--from=build'))
      .map((i) => i.args.split(/\s+/)[1]!);
    expect(copied.sort()).toEqual(['/app/dist/cli/fetch-chroma-glibc.js', '/app/dist/services/newer-glibc.js']);
    expect(importsOf('src/cli/fetch-chroma-glibc.ts').filter((name) => !name.startsWith('node:'))).toEqual([
      '../services/newer-glibc.js',
    ]);
    expect(importsOf('src/services/newer-glibc.ts').filter((name) => !name.startsWith('node:'))).toEqual([]);
    // Where the bot looks first: <project>/.cache/glibc, the project being /app in the image.
    expect(read('src/services/knowledge-base/chroma-server.ts')).toContain("path.join(projectRoot(), '.cache', 'glibc')");
  });

  it('runs built JavaScript only: no sources, no tsx, no npm at run time', () => {
    const copies = inStage(finalStage, 'COPY').map((i) => i.args);
    for (const source of ['src', 'scripts', 'tsconfig.json', 'tsconfig.build.json']) {
      expect(
        copies.some((c) =>
          c
            .replace(/--\S+\s+/g, '')
            .split(/\s+/)
            .slice(0, -1)
            .includes(source),
        ),
        source,
      ).toBe(false);
    }
    for (const instruction of inStage(finalStage, 'RUN').concat(inStage(finalStage, 'CMD'), inStage(finalStage, 'HEALTHCHECK'))) {
      expect(instruction.args, instruction.args.slice(0, 60)).not.toMatch(/\btsx\b|npm run|\bnpx\b/);
    }
    expect(finalEnv.get('NPM_CONFIG_UPDATE_NOTIFIER')).toBe('false');
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
  });

  it('builds without Docker Hub beyond its base image: no syntax directive, the base replaceable', () => {
    // `# syntax=…` makes BuildKit fetch a frontend image from Docker Hub on every build.
    expect(read('Dockerfile')).not.toMatch(/^#\s*syntax\s*=/im);
    expect(globalArgs.get('NODE_IMAGE')).toBe('node:22-bookworm-slim');
    for (const from of stages) expect(from.args.split(/\s+/)[0]).toBe('${NODE_IMAGE}');
  });

  it('exposes the health port, checks /healthz with node itself, and starts the compiled bot', () => {
    expect(inStage(finalStage, 'EXPOSE').map((i) => i.args)).toContain('8080');
    expect(finalEnv.get('HEALTH_PORT')).toBe('8080');
    const healthcheck = inStage(finalStage, 'HEALTHCHECK');
    expect(healthcheck).toHaveLength(1);
    // (healthy) within seconds of the start; --start-interval would need Docker Engine 25.
    expect(seconds(/--interval=(\S+)/.exec(healthcheck[0]!.args)?.[1] ?? '30s')).toBeLessThanOrEqual(5);
    expect(healthcheck[0]!.args).not.toContain('--start-interval');
    const command = execForm(healthcheck[0]!.args);
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain('/healthz');
    expect(command.join(' ')).toContain('127.0.0.1');
    expect(command.join(' ')).not.toMatch(/\bcurl\b|\bwget\b/);
    expect(execForm(inStage(finalStage, 'CMD').at(-1)!.args)).toEqual(['node', 'dist/main.js']);
    const pkg = JSON.parse(read('package.json')) as { main: string; scripts: Record<string, string> };
    expect(pkg.main).toBe('dist/main.js');
    expect(pkg.scripts.build).toContain('src/bot/locales');
  });
});

describe('the health-check commands, run for real', () => {
  let health: HealthServer;
  beforeAll(async () => {
    health = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ level: 'silent', pretty: false }),
      probes: {},
      registry: createMetrics().registry,
    });
  });
  afterAll(async () => {
    await health.stop();
  });

  const dockerfileCheck = () => execForm(inStage(finalStage, 'HEALTHCHECK')[0]!.args);
  const composeCheck = () => healthTest(bot).slice(1);
  const env = (port: string | number) => ({ PATH: process.env.PATH ?? '', HEALTH_PORT: String(port) });

  it.each([
    ['the Dockerfile', dockerfileCheck],
    ['docker-compose.yml', composeCheck],
  ])('%s: healthy while /healthz answers, unhealthy when nothing listens, skipped when HEALTH_PORT=0', async (_, check) => {
    const [command, ...args] = check();
    expect(command).toBe('node');
    expect(await run(process.execPath, args, env(health.port))).toBe(0);
    expect(await run(process.execPath, args, env(await closedPort()))).not.toBe(0);
    expect(await run(process.execPath, args, env(0))).toBe(0);
  });

  it("Chroma's check (bash's /dev/tcp) passes on a 200 heartbeat and fails otherwise", async () => {
    const test = healthTest(service('chroma'));
    expect(test.slice(0, 3)).toEqual(['CMD', 'bash', '-c']);
    const script = test[3]!;
    expect(script).toContain('/dev/tcp/127.0.0.1/8000');
    expect(script).toContain('/api/v2/heartbeat');
    expect(script).not.toMatch(/\bcurl\b|\bwget\b|\bpython/);

    let status = 200;
    const chroma = http.createServer((request, response) => {
      const ok = request.url === '/api/v2/heartbeat' && status === 200;
      response.writeHead(ok ? 200 : status === 200 ? 404 : status, { 'content-type': 'application/json' });
      response.end(ok ? '{"nanosecond heartbeat":1}' : '{}');
    });
    const port = await listen(chroma);
    try {
      const against = (p: number) => script.replace('/dev/tcp/127.0.0.1/8000', `/dev/tcp/127.0.0.1/${p}`);
      expect(await run('bash', ['-c', against(port)])).toBe(0);
      status = 503;
      expect(await run('bash', ['-c', against(port)])).not.toBe(0);
      expect(await run('bash', ['-c', against(await closedPort())])).not.toBe(0);
    } finally {
      await close(chroma);
    }
  });
});

describe('docker-compose.yml', () => {
  it('has postgres, chroma and bot, each with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['bot', 'chroma', 'postgres']);
    for (const name of ['postgres', 'chroma', 'bot']) {
      expect(healthTest(service(name)).length, name).toBeGreaterThan(1);
    }
    expect(healthTest(service('postgres')).join(' ')).toContain('pg_isready');
  });

  it('checks health every 5 s, so (healthy) shows seconds after a start, on Docker Engine 20.10 too', () => {
    for (const name of ['postgres', 'chroma', 'bot']) {
      const healthcheck = service(name).healthcheck;
      expect(seconds(healthcheck?.interval ?? '30s'), name).toBeLessThanOrEqual(5);
      expect(healthcheck, name).not.toHaveProperty('start_interval');
    }
  });

  it('runs a current PostgreSQL with its data on a named volume where that major version keeps it', () => {
    const postgres = service('postgres');
    const match = /^postgres:(\d+)(\.\d+)?(-alpine|-bookworm|-trixie)?$/.exec(postgres.image ?? '');
    expect(match, postgres.image).not.toBeNull();
    const major = Number(match![1]);
    expect(major).toBeGreaterThanOrEqual(17);
    const data = mountsOf(postgres).find((m) => m.target.startsWith('/var/lib/postgresql'));
    // 18+ images keep PGDATA in /var/lib/postgresql/<major>/docker and refuse a mount at .../data.
    expect(data?.target).toBe(major >= 18 ? '/var/lib/postgresql' : '/var/lib/postgresql/data');
    expect(isBindMount(data!.source)).toBe(false);
    const env = environmentOf(postgres);
    for (const name of ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB']) {
      expect(env[name], name).toMatch(/^\$\{\w+:-\w+\}$/);
    }
  });

  it('runs the official Chroma image, pinned to a 1.x release, with its data on a named volume', () => {
    const chroma = service('chroma');
    expect(chroma.image).toMatch(/^chromadb\/chroma:1\.\d+\.\d+$/);
    const data = mountsOf(chroma).find((m) => m.target === '/data');
    expect(data).toBeDefined();
    expect(isBindMount(data!.source)).toBe(false);
  });

  it('declares every named volume it uses', () => {
    const declared = Object.keys(compose.volumes ?? {});
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const mount of mountsOf(svc).filter((m) => !isBindMount(m.source))) {
        expect(declared, `${name}: ${mount.source}`).toContain(mount.source);
      }
    }
  });

  it('publishes nothing but the health port, and that on the loopback only', () => {
    expect(service('postgres').ports).toBeUndefined();
    expect(service('chroma').ports).toBeUndefined();
    const ports = (bot.ports ?? []).map((p) => interpolate(String(p)));
    expect(ports).toEqual(['127.0.0.1:8080:8080']);
  });

  it('starts the bot only once PostgreSQL and Chroma are healthy, and restarts it', () => {
    const dependsOn = bot.depends_on;
    expect(Array.isArray(dependsOn), 'depends_on needs conditions, not a list').toBe(false);
    const conditions = Object.fromEntries(
      Object.entries(dependsOn ?? {}).map(([name, dependency]) => [name, (dependency as { condition?: string }).condition]),
    );
    expect(conditions).toEqual({ postgres: 'service_healthy', chroma: 'service_healthy' });
    expect(['unless-stopped', 'always']).toContain(bot.restart);
    expect(bot.restart).toBe(service('postgres').restart);
    expect(bot.restart).toBe(service('chroma').restart);
  });

  it('builds the bot from this folder with the Dockerfile’s own build arguments', () => {
    expect(typeof bot.build === 'string' ? bot.build : bot.build?.context).toBe('.');
    const dockerArgs = new Set(dockerfile.filter((i) => i.keyword === 'ARG').flatMap((i) => [...assignments(i).keys()]));
    const composeArgs = typeof bot.build === 'object' ? Object.keys(bot.build.args ?? {}) : [];
    for (const arg of composeArgs) expect(dockerArgs, arg).toContain(arg);
    // The baked model is the one the bot will load: both read EMBEDDING_MODEL from .env.
    expect(typeof bot.build === 'object' && bot.build.args?.EMBEDDING_MODEL).toBe(
      `\${EMBEDDING_MODEL:-${variableDocs.EMBEDDING_MODEL.default}}`,
    );
  });

  it('gives the bot longer to stop than SHUTDOWN_TIMEOUT_MS lets turns run', () => {
    const shutdownSeconds = Number(variableDocs.SHUTDOWN_TIMEOUT_MS.default) / 1000;
    expect(seconds(bot.stop_grace_period ?? '10s')).toBeGreaterThanOrEqual(shutdownSeconds + 15);
  });

  it('mounts the knowledge base, scenarios and key file read-only where the bot looks for them', () => {
    const mounts = mountsOf(bot);
    const at = (target: string) => mounts.find((m) => m.target === target);
    const env = containerEnv({});
    for (const [source, variable] of [
      ['./knowledge_base', 'KNOWLEDGE_BASE_DIR'],
      ['./scenarios', 'SCENARIOS_DIR'],
    ] as const) {
      const mount = at(env[variable]!);
      expect(mount, variable).toMatchObject({ source, readOnly: true });
    }
    expect(at('/app/secrets')).toMatchObject({ source: './secrets', readOnly: true });
    const models = at(env.MODELS_DIR!);
    expect(models && !isBindMount(models.source)).toBe(true);
    expect(env.MODELS_DIR).toBe(finalEnv.get('MODELS_DIR'));
    expect(env.DATA_DIR).toBe(finalEnv.get('DATA_DIR'));
    expect(mounts.some((m) => m.target === env.DATA_DIR && !isBindMount(m.source))).toBe(true);
    expect(mounts.some((m) => m.target === '/app/logs' && !isBindMount(m.source))).toBe(true);
  });

  it('passes .env to the bot and fixes only what ties it to this file’s services and folders', () => {
    expect(envFilesOf(bot)).toEqual(['.env']);
    expect(Object.keys(botEnvironment).sort()).toEqual(FIXED_BY_COMPOSE);
    for (const [name, value] of Object.entries(botEnvironment)) {
      expect(interpolate(value), name).not.toBe('');
    }
    expect(composeText).not.toMatch(/\d{6,12}:[\w-]{30,}|\bsk-[\w-]{16,}|BEGIN [A-Z ]*PRIVATE KEY/);
  });

  it('points DATABASE_URL at the postgres service with its own credentials, and CHROMA_URL at chroma', () => {
    const dotenv = { POSTGRES_USER: 'trainer', POSTGRES_PASSWORD: 'S3cretPass', POSTGRES_DB: 'sales' };
    for (const values of [{}, dotenv]) {
      const env = containerEnv(values);
      const postgres = Object.fromEntries(
        Object.entries(environmentOf(service('postgres'))).map(([name, value]) => [name, interpolate(value, values)]),
      );
      const url = new URL(env.DATABASE_URL!);
      expect(url.protocol).toBe('postgres:');
      expect(url.hostname).toBe('postgres');
      expect(url.port).toBe('5432');
      expect(url.username).toBe(postgres.POSTGRES_USER);
      expect(url.password).toBe(postgres.POSTGRES_PASSWORD);
      expect(url.pathname).toBe(`/${postgres.POSTGRES_DB}`);
      expect(env.CHROMA_URL).toBe('http://chroma:8000');
    }
  });

  it('lets every documented variable reach the bot: .env.example names it and compose passes it on', () => {
    const example = read('.env.example');
    const names = Object.keys(variableDocs) as EnvName[];
    for (const name of names) {
      expect(example, name).toMatch(new RegExp(`^(# )?${name}=`, 'm'));
    }
    // An operator's .env with every variable set: what compose does not fix arrives unchanged.
    const dotenv = Object.fromEntries(names.map((name) => [name, variableDocs[name].example]));
    const env = containerEnv(dotenv);
    for (const name of names) {
      if (FIXED_BY_COMPOSE.includes(name)) continue;
      expect(env[name], name).toBe(dotenv[name]);
    }
    expect(() => loadConfig(env)).not.toThrow();
  });

  it('starts the bot from .env.example as it is, pointed at the compose services', () => {
    const dotenv = parseEnv(read('.env.example')) as Record<string, string>;
    const config = loadConfig(containerEnv(dotenv));
    expect(new URL(config.databaseUrl!).hostname).toBe('postgres');
    expect(config.chromaUrl).toBe('http://chroma:8000');
    expect(config.knowledgeBaseDir).toBe('/app/knowledge_base');
    expect(config.scenariosDir).toBe('/app/scenarios');
    expect(config.modelsDir).toBe('/app/models');
    expect(config.healthPort).toBe(8080);
    expect(config.embeddingModel).toBe(variableDocs.EMBEDDING_MODEL.default);
  });
});
