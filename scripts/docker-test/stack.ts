/**
 * The compose stack of docs/deploy.md, run for real: scripts/test-docker.sh calls this once the
 * engine, compose v2 and the base images are there.
 *
 * A copy of the project (what `git clone` would give, plus the working tree's changes) gets a test
 * `.env` and a test-only compose override (the tiny embedding model mounted read-only); the shipped
 * docker-compose.yml is used as it is. Telegram and the language model are the suite's loopback
 * stand-ins, listening on the docker0 bridge address so that the containers reach them.
 *
 * Environment (set by test-docker.sh): TEST_DOCKER_WORK, a temporary folder of this run; DOCKER, the
 * CLI that talks to the engine; TEST_DOCKER_ENGINE, its version.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml } from 'yaml';
import { readSampleKnowledgeBase } from '../../test/support/knowledge-base.js';
import { lastTraineeLine, scriptedModel, textOf } from '../../test/support/model-script.js';
import { OpenAiFake, type RecordedRequest } from '../../test/support/openai-fake.js';
import { TelegramFake, type BotMessage, type FakeUser } from '../../test/support/telegram-fake.js';
import { createTinyModel } from '../../test/support/tiny-model.js';

const root = path.resolve(import.meta.dirname, '../..');
const work = requiredEnv('TEST_DOCKER_WORK');
const docker = process.env.DOCKER ?? 'docker';
const project = path.join(work, 'project');
const projectName = 'sales-trainer-bot-docker-test';
const botToken = '123456789:AAFakeTokenForDockerTestOnly_012345';
const openAiKey = 'sk-test-docker-stack-0123456789abcdef';
const trainee = 7301;
const modelInContainer = '/opt/embedding-model/tiny-bot-model';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run scripts/test-docker.sh`);
  return value;
}

// ---- running commands ---------------------------------------------------------------------------

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** Runs a command to its end (or its timeout) and returns what it printed; never throws. */
function run(
  file: string,
  args: readonly string[],
  options: { timeoutMs?: number; cwd?: string; log?: string } = {},
): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd ?? project, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGINT' },
      (error, stdout, stderr) => {
        if (options.log) writeFileSync(options.log, `$ ${file} ${args.join(' ')}\n${stdout}\n${stderr}`);
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
      },
    );
  });
}

const composeFiles = () => [
  '-p',
  projectName,
  '--project-directory',
  project,
  '-f',
  path.join(project, 'docker-compose.yml'),
  '-f',
  path.join(work, 'compose.test.yml'),
];

/** `docker compose …` in the project copy, as an operator runs it there. */
function compose(args: readonly string[], options: { timeoutMs?: number; log?: string } = {}): Promise<Run> {
  return run(docker, ['compose', ...composeFiles(), ...args], options);
}

async function mustCompose(args: readonly string[], timeoutMs = 120_000): Promise<Run> {
  const result = await compose(args, { timeoutMs });
  if (result.code !== 0)
    throw new CheckFailure(
      `docker compose ${args.join(' ')} exited ${result.code}:\n${tail(result.stderr || result.stdout, 40)}`,
    );
  return result;
}

const tail = (text: string, lines: number) => text.trimEnd().split('\n').slice(-lines).join('\n');

// ---- checks and figures ---------------------------------------------------------------------------

class CheckFailure extends Error {}

interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly detail: string;
}

const results: CheckResult[] = [];
const figures: [string, string][] = [];
const figure = (name: string, value: string) => figures.push([name, value]);

function progress(line: string): void {
  const started = Number(process.env.TEST_DOCKER_STARTED ?? 0) * 1000 || Date.now();
  console.log(`test:docker [${String(Math.round((Date.now() - started) / 1000)).padStart(4)}s] ${line}`);
}

/** Runs one check; a failure is recorded with what explains it and the run goes on where it can. */
async function check(name: string, body: () => Promise<string>): Promise<boolean> {
  const started = performance.now();
  progress(`check: ${name}`);
  try {
    const detail = await body();
    results.push({ name, ok: true, seconds: (performance.now() - started) / 1000, detail });
    progress(`  ok — ${detail}`);
    return true;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    results.push({ name, ok: false, seconds: (performance.now() - started) / 1000, detail });
    progress(`  FAILED — ${detail}`);
    await dumpStack();
    return false;
  }
}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailure(message);
}

/** What explains a failure: the containers' state and the end of each one's log. */
async function dumpStack(): Promise<void> {
  const ps = await compose(['ps', '-a'], { timeoutMs: 30_000 });
  console.log(ps.stdout || ps.stderr);
  for (const [service, lines] of [
    ['postgres', 15],
    ['chroma', 15],
    ['bot', 60],
  ] as const) {
    const logs = await compose(['logs', '--no-color', '--tail', String(lines), service], { timeoutMs: 30_000 });
    console.log(`--- ${service}, last ${lines} log lines ---\n${(logs.stdout + logs.stderr).trimEnd()}`);
  }
}

