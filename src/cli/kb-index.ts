/**
 * `npm run kb:index`: indexes KNOWLEDGE_BASE_DIR into Chroma with a progress bar and prints a
 * summary. Exits non-zero only when indexing cannot run at all (configuration, Chroma, the model);
 * files that cannot be read are listed and skipped.
 */
import cliProgress from 'cli-progress';
import { loadConfigOrExplain } from '../config.js';
import { openDatabase, type DatabaseHandle } from '../db/client.js';
import { StartupError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createKnowledgeBase, type IndexSummary, type KnowledgeBase } from '../services/knowledge-base/index.js';
import { VectorStoreUnavailableError } from '../services/knowledge-base/vector-store.js';

/** Indexing needs neither the bot token nor the LLM key: stand-ins keep the shared config check. */
const NOT_NEEDED_FOR_INDEXING = {
  BOT_TOKEN: '0:not-needed-for-knowledge-base-indexing',
  OPENAI_API_KEY: 'not-needed-for-knowledge-base-indexing',
};

async function main(): Promise<number> {
  const config = loadConfigOrExplain(NOT_NEEDED_FOR_INDEXING);
  if (!config) return 2;
  // Log lines would break the progress bar, and the summary lists skipped files: errors only,
  // unless LOG_LEVEL asks for more.
  const logger = createLogger({ level: process.env.LOG_LEVEL ? config.logLevel : 'error' });

  console.log(`База знаний: ${config.knowledgeBaseDir}`);
  console.log(`Модель эмбеддингов: ${config.embeddingModel}`);
  console.log(`Chroma: ${config.chromaUrl ?? `встроенная (данные в ${config.dataDir}/chroma)`}`);

  // The lexical index lives in the bot's database: DATABASE_URL, or the embedded one under DATA_DIR.
  // Two connections: indexing writes one file at a time, beside a bot that needs its own pool.
  let database: DatabaseHandle;
  let knowledgeBase: KnowledgeBase;
  try {
    database = await openDatabase({ ...config, databasePoolSize: 2 }, logger);
  } catch (error) {
    return reportFatal(error);
  }
  console.log(`Лексический индекс: PostgreSQL ${database.description}`);
  try {
    knowledgeBase = await createKnowledgeBase(config, logger, { db: database.db });
  } catch (error) {
    await database.close();
    return reportFatal(error);
  }
  const stopOnSignal = () => {
    void knowledgeBase
      .stop()
      .then(() => database.close())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  const bar = new cliProgress.SingleBar(
    { format: 'Индексация |{bar}| {value}/{total} фрагментов · {file}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let barStarted = false;
  try {
    const summary = await knowledgeBase.indexer.run({
      onProgress: ({ chunksDone, chunksTotal, file }) => {
        if (!barStarted) {
          bar.start(chunksTotal, 0, { file });
          barStarted = true;
        }
        bar.update(chunksDone, { file });
      },
    });
    if (barStarted) bar.stop();
    console.log(describeSummary(summary));
    return 0;
  } catch (error) {
    if (barStarted) bar.stop();
    return reportFatal(error);
  } finally {
    await knowledgeBase.stop();
    await database.close();
  }
}

function describeSummary(summary: IndexSummary): string {
  const lines = [
    `Готово за ${summary.seconds.toFixed(1)} с.`,
    `  новых файлов: ${summary.added}${list(summary.files.added)}`,
    `  изменённых: ${summary.changed}${list(summary.files.changed)}`,
    `  удалённых: ${summary.removed}${list(summary.files.removed)}`,
    `  без изменений: ${summary.unchanged}`,
    `  фрагментов проиндексировано: ${summary.chunks}`,
  ];
  if (summary.failed.length > 0) {
    lines.push(`  не удалось прочитать (${summary.failed.length}), пропущены:`);
    for (const failure of summary.failed) lines.push(`    • ${failure.file} — ${failure.reason}`);
  }
  return lines.join('\n');
}

function list(files: readonly string[]): string {
  return files.length > 0 ? ` (${files.join(', ')})` : '';
}

function reportFatal(error: unknown): number {
  if (error instanceof StartupError) {
    console.error(error.message);
    return error.exitCode;
  }
  if (error instanceof VectorStoreUnavailableError) {
    console.error(`Chroma по адресу ${error.url} недоступна. Проверьте, что сервер запущен и CHROMA_URL указан верно.`);
    return 1;
  }
  console.error('Индексация не удалась:', error);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
