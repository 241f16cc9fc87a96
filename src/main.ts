import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, type RunnerHandle } from '@grammyjs/runner';
import { GrammyError, HttpError, type Api } from 'grammy';
import { createBot, registerCommands } from './bot/index.js';
import type { BotContext } from './bot/context.js';
import { createI18n } from './bot/i18n.js';
import { recoverInterruptedWork } from './bot/recovery.js';
import { loadConfigOrExplain, type Config } from './config.js';
import { openDatabase } from './db/client.js';
import { StartupError } from './errors.js';
import { httpProbe, startHealthServer, type Probe } from './health.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createServices } from './services/create-services.js';
import { loadScenarios, ScenarioFileError } from './services/scenarios.js';
import { createKnowledgeBase } from './services/knowledge-base/index.js';
import { KnowledgeBaseDirError } from './services/knowledge-base/indexer.js';
import { VectorStoreUnavailableError } from './services/vector-store.js';

/** A started part of the app and how to stop it; parts stop in reverse order of start. */
interface Part {
  readonly name: string;
  stop(): Promise<void>;
}

class Lifecycle {
  private readonly parts: Part[] = [];
  constructor(private readonly logger: Logger) {}
  add(part: Part): void {
    this.parts.push(part);
  }
  async stopAll(): Promise<void> {
    for (const part of this.parts.reverse()) {
      try {
        await part.stop();
        this.logger.info({ part: part.name }, 'stopped');
      } catch (error) {
        this.logger.error({ err: error, part: part.name }, 'failed to stop cleanly');
      }
    }
    this.parts.length = 0;
  }
}

/** What /readyz checks; a part's probe fails until that part has started. */
type Probes = Record<string, Probe>;
const notStarted: Probe = () => Promise.resolve(false);

interface Observability {
  readonly metrics: Metrics;
  readonly probes: Probes;
}

/** The composition root: config → logger → database → services → bot. */
async function startApp(config: Config, logger: Logger, lifecycle: Lifecycle, { metrics, probes }: Observability): Promise<void> {
  const scenarios = await loadScenarios(config.scenariosDir).catch((error: unknown) => {
    throw error instanceof ScenarioFileError ? new StartupError(error.message, 2, { cause: error }) : error;
  });
  logger.info({ scenarios: scenarios.all.map((s) => s.key), dir: config.scenariosDir }, 'scenarios loaded');

  const database = await openDatabase(config, logger);
  lifecycle.add({ name: 'database', stop: () => database.close() });
  logger.info({ database: database.description }, 'database ready, migrations applied');
  probes.database = () => database.ping();

  const knowledgeBase = await createKnowledgeBase(config, logger);
  lifecycle.add({ name: 'knowledge base', stop: () => knowledgeBase.stop() });
  probes.chroma = httpProbe(new URL('/api/v2/heartbeat', knowledgeBase.chromaUrl).href);
  await requireKnowledgeBaseDir(config.knowledgeBaseDir);
  // Indexing never holds up polling: until it is done, retrieval answers from the previous index.
  indexInBackground(knowledgeBase, logger);

  // The export's alerts reach the admins through the bot, which is built from these services.
  let tellAdmins: (text: string) => Promise<void> = () => Promise.resolve();
  const { services, training, conversationStore, sheetsExport } = createServices(config, {
    logger,
    metrics,
    db: database.db,
    scenarios,
    knowledgeBase,
    alertAdmins: (text) => tellAdmins(text),
  });
  logger.info(
    { endpoint: config.openai.baseUrl ?? 'OpenAI', clientModel: config.openai.clientModel, judgeModel: config.openai.judgeModel },
    'language model configured',
  );

  const i18n = createI18n<BotContext>(config.defaultLocale);
  const bot = createBot({ config, logger, i18n, metrics, services, conversationStore });
  logger.info({ accessMode: config.access.mode, admins: config.access.adminUserIds.length }, 'access configured');

  await initTelegram(bot.init.bind(bot), config);
  tellAdmins = (text) => notifyAdmins(bot.api, config, text, logger);
  if (sheetsExport) {
    sheetsExport.worker.start();
    lifecycle.add({
      name: 'sheets export',
      stop: async () => {
        await sheetsExport.worker.flush(Math.min(5_000, config.shutdownTimeoutMs));
        await sheetsExport.worker.stop();
      },
    });
    metrics.readPendingExportsWith(async () => (await sheetsExport.worker.queueState()).pending);
    logger.info({ sheets: sheetsExport.describe() }, 'Google Sheets export on');
  } else {
    logger.info({ reason: config.sheets.enabled ? undefined : config.sheets.reason }, 'Google Sheets export off');
  }
  await registerCommands(bot.api, i18n).catch((error: unknown) => logger.warn({ err: error }, 'could not register the command menu'));
  const recovered = await recoverInterruptedWork({ api: bot.api, training, defaultLocale: config.defaultLocale, i18n, logger });
  if (recovered.turnsAnswered + recovered.evaluationsShown + recovered.failed > 0) {
    logger.info(recovered, 'finished work that the last stop interrupted');
  }
  const runner: RunnerHandle = run(bot, {
    runner: { fetch: { allowed_updates: ['message', 'edited_message', 'callback_query'] } },
  });
  lifecycle.add({ name: 'telegram polling', stop: () => stopPolling(runner, config.shutdownTimeoutMs, logger) });
  // grammY types its signal with an AbortController shim; the runtime takes the standard one.
  type GrammySignal = Parameters<typeof bot.api.getMe>[0];
  probes.telegram = async (signal) => runner.isRunning() && (await bot.api.getMe(signal as GrammySignal)).id === bot.botInfo.id;
  logger.info({ bot: bot.botInfo.username, apiRoot: config.telegramApiRoot }, 'bot is polling for updates');
}

