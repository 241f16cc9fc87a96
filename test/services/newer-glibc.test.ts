import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  donorFor,
  fetchNewerGlibc,
  findNewerGlibc,
  glibcOlderThan,
  mainArchive,
  NewerGlibcUnavailableError,
  parseAptSources,
} from '../../src/services/newer-glibc.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'newer-glibc-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('which systems need a newer glibc for Chroma', () => {
  it('compares release numbers, not strings', () => {
    expect(glibcOlderThan('2.36')).toBe(true);
    expect(glibcOlderThan('2.35')).toBe(true);
    expect(glibcOlderThan('2.39')).toBe(false);
    expect(glibcOlderThan('2.41')).toBe(false);
    expect(glibcOlderThan('3.0')).toBe(false);
    expect(glibcOlderThan(undefined)).toBe(false);
  });

  it('borrows from Debian 13 on Debian and its derivatives, from Ubuntu 24.04 on Ubuntu and its derivatives', () => {
    expect(donorFor('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n')?.suite).toBe('trixie');
    expect(donorFor('ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n')?.suite).toBe('noble');
    expect(donorFor('ID=linuxmint\nID_LIKE="ubuntu debian"\n')?.suite).toBe('noble');
    expect(donorFor('ID=raspbian\nID_LIKE=debian\n')?.suite).toBe('trixie');
    expect(donorFor('ID=fedora\n')).toBeUndefined();
    expect(donorFor('')).toBeUndefined();
  });
});

describe('finding the mirror the machine already uses', () => {
  it('reads deb822 .sources files (Debian 12, Ubuntu 24.04) and picks the main archive', () => {
    const sources = parseAptSources(
      [
        'Types: deb',
        'URIs: http://mirror.example/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
        '',
        'Types: deb',
        'URIs: http://mirror.example/debian-security',
        'Suites: bookworm-security',
        'Components: main',
      ].join('\n'),
      'sources',
    );
    expect(sources).toHaveLength(3);
    expect(mainArchive(sources)).toEqual({
      uri: 'http://mirror.example/debian',
      suite: 'bookworm',
      components: ['main'],
      signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
    });
  });

  it('reads one-line .list files (Ubuntu 22.04), skipping comments, security and updates', () => {
    const sources = parseAptSources(
      [
        '# deb http://old.example/ubuntu focal main',
        'deb http://security.example/ubuntu jammy-security main restricted',
        'deb [arch=amd64 signed-by=/etc/apt/keyrings/u.gpg] http://mirror.example/ubuntu jammy main restricted',
        'deb http://mirror.example/ubuntu jammy-updates main',
      ].join('\n'),
      'list',
    );
    expect(mainArchive(sources)).toMatchObject({
      uri: 'http://mirror.example/ubuntu',
      suite: 'jammy',
      signedBy: '/etc/apt/keyrings/u.gpg',
    });
  });

  it('finds nothing where no main archive is configured', () => {
    expect(
      mainArchive(parseAptSources('deb http://mirror.example/debian-security bookworm-security main\n', 'list')),
    ).toBeUndefined();
  });
});

describe('fetchNewerGlibc', () => {
  it('reuses a complete folder without downloading anything', async () => {
    const dir = path.join(scratch, 'complete');
    const lib = path.join(dir, 'usr/lib/x86_64-linux-gnu');
    await mkdir(lib, { recursive: true });
    for (const name of ['ld-linux-x86-64.so.2', 'libc.so.6', 'libstdc++.so.6', 'libgcc_s.so.1'])
      await writeFile(path.join(lib, name), '');
    const progress: string[] = [];
    const glibc = await fetchNewerGlibc(dir, {
      arch: 'x64',
      aptDir: path.join(scratch, 'no-apt'),
      progress: (line) => progress.push(line),
    });
    expect(glibc.loader).toBe(path.join(lib, 'ld-linux-x86-64.so.2'));
    expect(progress).toEqual([]);
  });

  it('takes a half-unpacked folder for missing', async () => {
    const dir = path.join(scratch, 'half');
    await mkdir(path.join(dir, 'usr/lib/x86_64-linux-gnu'), { recursive: true });
    await writeFile(path.join(dir, 'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2'), '');
    expect(findNewerGlibc(dir, 'x64')).toBeUndefined();
  });

  it('says why where it cannot fetch: another processor, or no archive in apt’s configuration', async () => {
    const other = await fetchNewerGlibc(path.join(scratch, 'riscv'), { arch: 'riscv64' }).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(NewerGlibcUnavailableError);
    expect((other as Error).message).toContain('x86-64 или arm64');

    const emptyApt = path.join(scratch, 'empty-apt');
    await mkdir(emptyApt, { recursive: true });
    const noArchive = await fetchNewerGlibc(path.join(scratch, 'never'), { aptDir: emptyApt }).catch((e: unknown) => e);
    expect(noArchive).toBeInstanceOf(NewerGlibcUnavailableError);
    expect((noArchive as Error).message).toContain('основной архив');
  });

  it('says why where the mirror does not answer', async () => {
    const apt = path.join(scratch, 'dead-mirror');
    await mkdir(apt, { recursive: true });
    await writeFile(path.join(apt, 'sources.list'), 'deb http://127.0.0.1:9/debian bookworm main\n');
    const error = await fetchNewerGlibc(path.join(scratch, 'unfetched'), { aptDir: apt }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NewerGlibcUnavailableError);
    expect((error as Error).message).toContain('не удалось скачать пакеты из http://127.0.0.1:9/debian');
  });
});
