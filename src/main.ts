import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { GrammyError, HttpError } from 'grammy';
import { alertAdmins } from './bot/admin-alerts.js';
import { createBot, registerCommands } from './bot/index.js';
import type { BotContext } from './bot/context.js';
import { createI18n } from './bot/i18n.js';
import { createUpdateQueue, startPolling, type Polling } from './bot/polling.js';
import { telegramAudioDownloader } from './bot/helpers/telegram-file.js';
import { startRecovery } from './bot/recovery.js';
import { tellDisputes } from './bot/features/dispute.js';
import { tellJoins } from './bot/access-notices.js';
import { setRoleMenus } from './bot/command-menus.js';
import { resilientQueries } from './db/retry.js';
import { listLeaders } from './db/queries/users.js';
import { loadConfigOrExplain, type Config } from './config.js';
import { openDatabase } from './db/client.js';
import { InstanceLock } from './db/instance-lock.js';
import { StartupError } from './errors.js';
import { httpProbe, startHealthServer, type Probe } from './health.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createServices } from './services/create-services.js';
import { loadScenarios, ScenarioFileError } from './services/scenarios.js';
import { loadPrograms, ProgramFileError } from './services/programs.js';
import { NotificationWorker } from './services/notifications.js';
import { noticeDelivery } from './bot/notifications.js';
import { listenForErasures } from './services/erase-person.js';
import { createKnowledgeBase } from './services/knowledge-base/index.js';
import { startRetention } from './services/retention.js';
import type { SheetsAlert } from './services/sheets/outage-monitor.js';
import { KnowledgeBaseDirError } from './services/knowledge-base/indexer.js';
import { VectorStoreUnavailableError } from './services/knowledge-base/vector-store.js';

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

/**
 * The composition root: config → logger → database → services → bot. `stopWith` stops the whole
 * app, exit code 1, for what happens later and cannot be waited out (the instance lock taken by
 * another process, Telegram refusing the token).
 */
