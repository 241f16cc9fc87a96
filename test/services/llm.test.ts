import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatModel } from '../../src/services/llm.js';
import { silentLogger } from '../support/database.js';
import { OpenAiFake } from '../support/openai-fake.js';

let openai: OpenAiFake;
beforeAll(async () => {
  openai = await OpenAiFake.start();
  openai.respondWith(() => '{"ok": true}');
});
afterAll(() => openai.stop());

describe('completeJson', () => {
  const model = () => createChatModel({ apiKey: openai.apiKey, baseUrl: openai.baseUrl, timeoutMs: 2000 }, silentLogger);
  const messages = [{ role: 'user' as const, content: 'Оцени' }];

  it('sends the temperature it is given, 0 included', async () => {
    const reply = await model().completeJson({ model: 'judge-model', messages, format: 'json_object', temperature: 0 });
    expect(reply.text).toBe('{"ok": true}');
    expect(openai.lastRequest()!.body).toMatchObject({ model: 'judge-model', temperature: 0 });
  });

  it("leaves the temperature to the endpoint's default when given none", async () => {
    await model().completeJson({ model: 'judge-model', messages, format: 'json_object' });
    expect(openai.lastRequest()!.body).not.toHaveProperty('temperature');
  });
});