// ---- the stack's state ----------------------------------------------------------------------------

interface ContainerState {
  readonly Service: string;
  readonly State: string;
  readonly Health: string;
  readonly ExitCode: number;
}

async function containers(): Promise<ContainerState[]> {
  const ps = await compose(['ps', '-a', '--format', 'json'], { timeoutMs: 30_000 });
  const text = ps.stdout.trim();
  if (!text) return [];
  // Compose 2.21+ prints one JSON object per line; older releases one array.
  return text.startsWith('[')
    ? (JSON.parse(text) as ContainerState[])
    : text.split('\n').map((line) => JSON.parse(line) as ContainerState);
}

/** Waits until every service of the stack is running and healthy; seconds it took. */
async function waitHealthy(services: readonly string[], timeoutMs: number, since = performance.now()): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const states = await containers();
    last = states.map((c) => `${c.Service}: ${c.State}${c.Health ? ` (${c.Health})` : ''}`).join(', ');
    const healthy = services.every((name) =>
      states.some((c) => c.Service === name && c.State === 'running' && c.Health === 'healthy'),
    );
    if (healthy) return (performance.now() - since) / 1000;
    const dead = states.find((c) => services.includes(c.Service) && (c.State === 'exited' || c.State === 'dead'));
    if (dead) throw new CheckFailure(`${dead.Service} ${dead.State} (exit ${dead.ExitCode}) while waiting for health`);
    if (Date.now() > deadline) throw new CheckFailure(`not all healthy after ${timeoutMs / 1000} s: ${last}`);
    await sleep(500);
  }
}

async function containerId(service: string): Promise<string> {
  const ps = await mustCompose(['ps', '-a', '-q', service], 30_000);
  const id = ps.stdout.trim().split('\n')[0];
  expect(id, `no container for ${service}`);
  return id;
}

