import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { GrammyError } from 'grammy';
import { createLogger, redactSecrets } from '../src/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, destination };
}

const token = '123456789:AAExampleExampleExampleExample_xyz';
const apiKey = 'sk-proj-abcdefghijklmnopqrstuvwxyz';
const privateKey = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----';

describe('logger', () => {
  it('redacts secrets in fields, messages, URLs and errors', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', pretty: false, destination, secrets: ['my-custom-secret'] });
    logger.info({ botToken: token, config: { openai: { apiKey } } }, 'starting');
    logger.info(`calling https://api.telegram.org/bot${token}/getMe`);
    logger.info({ url: 'postgres://bot:hunter2pass@db:5432/bot' }, 'db');
    logger.error({ err: new Error(`request failed with key ${apiKey} and my-custom-secret`) }, 'failed');
    logger.info({ key: { private_key: privateKey }, note: `key ${privateKey}` }, 'sa');
    const all = lines.join('\n');
    for (const secret of [token, apiKey, 'hunter2pass', 'my-custom-secret', 'MIIEvQIBADANBg']) {
      expect(all).not.toContain(secret);
    }
    expect(all).toContain('[REDACTED]');
    expect(all).toContain('postgres://bot:[REDACTED]@db:5432/bot');
  });

  it('keeps what trainees and the model wrote out of error lines: query parameters and refused messages', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', pretty: false, destination });
    const words = 'Иванов Пётр, ИНН 7707083893, долг 1 200 000 ₽';
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    logger.warn(
      { err: new DrizzleQueryError('insert into "messages" ("text") values ($1)', [words], refused) },
      'database unavailable; retrying',
    );
    const blocked = new GrammyError(
      "Call to 'sendMessage' failed!",
      { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' },
      'sendMessage',
      { chat_id: 42, text: `Клиент: ${words}` },
    );
    logger.error({ err: blocked }, 'Telegram refused sendMessage');
    const all = lines.join('\n');
    expect(all).not.toContain('Иванов');
    expect(all).not.toContain('7707083893');
    expect(all).toContain('insert into \\"messages\\"');
    expect(all).toContain('ECONNREFUSED');
    expect(all).toContain('"chat_id":42');
    expect(all).toContain('bot was blocked by the user');
  });

  it('keeps ordinary text intact', () => {
    expect(redactSecrets('Тариф «Бизнес» — 1 990 ₽, id 123456')).toBe('Тариф «Бизнес» — 1 990 ₽, id 123456');
  });
});
