/**
 * `npm run kb:recall [-- --set <labelled.json>] [--dir <knowledge base>]`: how often retrieval puts
 * the answering passage in the top 3, dense alone, lexical alone and hybrid, for the EMBEDDING_MODEL
 * configured (downloaded into MODELS_DIR as the bot would). By default the repository's labelled set
 * over its sample knowledge base (docs/retrieval.md). Everything is indexed into a Chroma and a
 * PostgreSQL of its own in a temporary folder: the bot's data is never touched.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigOrExplain } from '../config.js';
import { openDatabase, type DatabaseHandle } from '../db/client.js';
import { StartupError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createKnowledgeBase, type KnowledgeBase } from '../services/knowledge-base/index.js';
import { formatRecallTable, measureRecall, readLabelledSet, type Recall } from '../services/knowledge-base/recall.js';
import { createRetriever } from '../services/knowledge-base/retriever.js';

const NOT_NEEDED_FOR_MEASURING = {
  BOT_TOKEN: '0:not-needed-for-measuring-recall',
  OPENAI_API_KEY: 'not-needed-for-measuring-recall',
};

const repository = path.resolve(import.meta.dirname, '../..');
const usage = 'Запуск: npm run kb:recall [-- --set <размеченный набор.json>] [--dir <папка базы знаний>]';

async function main(): Promise<number> {
  let options: { readonly set: string; readonly dir: string };
  try {
    const { values } = parseArgs({ options: { set: { type: 'string' }, dir: { type: 'string' } }, strict: true });
    options = {
      set: path.resolve(values.set ?? path.join(repository, 'test/fixtures/kb-questions.json')),
      dir: path.resolve(values.dir ?? path.join(repository, 'knowledge_base')),
    };
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const config = loadConfigOrExplain(NOT_NEEDED_FOR_MEASURING);
  if (!config) return 2;
  const logger = createLogger({ level: process.env.LOG_LEVEL ? config.logLevel : 'error' });
  const set = await readLabelledSet(options.set);

  console.log(`Модель эмбеддингов: ${config.embeddingModel}`);
  console.log(`База знаний: ${options.dir}`);
  console.log(
    `Размеченный набор: ${options.set} (${set.length}: вопросов ${count(set, 'question')}, утверждений ${count(set, 'claim')})`,
  );

  const dataDir = await mkdtemp(path.join(tmpdir(), 'kb-recall-'));
  let database: DatabaseHandle | undefined;
  let knowledgeBase: KnowledgeBase | undefined;
  try {
    database = await openDatabase({ databaseUrl: undefined, dataDir }, logger);
    knowledgeBase = await createKnowledgeBase(
      { ...config, chromaUrl: undefined, dataDir, knowledgeBaseDir: options.dir },
      logger,
      {
        db: database.db,
      },
    );
    const summary = await knowledgeBase.indexer.run();
    console.log(`Проиндексировано: ${summary.chunks} фрагментов за ${summary.seconds.toFixed(1)} с`);
    for (const failure of summary.failed) console.log(`  пропущен ${failure.file}: ${failure.reason}`);

    const { embedder, store, lexical, retriever } = knowledgeBase;
    const dense = createRetriever({ embedder, store, logger });
    const rows: Array<{ search: string; recall: Recall }> = [
      { search: 'dense (Chroma)', recall: await measureRecall((text, k) => dense.search(text, k), set) },
      {
        search: 'lexical (PostgreSQL FTS)',
        recall: await measureRecall(async (text, k) => (await lexical!.searchMany([text], k))[0]!, set),
      },
      { search: 'hybrid (RRF, k = 60)', recall: await measureRecall((text, k) => retriever.search(text, k), set) },
    ];
    console.log(`\n${formatRecallTable(rows)}`);
    const missed = rows.at(-1)!.recall.missed;
    if (missed.length > 0)
      console.log(
        `\nГибридный поиск не нашёл в первой тройке (${missed.length}):\n${missed.map((text) => `  • ${text}`).join('\n')}`,
      );
    return 0;
  } catch (error) {
    console.error(error instanceof StartupError ? error.message : error);
    return error instanceof StartupError ? error.exitCode : 1;
  } finally {
    await knowledgeBase?.stop();
    await database?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function count(set: ReadonlyArray<{ readonly kind: string }>, kind: string): number {
  return set.filter((item) => item.kind === kind).length;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