async function psql(sql: string): Promise<string> {
  const result = await compose(['exec', '-T', 'postgres', 'psql', '-U', 'bot', '-d', 'bot', '-At', '-c', sql], {
    timeoutMs: 30_000,
  });
  if (result.code !== 0) throw new CheckFailure(`psql failed: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

async function botLogs(): Promise<string> {
  return (await compose(['logs', '--no-color', '--no-log-prefix', 'bot'], { timeoutMs: 30_000 })).stdout;
}

/** The bot's JSON log lines with a given message (compose may put terminal codes before each line). */
function logLines(logs: string, message: string): Record<string, unknown>[] {
  return logs
    .split('\n')
    .filter((line) => line.includes(`"msg":"${message}"`))
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>);
}

/** Waits until the bot's log (this container's, restarts included) has `count` lines with `message`. */
async function waitForLog(message: string, count: number, timeoutMs: number, logs = botLogs): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = logLines(await logs(), message);
    if (lines.length >= count) return lines;
    if (Date.now() > deadline)
      throw new CheckFailure(`the bot logged «${message}» ${lines.length} times within ${timeoutMs / 1000} s, not ${count}`);
    await sleep(500);
  }
}

// ---- the world around the stack -------------------------------------------------------------------

/**
 * The docker0 bridge's address on this host: the containers' way to the host's stand-ins. The
 * network's IPAM gateway where the engine reports it; some engines (20.10 on a fresh start) leave it
 * empty, and then the address is read from the interface itself.
 */
async function bridgeGateway(): Promise<string> {
  const inspect = await run(docker, ['network', 'inspect', 'bridge', '--format', '{{(index .IPAM.Config 0).Gateway}}'], {
    cwd: root,
  });
  const reported = inspect.stdout.trim();
  if (inspect.code === 0 && net.isIPv4(reported)) return reported;
  // (os.networkInterfaces() leaves out a bridge without containers: it has no carrier yet. A listen
  // on an address this host does not have fails with EADDRNOTAVAIL.)
  const ip = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', 'docker0'], { cwd: root });
  const address = /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(ip.stdout)?.[1];
  if (address && net.isIPv4(address)) return address;
  throw new Error(
    `the docker0 bridge has no IPv4 gateway (${inspect.stderr.trim() || reported || 'none reported'}; ip: ${ip.stderr.trim() || ip.stdout.trim() || 'nothing'})`,
  );
}

/** The project as `git clone` gives it, with the working tree's changes: tracked and new files, not ignored ones. */
async function copyProject(): Promise<number> {
  const listed = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root });
  if (listed.code !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  const files = [...new Set(listed.stdout.split('\0').filter(Boolean))].filter((file) => existsSync(path.join(root, file)));
  for (const file of files) {
    mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
    cpSync(path.join(root, file), path.join(project, file), { verbatimSymlinks: true });
  }
  return files.length;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface ComposeFile {
  services: Record<string, { stop_grace_period?: string }>;
}

/** Compose durations: `45s`, `1m30s`. */
function seconds(duration: string): number {
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    total += Number(amount) * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit as 'ms' | 's' | 'm' | 'h'];
  }
  return total;
}

// ---- the image ------------------------------------------------------------------------------------

interface BuildStep {
  readonly name: string;
  readonly cached: boolean;
}

/** The Dockerfile steps of a plain-progress BuildKit log, each with whether it came from the cache. */
function buildSteps(log: string): BuildStep[] {
  const names = new Map<string, string>();
  const cached = new Set<string>();
  for (const line of log.split('\n')) {
    const step = /^#(\d+) \[[^\]]*\d+\/\d+\] (.*)$/.exec(line);
    if (step) names.set(step[1]!, step[2]!);
    const hit = /^#(\d+) CACHED$/.exec(line);
    if (hit) cached.add(hit[1]!);
  }
  // A FROM step is never reported as cached: it only names the base.
  return [...names].filter(([, name]) => !name.startsWith('FROM ')).map(([id, name]) => ({ name, cached: cached.has(id) }));
}

async function build(label: string): Promise<{ seconds: number; steps: BuildStep[] }> {
  const log = path.join(work, `build-${label}.log`);
  const result = await run(docker, ['compose', ...composeFiles(), '--progress', 'plain', 'build'], { timeoutMs: 900_000, log });
  const output = result.stdout + result.stderr;
  if (result.code !== 0) throw new CheckFailure(`docker compose build failed (exit ${result.code}):\n${tail(output, 40)}`);
  return { seconds: result.seconds, steps: buildSteps(output) };
}

const megabytes = (bytes: number) => `${Math.round(bytes / 1_000_000)} MB`;

async function imageSize(image: string): Promise<number> {
  const inspect = await run(docker, ['image', 'inspect', image, '--format', '{{.Size}}'], { cwd: root });
  return Number(inspect.stdout.trim());
}

/** The three largest layers the project's Dockerfile adds, with what made them. */
async function largestProjectLayers(baseLayers: number): Promise<string> {
  const history = await run(
    docker,
    ['history', '--no-trunc', '--format', '{{.Size}}\t{{.CreatedBy}}', 'sales-trainer-bot:latest'],
    { cwd: root },
  );
  const rows = history.stdout.trim().split('\n');
  const own = rows.slice(0, Math.max(0, rows.length - baseLayers));
  return own
    .map((row) => {
      const [size = '', createdBy = ''] = row.split('\t');
      const what = createdBy
        .replace(/^\/bin\/sh -c (#\(nop\) )?/, '')
        .replace(/\s+/g, ' ')
        .slice(0, 60);
      return { size, what, bytes: parseSize(size) };
    })
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 3)
    .map((layer) => `${layer.size} ${layer.what}`)
    .join('; ');
}

function parseSize(text: string): number {
  const match = /([\d.]+)\s*([kMG]?B)/.exec(text);
  if (!match) return 0;
  return Number(match[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[match[2] as 'B' | 'kB' | 'MB' | 'GB'];
}

// ---- the dialogue -----------------------------------------------------------------------------------

const clientReply = (m: BotMessage) => m.text.startsWith('Клиент отвечает на:');

/** One trainee line and the client's answer to exactly it. */
async function turn(user: FakeUser, line: string, timeoutMs = 60_000): Promise<void> {
  user.sendText(line);
  const reply = await user.waitForMessage(clientReply, timeoutMs);
  expect(reply.text === `Клиент отвечает на: ${line}`, `the client answered «${reply.text}» to «${line}»`);
}

/**
 * Resolves once a newly started bot process polls Telegram: it registers its command menu once per
 * start (a running bot polls all the time, so a poll alone proves nothing), then polls.
 */
function nextStart(telegram: TelegramFake, timeoutMs: number): Promise<void> {
  const menusBefore = telegram.callsOf('setMyCommands').length;
  return telegram
    .waitUntil(
      () => {
        const menu = telegram.callsOf('setMyCommands')[menusBefore];
        return menu && telegram.callsOf('getUpdates').some((poll) => poll.time >= menu.time) ? true : undefined;
      },
      timeoutMs,
      () => 'no newly started bot polled Telegram',
    )
    .then(() => undefined);
}

const traineeLines = (request: RecordedRequest) =>
  request.messages.filter((m) => m.role === 'user').map((m) => textOf(m.content));

// ---- the run ------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const gateway = await bridgeGateway();
  const copied = await copyProject();
  progress(`project copied to ${project} (${copied} files); stand-ins listen on ${gateway} (docker0)`);

  const composeFile = parseYaml(readFileSync(path.join(project, 'docker-compose.yml'), 'utf8')) as ComposeFile;
  const stopGrace = seconds(composeFile.services.bot?.stop_grace_period ?? '10s');

  const model = await createTinyModel({
    texts: await readSampleKnowledgeBase(path.join(project, 'knowledge_base')),
    kind: 'one-hot',
    name: 'tiny-bot-model',
    parentDir: path.join(work, 'model'),
  });
  const [telegram, openai] = await Promise.all([
    TelegramFake.start({ token: botToken, host: gateway }),
    OpenAiFake.start({ apiKey: openAiKey, host: gateway }),
  ]);
  openai.respondWith(scriptedModel());
  const healthPort = await freePort();

  // The operator's .env (docs/deploy.md, section 5), pointed at the stand-ins.
  writeFileSync(
    path.join(project, '.env'),
    [
      `BOT_TOKEN=${botToken}`,
      `TELEGRAM_API_ROOT=${telegram.apiRoot}`,
      `OPENAI_API_KEY=${openAiKey}`,
      `OPENAI_BASE_URL=${openai.baseUrl}`,
      'ACCESS_MODE=allowlist',
      `ALLOWED_USER_IDS=${trainee}`,
      'POSTGRES_PASSWORD=DockerTest2024',
      `HEALTH_HOST_PORT=${healthPort}`,
      'TEAM_TIME_ZONE=Europe/Moscow',
      '',
    ].join('\n'),
  );
  // Test-only: no model download in the build, the tiny model mounted read-only instead.
  writeFileSync(
    path.join(work, 'compose.test.yml'),
    [
      'services:',
      '  bot:',
      '    build:',
      '      args:',
      '        PRELOAD_MODEL: "false"',
      '    environment:',
      `      EMBEDDING_MODEL: ${modelInContainer}`,
      '    volumes:',
      `      - ${model.path}:${modelInContainer}:ro`,
      '',
    ].join('\n'),
  );
  // For test-docker.sh's cleanup, should this process die before `down -v`.
  writeFileSync(path.join(work, 'compose-args'), `${composeFiles().join('\n')}\n`);

  // What an interrupted earlier run may have left: this test project's containers and volumes only.
  await compose(['down', '-v', '--remove-orphans'], { timeoutMs: 120_000 });
  await run(docker, ['rm', '-f', `${projectName}-embedded-chroma`], { cwd: root });

  const user = telegram.user(trainee, { firstName: 'Анна', languageCode: 'ru' });
  let built = false;
  let healthy = false;

  try {
    built = await check(
      'the image builds as docs/deploy.md says (docker compose build); a code change rebuilds only the code',
      async () => {
        const first = await build('first');
        const fromCache = first.steps.filter((s) => s.cached).length;
        const kind =
          fromCache === 0
            ? 'cold: no layer cached'
            : fromCache === first.steps.length
              ? 'warm: every layer cached'
              : `${fromCache} of ${first.steps.length} steps cached`;
        figure(`build (${kind})`, `${first.seconds.toFixed(1)} s`);
        // What an update brings (git pull): a change to the code only.
        appendFileSync(path.join(project, 'src/main.ts'), `\n// test:docker rebuild ${Date.now()}\n`);
        const second = await build('after-code-change');
        figure('rebuild after a code change', `${second.seconds.toFixed(1)} s`);
        const heavy = second.steps.filter((s) => /npm ci|fetch-chroma-glibc|download-model|apt-get/.test(s.name));
        expect(heavy.length >= 4, `the build log names too few dependency steps: ${second.steps.map((s) => s.name).join(' | ')}`);
        const rebuilt = heavy.filter((s) => !s.cached);
        expect(rebuilt.length === 0, `a code change re-ran: ${rebuilt.map((s) => s.name).join(' | ')}`);

        const size = await imageSize('sales-trainer-bot:latest');
        const base = await imageSize('node:22-bookworm-slim');
        const baseLayers = (await run(docker, ['history', '-q', 'node:22-bookworm-slim'], { cwd: root })).stdout
          .trim()
          .split('\n').length;
        figure(
          'image size',
          `${megabytes(size)} (base ${megabytes(base)}, project layers ${megabytes(size - base)}, ${Math.round(((size - base) / size) * 100)}%)`,
        );
        figure('largest project layers', await largestProjectLayers(baseLayers));
        return `${first.seconds.toFixed(0)} s, then ${second.seconds.toFixed(0)} s after a code change (npm ci, glibc, model and apt layers from cache)`;
      },
    );
    if (!built) return report();

    healthy = await check('docker compose up -d: postgres, chroma and bot all become healthy', async () => {
      const started = performance.now();
      await mustCompose(['up', '-d'], 180_000);
      const upSeconds = (performance.now() - started) / 1000;
      const total = await waitHealthy(['postgres', 'chroma', 'bot'], 150_000, started);
      figure('up -d to all healthy (empty volumes)', `${total.toFixed(1)} s (up -d itself ${upSeconds.toFixed(1)} s)`);
      const healthz = await fetch(`http://127.0.0.1:${healthPort}/healthz`, { signal: AbortSignal.timeout(5000) });
      expect(healthz.ok, `/healthz answered ${healthz.status}`);
      const readyz = await fetch(`http://127.0.0.1:${healthPort}/readyz`, { signal: AbortSignal.timeout(10_000) });
      const ready = (await readyz.json()) as { checks?: Record<string, { ok: boolean }> };
      expect(readyz.ok, `/readyz answered ${readyz.status}: ${JSON.stringify(ready)}`);
      for (const part of ['database', 'telegram', 'chroma']) expect(ready.checks?.[part]?.ok, `/readyz: ${part} not ok`);
      return `healthy ${total.toFixed(1)} s after up -d; /healthz 200, /readyz 200 (database, telegram, chroma ok) on 127.0.0.1:${healthPort}`;
    });
    if (!healthy) return report();

    await check('the image runs node dist/main.js as uid 1000 under tini, and never npm', async () => {
      const id = await mustCompose(['exec', '-T', 'bot', 'id', '-u'], 30_000);
      expect(id.stdout.trim() === '1000', `the bot runs as uid ${id.stdout.trim()}`);
      const top = await mustCompose(['top', 'bot'], 30_000);
      expect(/node dist\/main\.js/.test(top.stdout), `no node dist/main.js among the processes:\n${top.stdout}`);
      expect(!/\bnpm\b|\btsx\b/.test(top.stdout), `npm or tsx runs in the container:\n${top.stdout}`);
      expect(/docker-init|tini/.test(top.stdout), `no init process (tini):\n${top.stdout}`);
      const logs = await botLogs();
      expect(!/npm notice|npm warn|npm update/i.test(logs), 'npm printed to the bot log');
      expect(logLines(logs, 'bot is polling for updates').length === 1, 'the bot log has no "bot is polling for updates"');
      const loaded = logLines(logs, 'embedding model loaded')[0];
      expect(
        loaded?.source === 'local' && loaded.model === modelInContainer,
        `the model was not loaded from the mount: ${JSON.stringify(loaded)}`,
      );
      return 'uid 1000; processes: docker-init → node dist/main.js; no npm or tsx; the model from the read-only mount';
    });

    const playedTurns = ['Добрый день! Меня зовут Анна, компания «ОблакоСделка».', 'Сколько у вас точек продаж?'];
    const session = await check('a trainee starts a training through the Bot API emulator and the client answers', async () => {
      user.sendText('/start');
      await user.waitForMessage((m) => m.text.includes('Анна'), 30_000);
      const menu = await user.waitForMessage((m) => m.reply_markup !== undefined, 30_000);
      user.pressButton('sc:cold-call', menu.message_id);
      await user.waitForMessage((m) => m.text.includes('уровень сложности'), 30_000);
      user.pressButton('sd:cold-call:easy');
      await user.waitForMessage((m) => m.text.includes('началась'), 30_000);
      await user.waitForMessage((m) => m.visibleText.startsWith('🗂 Карточка клиента'), 30_000);
      const opening = await user.waitForNextMessage(60_000);
      for (const line of playedTurns) await turn(user, line);
      // Retrieval through the chroma container: /hint advises from a passage of the knowledge base.
      user.sendText('/hint');
      const hint = await user.waitForMessage((m) => m.text.startsWith('💡') || m.text.includes('База знаний'), 30_000);
      expect(hint.text.includes('Источник:'), `/hint gave no passage: «${hint.text}»`);
      const withKnowledge = openai.requests.some((r) => textOf(r.messages[0]?.content).includes('.md'));
      return `opening «${opening.text.slice(0, 40)}…», ${playedTurns.length} turns answered, /hint: ${/Источник: (.*)/.exec(hint.text)?.[1] ?? '?'}${withKnowledge ? ', knowledge in the client prompt' : ''}`;
    });

    await check('docker compose restart bot: the same session goes on', async () => {
      expect(session, 'no session to go on with');
      const polled = nextStart(telegram, 90_000);
      const restart = await mustCompose(['restart', 'bot'], 120_000);
      await polled;
      figure('docker compose restart bot', `${restart.seconds.toFixed(1)} s`);
      const line = 'Вернёмся к разговору: когда вам удобно созвониться?';
      const before = openai.requests.length;
      await turn(user, line);
      const request = openai.requests.slice(before).find((r) => lastTraineeLine(r) === line);
      expect(request, 'the model got no request for the turn after the restart');
      const history = traineeLines(request);
      for (const earlier of playedTurns)
        expect(history.includes(earlier), `the turn after the restart lost «${earlier}»: ${JSON.stringify(history)}`);
      const sessions = await psql('select count(*) from sessions');
      expect(sessions === '1', `${sessions} sessions in the database, not 1`);
      playedTurns.push(line);
      return `restart ${restart.seconds.toFixed(1)} s; the next turn carried the ${playedTurns.length - 1} earlier ones; one session in the database`;
    });

    await check(
      `docker compose stop bot with a turn in flight: the reply arrives and the bot exits 0 within ${stopGrace} s`,
      async () => {
        const line = 'А какие у вас условия оплаты?';
        openai.respondWith(scriptedModel(() => ({ content: `Клиент отвечает на: ${line}`, delayMs: 3000 })));
        const before = openai.requests.length;
        user.sendText(line);
        await telegram.waitUntil(
          () => (openai.requests.length > before ? true : undefined),
          60_000,
          () => 'the turn never reached the model',
        );
        const id = await containerId('bot');
        const stop = await mustCompose(['stop', 'bot'], (stopGrace + 30) * 1000);
        openai.respondWith(scriptedModel());
        const reply = await user.waitForMessage(clientReply, 5_000);
        expect(reply.text === `Клиент отвечает на: ${line}`, `the reply in flight was «${reply.text}»`);
        const state = await run(docker, ['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', id], { cwd: root });
        const [exitCode] = state.stdout.trim().split(' ');
        expect(exitCode === '0', `the bot exited ${exitCode}`);
        expect(stop.seconds < stopGrace, `stop took ${stop.seconds.toFixed(1)} s, the grace period is ${stopGrace} s`);
        const logs = await botLogs();
        expect(!logs.includes('updates still running at shutdown were cut off'), 'the bot cut a turn off at shutdown');
        figure('docker compose stop bot (turn in flight)', `${stop.seconds.toFixed(1)} s, exit 0`);
        playedTurns.push(line);
        return `stopped in ${stop.seconds.toFixed(1)} s, exit 0, the reply delivered first`;
      },
    );

    await check('/finish gives an evaluation «NN/100»', async () => {
      const polled = nextStart(telegram, 90_000);
      await mustCompose(['start', 'bot'], 60_000);
      await polled;
      user.sendText('/finish');
      const verdict = await user.waitForMessage((m) => /\d+\/100/.test(m.visibleText), 60_000);
      const score = /(\d+)\/100/.exec(verdict.visibleText)![1];
      const stored = await psql(
        "select count(*) from evaluations e join sessions s on s.id = e.session_id where s.status = 'finished'",
      );
      expect(stored === '1', `${stored} evaluations of finished sessions in the database`);
      const turns = await psql("select count(*) from messages where role = 'user'");
      expect(Number(turns) === playedTurns.length, `${turns} trainee messages stored, ${playedTurns.length} sent`);
      figure('evaluation', `${score}/100`);
      return `«${score}/100», ${turns} trainee turns stored once each`;
    });

    await check('/stats draws its picture inside the container (resvg and the bundled Cyrillic font)', async () => {
      user.sendText('/stats');
      const picture = await user.waitForMessage((m) => m.photo !== undefined, 60_000);
      const png = picture.photo!.bytes;
      expect(png.subarray(1, 4).toString('latin1') === 'PNG', 'the picture is not a PNG');
      expect(png.length > 20_000, `the picture is only ${png.length} bytes`);
      return `a ${Math.round(png.length / 1000)} kB PNG`;
    });

    await waitHealthy(['postgres', 'chroma', 'bot'], 60_000).catch(() => undefined);
    const stats = await run(docker, ['stats', '--no-stream', '--format', '{{.Name}}\t{{.MemUsage}}'], {
      cwd: root,
      timeoutMs: 60_000,
    });
    for (const row of stats.stdout
      .trim()
      .split('\n')
      .filter((r) => r.startsWith(projectName))) {
      const [name = '', usage = ''] = row.split('\t');
      figure(`memory: ${name.replace(`${projectName}-`, '').replace(/-\d+$/, '')}`, usage.split(' / ')[0]!);
    }

    await check('docker compose down, then up -d: the training is kept and the knowledge base is not indexed again', async () => {
      const indexedBefore = await waitForLog('knowledge base indexed', 1, 60_000);
      const chunks = indexedBefore[0]?.chunks;
      await mustCompose(['down'], 120_000);
      const started = performance.now();
      await mustCompose(['up', '-d'], 180_000);
      const total = await waitHealthy(['postgres', 'chroma', 'bot'], 150_000, started);
      figure('up -d to all healthy (existing volumes)', `${total.toFixed(1)} s`);
      const indexed = await waitForLog('knowledge base indexed', 1, 60_000);
      expect(indexed.length === 1, `the bot logged ${indexed.length} indexing runs after up`);
      const summary = indexed[0]!;
      expect(
        summary.added === 0 && summary.changed === 0 && Number(summary.unchanged) > 0,
        `indexed again: ${JSON.stringify(summary)}`,
      );
      user.sendText('/history');
      const history = await user.waitForMessage((m) => m.text.includes('Ваши последние тренировки'), 60_000);
      const score = figures.find(([name]) => name === 'evaluation')?.[1];
      expect(score && history.text.includes(score), `/history does not show ${score}: «${history.text}»`);
      return `healthy again in ${total.toFixed(1)} s; /history: «${history.text.split('\n')[1]}»; index: ${String(summary.unchanged)} files unchanged (first run: ${String(chunks)} chunks)`;
    });

    await check('the backup and restore commands of docs/deploy.md (pg_dump, pg_restore) keep the trainings', async () => {
      const dump = path.join(work, 'backup.dump');
      const composeLine = ['docker', 'compose', ...composeFiles()].map((word) => `'${word}'`).join(' ');
      // The commands exactly as section 11 prints them, with this project's compose files.
      const backup = await run(
        'bash',
        [
          '-c',
          `${composeLine} exec -T postgres sh -c 'pg_dump -U "$POSTGRES_USER" -d "$POSTGRES_DB" --format=custom' > '${dump}'`,
        ],
        { timeoutMs: 60_000 },
      );
      expect(backup.code === 0, `pg_dump failed: ${backup.stderr.trim()}`);
      const size = statSync(dump).size;
      expect(size > 1000, `the dump has ${size} bytes`);
      await mustCompose(['stop', 'bot'], (stopGrace + 30) * 1000);
      const restore = await run(
        'bash',
        [
          '-c',
          `${composeLine} exec -T postgres sh -c 'pg_restore -U "$POSTGRES_USER" -d "$POSTGRES_DB" --clean --if-exists' < '${dump}'`,
        ],
        { timeoutMs: 60_000 },
      );
      expect(restore.code === 0, `pg_restore failed: ${restore.stderr.trim()}`);
      const started = nextStart(telegram, 90_000);
      await mustCompose(['start', 'bot'], 60_000);
      await started;
      user.sendText('/history');
      const history = await user.waitForMessage((m) => m.text.includes('Ваши последние тренировки'), 60_000);
      const score = figures.find(([name]) => name === 'evaluation')?.[1];
      expect(score && history.text.includes(score), `/history after the restore does not show ${score}: «${history.text}»`);
      figure('pg_dump of the test database', `${Math.round(size / 1024)} KiB`);
      return `dump ${Math.round(size / 1024)} KiB; restored with the bot stopped; /history shows ${score} again`;
    });

    await check("the operator's commands of docs/deploy.md run in the container (kb-index, sheets-resync)", async () => {
      const index = await compose(['exec', '-T', 'bot', 'node', 'dist/cli/kb-index.js'], { timeoutMs: 120_000 });
      expect(index.code === 0, `node dist/cli/kb-index.js exited ${index.code}:\n${tail(index.stdout + index.stderr, 20)}`);
      expect(/Chroma: http:\/\/chroma:8000/.test(index.stdout), `kb-index did not use the chroma service:\n${index.stdout}`);
      const resync = await compose(['exec', '-T', 'bot', 'node', 'dist/cli/sheets-resync.js'], { timeoutMs: 60_000 });
      const said = resync.stdout + resync.stderr;
      expect(/Google-таблицу выключена/.test(said), `sheets-resync (no Google configured) said:\n${tail(said, 20)}`);
      expect(
        !/npm (notice|warn)|ERR_MODULE_NOT_FOUND|Cannot find module/.test(index.stdout + index.stderr + said),
        'a command printed npm or module errors',
      );
      return `kb-index: «${tail(index.stdout, 1)}»; sheets-resync without Google: exit ${resync.code} with the operator's message`;
    });

    await check(
      'without CHROMA_URL: the embedded Chroma on the glibc fetched at build time; a hub model in MODELS_DIR loads with no download',
      async () => {
        await mustCompose(['stop', 'bot'], (stopGrace + 30) * 1000);
        const name = `${projectName}-embedded-chroma`;
        // The tiny model where PRELOAD_MODEL=true leaves a hub model: MODELS_DIR/<id>, in transformers.js' cache layout.
        const hubId = 'test-docker/tiny-bot-model';
        const started = nextStart(telegram, 120_000);
        const runArgs = [
          'run',
          '-d',
          '--no-deps',
          '--name',
          name,
          '-e',
          'CHROMA_URL=',
          '-e',
          'HEALTH_PORT=0',
          '-e',
          `EMBEDDING_MODEL=${hubId}`,
        ];
        const container = await compose([...runArgs, '-v', `${model.path}:/app/models/${hubId}:ro`, 'bot'], {
          timeoutMs: 60_000,
        });
        try {
          expect(container.code === 0, `docker compose run failed: ${container.stderr.trim()}`);
          await started.catch(async (error: unknown) => {
            const logs = await run(docker, ['logs', '--tail', '40', name], { cwd: root });
            throw new CheckFailure(`${String(error)}\n${logs.stdout}${logs.stderr}`);
          });
          const containerLogs = async () => {
            const logs = await run(docker, ['logs', name], { cwd: root });
            return logs.stdout + logs.stderr;
          };
          // The knowledge base is indexed beside polling: wait for it.
          const [indexed] = await waitForLog('knowledge base indexed', 1, 90_000, containerLogs);
          const output = await containerLogs();
          const glibc = logLines(output, 'the system glibc is too old for Chroma: starting it under the newer glibc')[0];
          expect(
            glibc?.glibcDir === '/app/.cache/glibc',
            `the embedded Chroma did not use the image's glibc: ${JSON.stringify(glibc)}`,
          );
          expect(logLines(output, 'embedded Chroma started').length === 1, 'no "embedded Chroma started" in the log');
          // The fetcher's progress lines are logged as «Chroma: скачиваю glibc…», «Chroma: glibc … готова».
          expect(!/"msg":"Chroma: /.test(output), 'the container fetched a glibc at start-up');
          const loaded = logLines(output, 'embedding model loaded')[0];
          expect(loaded?.source === 'cache', `a hub model in MODELS_DIR was logged as loaded from «${String(loaded?.source)}»`);
          expect(indexed && Number(indexed.added) > 0, `the embedded Chroma indexed nothing: ${JSON.stringify(indexed)}`);
          return `embedded Chroma under /app/.cache/glibc, ${String(indexed.added)} files indexed into it; ${hubId} loaded from MODELS_DIR (source "cache")`;
        } finally {
          await run(docker, ['stop', '-t', '30', name], { cwd: root, timeoutMs: 60_000 });
          await run(docker, ['rm', '-f', name], { cwd: root });
        }
      },
    );
  } finally {
    const down = await compose(['down', '-v', '--remove-orphans'], { timeoutMs: 120_000 });
    if (down.code !== 0) progress(`docker compose down -v failed: ${down.stderr.trim()}`);
    await Promise.all([telegram.stop(), openai.stop()]);
    await model.cleanup();
  }
  const df = await run(docker, ['system', 'df', '--format', '{{.Type}}: {{.Size}}'], { cwd: root, timeoutMs: 60_000 });
  if (df.code === 0) figure('Docker disk use', df.stdout.trim().split('\n').join(', '));
  return report();
}