async function startApp(
  config: Config,
  logger: Logger,
  lifecycle: Lifecycle,
  { metrics, probes }: Observability,
  stopWith: (error: Error) => void,
): Promise<void> {
  const scenarios = await loadScenarios(config.scenariosDir).catch((error: unknown) => {
    throw error instanceof ScenarioFileError ? new StartupError(error.message, 2, { cause: error }) : error;
  });
  logger.info({ scenarios: scenarios.all.map((s) => s.key), dir: config.scenariosDir }, 'scenarios loaded');
  const programs = await loadPrograms(config.assignments.programsDir, scenarios).catch((error: unknown) => {
    throw error instanceof ProgramFileError ? new StartupError(error.message, 2, { cause: error }) : error;
  });

  const database = await openDatabase(config, logger);
  lifecycle.add({ name: 'database', stop: () => database.close() });
  logger.info({ database: database.description }, 'database ready, migrations applied');
  probes.database = () => database.ping();
  // Before anything acts as the bot (recovery, polling, even the knowledge base's Chroma): a second
  // process on this database stops here, naming the first.
  const instanceLock = await InstanceLock.acquire(database.db, {
    logger,
    databaseDescription: database.description,
    onLost: (error) => stopWith(error),
  });
  lifecycle.add({ name: 'instance lock', stop: () => instanceLock.release() });

  const knowledgeBase = await createKnowledgeBase(config, logger, { db: database.db });
  lifecycle.add({ name: 'knowledge base', stop: () => knowledgeBase.stop() });
  probes.chroma = httpProbe(new URL('/api/v2/heartbeat', knowledgeBase.chromaUrl).href);
  await requireKnowledgeBaseDir(config.knowledgeBaseDir);
  // Indexing never holds up polling: until it is done, retrieval answers from the previous index.
  indexInBackground(knowledgeBase, logger);

  // The export's alerts reach the admins through the bot, which is built from these services.
  let tellAdmins: (alert: SheetsAlert) => Promise<void> = () => Promise.resolve();
  const { services, training, assignments, conversationStore, sheetsExport, peopleCaches, usage } = createServices(config, {
    logger,
    metrics,
    db: database.db,
    scenarios,
    programs,
    knowledgeBase,
    alertAdmins: (alert) => tellAdmins(alert),
  });
  // Before any update is handled: an erasure by `npm run user:erase` must reach the caches at once.
  const erasures = await listenForErasures(database.db, peopleCaches, logger);
  lifecycle.add({ name: 'erasure listener', stop: () => erasures.stop() });
  const retention = startRetention({ db: database.db, retentionDays: config.retentionDays, logger });
  lifecycle.add({ name: 'transcript retention', stop: () => retention.stop() });
  logger.info(
    { endpoint: config.openai.baseUrl ?? 'OpenAI', clientModel: config.openai.clientModel, judgeModel: config.openai.judgeModel },
    'language model configured',
  );
  logger.info(
    {
      speechToText: { endpoint: config.speech.stt.baseUrl ?? 'OpenAI', model: config.speech.stt.model },
      textToSpeech: {
        endpoint: config.speech.tts.baseUrl ?? 'OpenAI',
        model: config.speech.tts.model,
        voice: config.speech.tts.voice,
      },
      maxSeconds: config.speech.maxSeconds,
    },
    'voice configured',
  );

  lifecycle.add({ name: 'chart thread', stop: () => services.charts.close() });
  const i18n = createI18n<BotContext>(config.defaultLocale);
  const bot = createBot({ config, logger, i18n, metrics, services, conversationStore });
  logger.info({ accessMode: config.access.mode, admins: config.access.adminUserIds.length }, 'access configured');

  await initTelegram(bot.init.bind(bot), config);
  tellAdmins = (alert) =>
    alertAdmins(
      {
        api: bot.api,
        db: database.db,
        i18n,
        adminUserIds: config.access.adminUserIds,
        defaultLocale: config.defaultLocale,
        logger,
      },
      alert,
    );
  // Added before polling, so stopped after it: the last turns' model usage is written too.
  lifecycle.add({ name: 'model usage', stop: () => usage.stop() });
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
  // Assignment notices, reminders, digests: durable in PostgreSQL, sent once even with two processes.
  const notices = new NotificationWorker({
    db: database.db,
    logger,
    quietHours: config.assignments.quietHours,
    timeZone: config.teamTimeZone,
    deliver: noticeDelivery({
      api: bot.api,
      i18n,
      defaultLocale: config.defaultLocale,
      timeZone: config.teamTimeZone,
      assignments,
      scenarios,
    }),
    beforeRound: (now) => assignments.housekeeping(now),
    pollMs: config.assignments.pollMs,
  });
  assignments.onScheduled = () => notices.notify();
  notices.start();
  lifecycle.add({ name: 'notifications', stop: () => notices.stop() });
  await registerCommands(bot.api, i18n, config.defaultLocale).catch((error: unknown) =>
    logger.warn({ err: error }, 'could not register the command menu'),
  );
  // Managers' and admins' own menus (per-chat scope): roles may have changed while the bot was down.
  // Beside the start, not before it: a busy database (too many connections) is waited out, not fatal.
  void resilientQueries(database.db, logger)('read the managers and admins for their menus', listLeaders)
    .then((leaders) => setRoleMenus(bot.api, (locale, key) => i18n.t(locale, key), config.defaultLocale, leaders, logger))
    .catch((error: unknown) => logger.warn({ err: error }, 'managers and admins keep their menus until the next start'));

  // What a crash interrupted is finished beside polling; each chat concerned is held until its own
  // work is done, so its new updates come after the reply it was owed.
  const updates = createUpdateQueue(bot, logger);
  const recovery = await startRecovery({
    api: bot.api,
    training,
    assignments: services.assignments,
    defaultLocale: config.defaultLocale,
    i18n,
    logger,
    download: telegramAudioDownloader({ api: bot.api, apiRoot: config.telegramApiRoot, token: config.botToken, fetch }),
    holdChat: (telegramId) => updates.hold(String(telegramId)),
  });
  // Added before polling, so stopped after it: held chats' updates still get their turn at shutdown.
  lifecycle.add({ name: 'start-up recovery', stop: () => withTimeout(recovery.stop(), config.shutdownTimeoutMs) });
  if (recovery.chats > 0) logger.info({ chats: recovery.chats }, 'finishing work that the last stop interrupted, beside polling');
  void recovery.finished.then((summary) => {
    if (summary.turnsAnswered + summary.evaluationsShown + summary.failed > 0) {
      logger.info(summary, 'finished work that the last stop interrupted');
    }
  });

  // People who joined by an invite but whose inviter was never told (a crash, Telegram down): told now, once.
  void tellJoins({
    api: bot.api,
    access: services.access,
    translate: (locale, key, variables) => i18n.t(locale, key, variables),
    defaultLocale: config.defaultLocale,
    logger,
  }).then(
    (told) => told > 0 && logger.info({ told }, 'told inviters of people the last stop left unannounced'),
    (error: unknown) => logger.warn({ err: error }, 'inviters left untold stay for the next start'),
  );

  // Disputes stored but never told to their manager (a crash, Telegram down) are told now, once.
  void tellDisputes({
    api: bot.api,
    team: services.team,
    scenarios,
    translate: (locale, key, variables) => i18n.t(locale, key, variables),
    defaultLocale: config.defaultLocale,
    logger,
  }).then(
    (told) => told > 0 && logger.info({ told }, 'told managers of disputes the last stop left untold'),
    (error: unknown) => logger.warn({ err: error }, 'disputes left untold stay for the next start'),
  );

  const polling = startPolling(bot, updates, { logger, onFatal: (error) => stopWith(explainPollingFailure(error)) });
  lifecycle.add({ name: 'telegram polling', stop: () => stopPolling(polling, config.shutdownTimeoutMs, logger) });
  // grammY types its signal with an AbortController shim; the runtime takes the standard one.
  type GrammySignal = Parameters<typeof bot.api.getMe>[0];
  probes.telegram = async (signal) =>
    polling.isReceiving() && (await bot.api.getMe(signal as GrammySignal)).id === bot.botInfo.id;
  logger.info({ bot: bot.botInfo.username, apiRoot: config.telegramApiRoot }, 'bot is polling for updates');
}

