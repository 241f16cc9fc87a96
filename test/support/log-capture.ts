import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';

export interface LogRecord {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A real pino logger whose lines are kept for assertions. */
export function captureLogs(level: 'debug' | 'info' | 'warn' = 'info'): { logger: Logger; records: () => LogRecord[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level, pretty: false, destination });
  return { logger, records: () => lines.map((line) => JSON.parse(line) as LogRecord) };
}

export const WARN = 40;
export const INFO = 30;
