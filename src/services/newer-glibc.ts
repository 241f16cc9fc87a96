/**
 * A newer glibc for the embedded Chroma server, fetched once without touching the system.
 *
 * The server's native bindings (the chromadb npm package) need glibc 2.39; Debian 12 has 2.36 and
 * Ubuntu 22.04 2.35. Their own package mirror carries a newer release's libc6, libstdc++6 and
 * libgcc-s1 (Debian 13 "trixie", Ubuntu 24.04 "noble"): `apt-get download` fetches them as an
 * ordinary user into a folder of ours (apt's own lists and cache untouched), `dpkg-deb -x` unpacks
 * them, and the server then runs under that folder's loader.
 *
 * This file imports only Node's own modules: the Docker build runs it alone (dist/cli/fetch-chroma-glibc.js)
 * before the application's code is copied into the image.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Chroma's bindings refuse older releases. */
export const chromaMinimumGlibc = '2.39';

/** A glibc folder the server can be run under. */
export interface NewerGlibc {
  readonly dir: string;
  /** The dynamic loader that starts a program with this glibc. */
  readonly loader: string;
  /** For the loader's `--library-path`: where libc, libstdc++ and libgcc_s were unpacked. */
  readonly libraryPath: string;
}

/** Why no newer glibc can be had here; the message says it in plain words (Russian, for the operator). */
export class NewerGlibcUnavailableError extends Error {
  override readonly name = 'NewerGlibcUnavailableError';
}

interface Platform {
  readonly triplet: string;
  readonly loaderName: string;
}

const platforms: Partial<Record<string, Platform>> = {
  x64: { triplet: 'x86_64-linux-gnu', loaderName: 'ld-linux-x86-64.so.2' },
  arm64: { triplet: 'aarch64-linux-gnu', loaderName: 'ld-linux-aarch64.so.1' },
};

/** The glibc this process runs on (undefined on other C libraries, such as musl). */
export function systemGlibcVersion(): string | undefined {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return report.header?.glibcVersionRuntime;
}

/** True where the system glibc is known and older than `minimum`. */
export function glibcOlderThan(version: string | undefined, minimum = chromaMinimumGlibc): boolean {
  const parse = (v: string) => /^(\d+)\.(\d+)/.exec(v)?.slice(1).map(Number);
  const have = version ? parse(version) : undefined;
  const want = parse(minimum);
  if (!have || !want) return false;
  const [haveMajor = 0, haveMinor = 0] = have;
  const [wantMajor = 0, wantMinor = 0] = want;
  return haveMajor < wantMajor || (haveMajor === wantMajor && haveMinor < wantMinor);
}

/** The unpacked glibc in `dir`, when it is complete. */
export function findNewerGlibc(dir: string, arch: string = process.arch): NewerGlibc | undefined {
  const platform = platforms[arch];
  if (!platform) return undefined;
  // Releases with a merged /usr unpack into usr/lib; older ones into lib/.
  const libraryDirs = [path.join(dir, 'usr/lib', platform.triplet), path.join(dir, 'lib', platform.triplet)].filter((d) =>
    existsSync(d),
  );
  const loader = libraryDirs.map((d) => path.join(d, platform.loaderName)).find((file) => existsSync(file));
  if (!loader) return undefined;
  const has = (name: string) => libraryDirs.some((d) => existsSync(path.join(d, name)));
  if (!has('libc.so.6') || !has('libstdc++.so.6') || !has('libgcc_s.so.1')) return undefined;
  return { dir, loader, libraryPath: libraryDirs.join(':') };
}

/** A package source as apt knows it. */
export interface AptSource {
  readonly uri: string;
  readonly suite: string;
  readonly components: readonly string[];
  readonly signedBy: string | undefined;
}

/** The `deb` entries of one-line (`.list`) and deb822 (`.sources`) files. */
export function parseAptSources(text: string, format: 'list' | 'sources'): AptSource[] {
  return format === 'list' ? parseOneLineSources(text) : parseDeb822Sources(text);
}

function parseOneLineSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const match = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!match) continue;
    const options = match[1] ?? '';
    const signedBy = /signed-by=(\S+)/.exec(options)?.[1];
    sources.push({
      uri: match[2] ?? '',
      suite: match[3] ?? '',
      components: (match[4] ?? '').split(/\s+/).filter(Boolean),
      signedBy,
    });
  }
  return sources;
}

function parseDeb822Sources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      const match = /^([\w-]+):\s*(.*)$/.exec(line);
      if (match) fields.set((match[1] ?? '').toLowerCase(), (match[2] ?? '').trim());
    }
    if (!(fields.get('types') ?? '').split(/\s+/).includes('deb') || fields.get('enabled') === 'no') continue;
    const components = (fields.get('components') ?? '').split(/\s+/).filter(Boolean);
    for (const uri of (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)) {
      for (const suite of (fields.get('suites') ?? '').split(/\s+/).filter(Boolean)) {
        sources.push({ uri, suite, components, signedBy: fields.get('signed-by') });
      }
    }
  }
  return sources;
}

/** Which newer release to borrow from, by distribution. */
interface Donor {
  readonly suite: string;
  readonly keyring: string;
}

/** Debian and its derivatives borrow from trixie, Ubuntu and its derivatives from noble. */
export function donorFor(osRelease: string): Donor | undefined {
  const field = (name: string) => new RegExp(`^${name}="?([^"\\n]*)"?`, 'm').exec(osRelease)?.[1]?.toLowerCase() ?? '';
  const family = [field('ID'), ...field('ID_LIKE').split(/\s+/)];
  if (family.includes('ubuntu')) return { suite: 'noble', keyring: '/usr/share/keyrings/ubuntu-archive-keyring.gpg' };
  if (family.includes('debian')) return { suite: 'trixie', keyring: '/usr/share/keyrings/debian-archive-keyring.gpg' };
  return undefined;
}

/** The main archive among the sources: not security, not -updates/-backports. */
export function mainArchive(sources: readonly AptSource[]): AptSource | undefined {
  return sources.find(
    (s) => s.components.includes('main') && !s.suite.includes('-') && !/security/.test(s.uri) && /^https?:/.test(s.uri),
  );
}

async function readAptSources(aptDir: string): Promise<AptSource[]> {
  const sources: AptSource[] = [];
  const list = path.join(aptDir, 'sources.list');
  if (existsSync(list)) sources.push(...parseAptSources(await readFile(list, 'utf8'), 'list'));
  const partsDir = path.join(aptDir, 'sources.list.d');
  const parts = existsSync(partsDir) ? (await readdir(partsDir)).sort() : [];
  for (const name of parts) {
    const format = name.endsWith('.list') ? 'list' : name.endsWith('.sources') ? 'sources' : undefined;
    if (format) sources.push(...parseAptSources(await readFile(path.join(partsDir, name), 'utf8'), format));
  }
  return sources;
}

export interface FetchOptions {
  /** A line for the person waiting ("fetching…", "ready"). */
  readonly progress?: (line: string) => void;
  /** Where apt's configuration lives; /etc/apt by default. */
  readonly aptDir?: string;
  readonly osReleaseFile?: string;
  readonly arch?: string;
}

/**
 * Fetches the newer glibc into `target` (once: a complete folder is reused). Throws
 * NewerGlibcUnavailableError where that is impossible: not Linux on x86-64 or arm64, no apt, no
 * Debian or Ubuntu mirror configured, the mirror unreachable.
 */
