/**
 * src/cli/download-model.ts is what the Docker build runs to bake the embedding model into the
 * image. No hub is reachable here: a loopback stand-in serves a tiny model the suite generates.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadModel, ModelDownloadError } from '../../src/cli/download-model.js';
import { createLogger } from '../../src/logger.js';
import { createEmbedder } from '../../src/services/knowledge-base/embeddings.js';
import { createTinyModel, type TinyModel } from '../support/tiny-model.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MODEL_ID = 'test-org/tiny-e5-small';

let model: TinyModel;
let modelsDir: string;

beforeAll(async () => {
  model = await createTinyModel({ texts: ['тариф бизнес скидка', 'цена старт'] });
  modelsDir = await mkdtemp(path.join(tmpdir(), 'download-model-'));
});

afterAll(async () => {
  await model?.cleanup();
  if (modelsDir) await rm(modelsDir, { recursive: true, force: true });
});

describe('downloadModel', () => {
  it('puts the model where the bot loads it from without any network', async () => {
    const hub = await serveModel(model.path, MODEL_ID);
    let result;
    try {
      result = await downloadModel({ model: MODEL_ID, modelsDir, remoteHost: hub.url });
    } finally {
      await hub.close();
    }
    expect(result.folder).toBe(path.join(modelsDir, MODEL_ID));
    expect(result.dimension).toBe(model.dimension);
    expect(existsSync(path.join(modelsDir, MODEL_ID, 'onnx/model.onnx'))).toBe(true);

    // The bot's own loader, with the hub gone: the baked files are all it needs.
    const embedder = await createEmbedder({
      model: MODEL_ID,
      modelsDir,
      logger: createLogger({ level: 'silent', pretty: false }),
      remoteHost: `http://127.0.0.1:${await closedPort()}/`,
    });
    expect(embedder.dimension).toBe(model.dimension);
    await embedder.dispose();
  });

  it('fails with a message that names the model, the folder and what to do when the hub is unreachable', async () => {
    const error = await downloadModel({
      model: 'Xenova/multilingual-e5-small',
      modelsDir,
      remoteHost: `http://127.0.0.1:${await closedPort()}`,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelDownloadError);
    const message = (error as Error).message;
    expect(message).toContain('Xenova/multilingual-e5-small');
    expect(message).toContain(modelsDir);
    expect(message).toContain('нет связи');
    expect(message).toContain('PRELOAD_MODEL=false');
  });

  it('refuses a local folder: there is nothing to download', async () => {
    await expect(downloadModel({ model: '/srv/models/e5', modelsDir })).rejects.toBeInstanceOf(ModelDownloadError);
  });
});

describe('the script, as the Docker build runs it', () => {
  const script = path.join(root, 'src/cli/download-model.ts');
  const tsx = ['--import', 'tsx', script];

  it('exits 1 with the plain message (no stack trace) when the hub is unreachable', async () => {
    const port = await closedPort();
    const { code, stderr } = await runNode(tsx.concat('Xenova/multilingual-e5-small'), {
      MODELS_DIR: modelsDir,
      HF_ENDPOINT: `http://127.0.0.1:${port}`,
    });
    expect(code).toBe(1);
    expect(stderr).toContain('Не удалось скачать модель эмбеддингов «Xenova/multilingual-e5-small»');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('skips a local folder and exits 0', async () => {
    const { code, stdout } = await runNode(tsx, { MODELS_DIR: modelsDir, EMBEDDING_MODEL: '/srv/models/e5' });
    expect(code).toBe(0);
    expect(stdout).toContain('локальная папка');
  });
});

function runNode(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A loopback stand-in for the hub: `/{id}/resolve/main/{file}` from a local folder. */
async function serveModel(folder: string, id: string) {
  const files = new Set(await listFiles(folder));
  const server = http.createServer((request, response) => {
    const url = decodeURIComponent(request.url ?? '');
    const prefix = `/${id}/resolve/main/`;
    const file = url.startsWith(prefix) ? url.slice(prefix.length) : '';
    if (!files.has(file)) {
      response.writeHead(404).end();
      return;
    }
    readFile(path.join(folder, file)).then(
      (body) => response.writeHead(200, { 'content-length': body.length }).end(body),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function listFiles(folder: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(path.join(folder, prefix), { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory() ? listFiles(folder, path.join(prefix, entry.name)) : Promise.resolve([path.join(prefix, entry.name)]),
    ),
  );
  return nested.flat();
}

function closedPort(): Promise<number> {
  const server = http.createServer();
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    }),
  );
}
