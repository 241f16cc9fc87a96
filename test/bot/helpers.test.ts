import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCallback, encodeCallback, type CallbackAction } from '../../src/bot/helpers/callback-data.js';
import { escapeHtml } from '../../src/bot/helpers/html.js';
import { splitMessage } from '../../src/bot/helpers/split-message.js';
import type { SessionId } from '../../src/db/ids.js';
import { estimateTokens, fitHistoryToBudget } from '../../src/services/token-budget.js';

describe('splitMessage', () => {
  it('keeps short text whole', () => {
    expect(splitMessage('Привет!')).toEqual(['Привет!']);
  });

  it('splits long text on sentence boundaries under the limit', () => {
    const text = 'Первое предложение. '.repeat(400).trim();
    const parts = splitMessage(text);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(4096);
      expect(part.endsWith('.')).toBe(true);
    }
    expect(parts.join(' ')).toBe(text);
  });

  it('never loses a character nor exceeds the limit, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 9000 }), fc.integer({ min: 20, max: 4096 }), (text, limit) => {
        const parts = splitMessage(text, limit);
        for (const part of parts) expect(part.length).toBeLessThanOrEqual(limit);
        expect(parts.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
      }),
      { numRuns: 200 },
    );
  });
});

describe('callback data', () => {
  const actions: CallbackAction[] = [
    { type: 'scenario', key: 'cold-call' },
    { type: 'difficulty', key: 'price-objection', difficulty: 'hard' },
    { type: 'switch-scenario', answer: 'yes' },
    { type: 'switch-scenario', answer: 'no' },
    { type: 'invite-option', index: 0 },
    { type: 'invite-option', index: 9 },
    { type: 'cancel-training', answer: 'yes' },
    { type: 'cancel-training', answer: 'no' },
    { type: 'repeat-training', key: 'price-objection', difficulty: 'medium' },
    { type: 'scenario-menu' },
    { type: 'past-evaluation', sessionId: 2_147_483_647 as SessionId },
  ];

  it('round-trips every kind of button and fits 64 bytes', () => {
    for (const action of actions) {
      const data = encodeCallback(action);
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
      expect(decodeCallback(data)).toEqual(action);
    }
  });

  it('keeps the strings earlier versions sent, so that buttons already in chats still work', () => {
    expect(actions.map(encodeCallback)).toEqual([
      'sc:cold-call',
      'sd:price-objection:hard',
      'switch:yes',
      'switch:no',
      'invite:0',
      'invite:9',
      'cancel:yes',
      'cancel:no',
      'rp:price-objection:medium',
      'menu',
      'pe:2147483647',
    ]);
  });

  it('round-trips any scenario key a scenario file may have', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9]+(?:-[a-z0-9]+)*$/),
        fc.constantFrom('easy', 'medium', 'hard' as const),
        (key, difficulty) => {
          fc.pre(key.length <= 50);
          for (const action of [
            { type: 'scenario', key },
            { type: 'difficulty', key, difficulty },
            { type: 'repeat-training', key, difficulty },
          ] as const) {
            const data = encodeCallback(action);
            expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
            expect(decodeCallback(data)).toEqual(action);
          }
        },
      ),
    );
  });

  it('rejects forged or outdated data', () => {
    for (const data of [
      '',
      'sc:',
      'sd:cold-call:insane',
      'sc:../../etc',
      'xx:cold-call',
      'sc:cold-call:extra:parts',
      'sd:a:easy:1',
      'switch:maybe',
      'switch:yes:no',
      'switch',
      'invite:',
      'invite:10',
      'invite:-1',
      'invite:1.5',
      'invite:1:2',
      'cancel:maybe',
      'cancel:yes:1',
      'cancel',
      'rp:cold-call',
      'rp:cold-call:insane',
      'rp:Cold-Call:easy',
      'rp:cold-call:easy:1',
      'menu:1',
      'menu:',
      'pe:',
      'pe:0',
      'pe:-5',
      'pe:07',
      'pe:1.5',
      'pe:2147483648',
      'pe:99999999999',
      'pe:12:13',
      'pe:abc',
    ]) {
      expect(decodeCallback(data)).toBeUndefined();
    }
  });
});

describe('token budget', () => {
  it('drops the oldest turns first and keeps the newest', () => {
    const history = Array.from({ length: 50 }, (_, i) => ({ role: 'user' as const, content: `реплика номер ${i} `.repeat(10) }));
    const kept = fitHistoryToBudget(history, 500);
    expect(kept.at(-1)).toEqual(history.at(-1));
    expect(kept.length).toBeLessThan(history.length);
    expect(kept.reduce((sum, m) => sum + estimateTokens(m.content), 0)).toBeLessThanOrEqual(500);
  });

  it('keeps at least the last message even when it alone is over budget', () => {
    expect(fitHistoryToBudget([{ role: 'user', content: 'x'.repeat(10_000) }], 10)).toHaveLength(1);
  });
});

describe('escapeHtml', () => {
  it('escapes what Telegram HTML parses', () => {
    expect(escapeHtml('<b>a & b</b>')).toBe('&lt;b&gt;a &amp; b&lt;/b&gt;');
  });
});