/** A missing knowledge base folder is an operator's mistake: said at start, not found later in a log. */
async function requireKnowledgeBaseDir(dir: string): Promise<void> {
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
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

async function initTelegram(init: () => Promise<void>, config: Config): Promise<void> {
  try {
    await init();
  } catch (error) {
    if (error instanceof GrammyError && error.error_code === 401) {
      throw new StartupError('Telegram отклонил BOT_TOKEN (401 Unauthorized). Проверьте токен у @BotFather.', 2, {
        cause: error,
      });
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

/** What stopped polling for good, for the operator. */
function explainPollingFailure(error: unknown): Error {
  if (error instanceof GrammyError && error.error_code === 401) {
    return new Error('Telegram перестал принимать BOT_TOKEN (401 Unauthorized): токен отозван или заменён у @BotFather.', {
      cause: error,
    });
  }
  return new Error(`Получение обновлений Telegram остановилось: ${(error as Error).message ?? String(error)}`, { cause: error });
}

/**
 * Stops taking updates, then gives the updates fetched (running or waiting in their chat's line)
 * `timeoutMs` to finish: stop() resolves once fetching stops, not when handlers finish.
 */
async function stopPolling(polling: Polling, timeoutMs: number, logger: Logger): Promise<void> {
  await polling.stop();
  const deadline = Date.now() + timeoutMs;
  while (polling.size() > 0 && Date.now() < deadline) await sleep(50);
  if (polling.size() > 0) logger.warn({ timeoutMs, inFlight: polling.size() }, 'updates still running at shutdown were cut off');
}

async function withTimeout(work: Promise<void>, timeoutMs: number): Promise<void> {
  const timer = sleep(timeoutMs, undefined, { ref: false });
  await Promise.race([work, timer]);
}

async function main(): Promise<void> {
  const config = loadConfigOrExplain();
  if (!config) process.exit(2);
  const logger = createLogger({
    level: config.logLevel,
    secrets: [config.botToken, config.openai.apiKey, config.speech.stt.apiKey, config.speech.tts.apiKey],
  });
  const lifecycle = new Lifecycle(logger);
  const metrics = createMetrics();
  const probes: Probes = { database: notStarted, telegram: notStarted };

  let stopping = false;
  const stopAll = (exitCode: number) => {
    lifecycle
      .stopAll()
      .then(() => process.exit(exitCode))
      .catch((error: unknown) => {
        logger.fatal({ err: error }, 'failed to shut down');
        process.exit(1);
      });
  };
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stopAll(0);
  };
  const stopWith = (error: Error) => {
    if (stopping) return;
    stopping = true;
    logger.fatal({ err: error.cause ?? error }, error.message);
    console.error(error.message);
    stopAll(1);
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
    await startApp(config, logger, lifecycle, { metrics, probes }, stopWith);
  } catch (error) {
    await lifecycle.stopAll();
    if (error instanceof StartupError) {
      logger.fatal({ err: error.cause ?? error }, error.message);
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