function report(): number {
  const started = Number(process.env.TEST_DOCKER_STARTED ?? 0);
  if (started > 0) {
    const total = Math.round(Date.now() / 1000 - started);
    figure('whole test:docker run', `${Math.floor(total / 60)} min ${total % 60} s`);
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  const width = Math.max(...figures.map(([name]) => name.length), 10);
  console.log('');
  console.log(
    `test:docker figures (engine ${process.env.TEST_DOCKER_ENGINE ?? '?'}; stand-in bases: PostgreSQL 15 inside postgres:18-alpine, Chroma 1.3.4 inside chromadb/chroma:1.5.9)`,
  );
  for (const [name, value] of figures) console.log(`  ${name.padEnd(width)}  ${value}`);
  console.log('');
  for (const result of results) {
    console.log(`  ${result.ok ? 'ok  ' : 'FAIL'}  ${result.name} (${result.seconds.toFixed(1)} s)`);
    if (!result.ok) console.log(`        ${result.detail.split('\n')[0]}`);
  }
  console.log(`test:docker: ${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

// SIGINT (test-docker.sh's timeout, or Ctrl+C): test-docker.sh takes the stack down (compose-args).
process.once('SIGINT', () => {
  progress('interrupted');
  process.exit(130);
});

const code = await main().catch((error: unknown) => {
  console.error(error);
  return 1;
});
process.exit(code);
