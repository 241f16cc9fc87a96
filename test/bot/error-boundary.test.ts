import { describe, expect, it } from 'vitest';
import { errorBoundary } from '../../src/bot/handlers/error.js';
import type { BotContext } from '../../src/bot/context.js';
import type { ErrorKind } from '../../src/metrics.js';
import { silentLogger } from '../support/database.js';

/** A private-chat message update, enough of a context for the boundary. */
function contextRecording() {
  const replies: string[] = [];
  const errors: ErrorKind[] = [];
  const ctx = {
    chat: { id: 1, type: 'private' },
    update: { update_id: 1, message: { text: 'Привет' } },
    logger: silentLogger,
    metrics: { countError: (kind: ErrorKind) => errors.push(kind) },
    t: (key: string) => key,
    reply: async (text: string) => {
      replies.push(text);
    },
  } as unknown as BotContext;
  return { ctx, replies, errors };
}

describe('the error boundary', () => {
  it('tells the trainee the database is unavailable when an outage outlasts the retries', async () => {
    const { ctx, replies, errors } = contextRecording();
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    await errorBoundary(ctx, () => Promise.reject(new Error('Failed query: select 1', { cause: refused })));
    expect(replies).toEqual(['error-database-unavailable']);
    expect(errors).toEqual(['database']);
  });

  it('gives anything else the generic apology', async () => {
    const { ctx, replies, errors } = contextRecording();
    await errorBoundary(ctx, () => Promise.reject(new TypeError('a bug')));
    expect(replies).toEqual(['error-generic']);
    expect(errors).toEqual(['other']);
  });
});