/** A missing knowledge base folder is an operator's mistake: said at start, not found later in a log. */
async function requireKnowledgeBaseDir(dir: string): Promise<void> {
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new KnowledgeBaseDirError(dir, undefined);
}

/**
 * Indexes the knowledge base beside polling (a big or hostile document takes its time in its own
 * thread). Every outcome ends in one log line: indexed, not indexed (Chroma unreachable), or failed.
 */
function indexInBackground(knowledgeBase: Awaited<ReturnType<typeof createKnowledgeBase>>, logger: Logger): void {
  logger.info('knowledge base indexing started; retrieval uses the previous index until it is done');
  knowledgeBase.indexer.run().then(
    () => undefined,
    (error: unknown) => {
      if (error instanceof VectorStoreUnavailableError) {
        logger.warn({ err: error }, 'knowledge base not indexed: Chroma unreachable; role-play runs without retrieval');
      } else {
        logger.error({ err: error }, 'knowledge base indexing failed; retrieval uses the previous index');
      }
    },
  );
}

/** A message to every admin; one failing admin does not stop the others. */
async function notifyAdmins(api: Api, config: Config, text: string, logger: Logger): Promise<void> {
  for (const id of config.access.adminUserIds) {
    await api.sendMessage(id, text).catch((error: unknown) => logger.warn({ err: error, adminId: id }, 'could not tell an admin'));
  }
}

async function initTelegram(init: () => Promise<void>, config: Config): Promise<void> {
  try {
    await init();
  } catch (error) {
    if (error instanceof GrammyError && error.error_code === 401) {
      throw new StartupError('Telegram отклонил BOT_TOKEN (401 Unauthorized). Проверьте токен у @BotFather.', 2, { cause: error });
    }
    if (error instanceof HttpError || error instanceof GrammyError) {
      throw new StartupError(
        `Telegram по адресу ${config.telegramApiRoot} недоступен: ${error.message}. Проверьте сеть или TELEGRAM_API_ROOT.`,
        1,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Stops taking updates, then gives the turns in flight `timeoutMs` to finish. The runner's own
 * stop() resolves once fetching stops, not when handlers finish, so its update count is watched.
 */
async function stopPolling(runner: RunnerHandle, timeoutMs: number, logger: Logger): Promise<void> {
  await runner.stop();
  const deadline = Date.now() + timeoutMs;
  while (runner.size() > 0 && Date.now() < deadline) await sleep(50);
  if (runner.size() > 0) logger.warn({ timeoutMs, inFlight: runner.size() }, 'updates still running at shutdown were cut off');
}

async function main(): Promise<void> {
  const config = loadConfigOrExplain();
  if (!config) process.exit(2);
  const logger = createLogger({ level: config.logLevel, secrets: [config.botToken, config.openai.apiKey] });
  const lifecycle = new Lifecycle(logger);
  const metrics = createMetrics();
  const probes: Probes = { database: notStarted, telegram: notStarted };

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    lifecycle
      .stopAll()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.fatal({ err: error }, 'failed to shut down');
        process.exit(1);
      });
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  try {
    if (config.healthPort > 0) {
      // Started first, stopped last: /healthz answers while the rest starts and while it stops.
      const health = await startHealthServer({ port: config.healthPort, logger, probes, registry: metrics.registry });
      lifecycle.add({ name: 'health server', stop: () => health.stop() });
      logger.info({ port: health.port }, 'health endpoints: /healthz /readyz /metrics');
    }
    await startApp(config, logger, lifecycle, { metrics, probes });
  } catch (error) {
    await lifecycle.stopAll();
    if (error instanceof StartupError) {
      logger.fatal({ err: error.cause }, error.message);
      console.error(error.message);
      process.exit(error.exitCode);
    }
    throw error;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