export async function fetchNewerGlibc(target: string, options: FetchOptions = {}): Promise<NewerGlibc> {
  const arch = options.arch ?? process.arch;
  const existing = findNewerGlibc(target, arch);
  if (existing) return existing;
  if (process.platform !== 'linux' || !platforms[arch]) {
    throw new NewerGlibcUnavailableError(
      `новую glibc можно скачать только на Linux x86-64 или arm64, а здесь ${process.platform} ${arch}`,
    );
  }
  const aptGet = which('apt-get');
  const dpkgDeb = which('dpkg-deb');
  if (!aptGet || !dpkgDeb) throw new NewerGlibcUnavailableError('здесь нет apt-get и dpkg-deb (нужна Debian или Ubuntu)');

  const osRelease = await readFile(options.osReleaseFile ?? '/etc/os-release', 'utf8').catch(() => '');
  const donor = donorFor(osRelease);
  if (!donor) throw new NewerGlibcUnavailableError('система не похожа на Debian или Ubuntu, а новую glibc берём из их архивов');
  const archive = mainArchive(await readAptSources(options.aptDir ?? '/etc/apt'));
  if (!archive) throw new NewerGlibcUnavailableError('в настройках apt не найден основной архив Debian или Ubuntu');

  const work = await mkdtemp(path.join(os.tmpdir(), 'newer-glibc-'));
  try {
    options.progress?.(`скачиваю glibc из ${donor.suite} (${archive.uri}, несколько мегабайт, один раз) в ${target}`);
    const debs = await downloadPackages(aptGet, work, {
      uri: archive.uri,
      suite: donor.suite,
      keyring: archive.signedBy ?? donor.keyring,
    });
    const partial = `${target}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    for (const deb of debs) await run(dpkgDeb, ['-x', deb, partial]);
    const unpacked = findNewerGlibc(partial, arch);
    if (!unpacked) throw new NewerGlibcUnavailableError(`в скачанных пакетах нет загрузчика и библиотек (${partial})`);
    await mkdir(path.dirname(target), { recursive: true });
    // Another process may have finished first: its complete folder is as good as ours.
    await rename(partial, target).catch(async (error: unknown) => {
      await rm(partial, { recursive: true, force: true });
      if (!findNewerGlibc(target, arch)) throw error;
    });
    const ready = findNewerGlibc(target, arch);
    if (!ready) throw new NewerGlibcUnavailableError(`после распаковки в ${target} нет glibc`);
    options.progress?.(`glibc для Chroma готова: ${target}`);
    return ready;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** apt-get update and download with a sources list, lists and cache of our own. */
async function downloadPackages(
  aptGet: string,
  work: string,
  source: { uri: string; suite: string; keyring: string },
): Promise<string[]> {
  const debsDir = path.join(work, 'debs');
  for (const dir of ['lists/partial', 'cache/archives/partial', 'debs']) await mkdir(path.join(work, dir), { recursive: true });
  const sourcesList = path.join(work, 'sources.list');
  const signedBy = existsSync(source.keyring) ? `[signed-by=${source.keyring}] ` : '';
  await writeFile(sourcesList, `deb ${signedBy}${source.uri} ${source.suite} main\n`);
  const aptOptions = [
    `Dir::Etc::sourcelist=${sourcesList}`,
    'Dir::Etc::sourceparts=-',
    `Dir::State::Lists=${path.join(work, 'lists')}`,
    `Dir::Cache=${path.join(work, 'cache')}`,
    'Dir::Cache::pkgcache=',
    'Dir::Cache::srcpkgcache=',
    'APT::Get::List-Cleanup=0',
    'Acquire::Retries=2',
    'Acquire::http::Timeout=30',
    'Acquire::https::Timeout=30',
    // apt's _apt sandbox user cannot write into our folders.
    ...(process.getuid?.() === 0 ? ['APT::Sandbox::User=root'] : []),
  ].flatMap((option) => ['-o', option]);
  try {
    await run(aptGet, ['-qq', ...aptOptions, 'update'], { timeout: 180_000 });
    await run(aptGet, ['-qq', ...aptOptions, 'download', 'libc6', 'libstdc++6', 'libgcc-s1'], { cwd: debsDir, timeout: 300_000 });
  } catch (error) {
    const detail = error instanceof Error ? (error as { stderr?: string }).stderr?.trim() || error.message : String(error);
    throw new NewerGlibcUnavailableError(`не удалось скачать пакеты из ${source.uri} (${source.suite}): ${lastLines(detail)}`, {
      cause: error,
    });
  }
  return (await readdir(debsDir)).filter((name) => name.endsWith('.deb')).map((name) => path.join(debsDir, name));
}

function lastLines(text: string): string {
  return text.split('\n').slice(-3).join(' ').slice(0, 400);
}

function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, command);
    if (existsSync(file)) return file;
  }
  return undefined;
}
