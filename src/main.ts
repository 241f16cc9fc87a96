import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase, type DatabaseHandle } from './db/client.js';
import { StartupError } from './errors.js';
import { createLogger, type Logger } from './logger.js';

/** What start-up built, in the order it must be stopped (last started, first stopped). */
interface RunningApp {
  stop(): Promise<void>;
}

/** The composition root: config → logger → database → services → bot. */
async function startApp(config: Config, logger: Logger): Promise<RunningApp> {
  const stack: Array<{ name: string; stop: () => Promise<void> }> = [];
  const stopAll = async () => {
    for (const part of stack.reverse()) {
      try {
        await part.stop();
      } catch (error) {
        logger.error({ err: error, part: part.name }, 'failed to stop cleanly');
      }
    }
  };
  try {
    const database: DatabaseHandle = await openDatabase(config, logger);
    stack.push({ name: 'database', stop: () => database.close() });
    logger.info({ database: database.description }, 'database ready, migrations applied');
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { stop: stopAll };
}

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({
    level: config.logLevel,
    secrets: [config.botToken, config.openai.apiKey],
  });

  let app: RunningApp;
  try {
    app = await startApp(config, logger);
  } catch (error) {
    if (error instanceof StartupError) {
      logger.fatal({ err: error.cause }, error.message);
      console.error(error.message);
      process.exit(error.exitCode);
    }
    throw error;
  }

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    app
      .stop()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.fatal({ err: error }, 'failed to stop');
        process.exit(1);
      });
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
