import { readFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI, { toFile, type APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exampleFromSchema, OpenAiFake, speechFixture, transcriptOf } from './openai-fake.js';

let llm: OpenAiFake;
let client: OpenAI;

beforeEach(async () => {
  llm = await OpenAiFake.start({ apiKey: 'sk-test' });
  client = new OpenAI({ apiKey: 'sk-test', baseURL: llm.baseUrl, maxRetries: 0 });
});

afterEach(async () => {
  await llm.stop();
});

const messages = [
  { role: 'system' as const, content: 'Ты клиент.' },
  { role: 'user' as const, content: 'Здравствуйте!' },
];

describe('OpenAiFake with the openai SDK', () => {
  it('answers a plain chat completion and records the request', async () => {
    llm.respondWith((req) => `Вы сказали: ${String(req.messages.at(-1)?.content)}`);
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message).toMatchObject({
      role: 'assistant',
      content: 'Вы сказали: Здравствуйте!',
      refusal: null,
    });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests[0]).toMatchObject({ model: 'gpt-4o-mini', stream: false, messages });
  });

  it('answers with a short Russian line by default', async () => {
    const completion = await client.chat.completions.create({ model: 'm', messages });
    expect(completion.choices[0]?.message.content).toMatch(/[а-я]/);
  });

  it('streams deltas in several chunks with usage when asked', async () => {
    llm.respondWith(() => ({ content: 'Расскажите о цене 😀 и сроках.', chunkDelayMs: 10 }));
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) deltas.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.join('')).toBe('Расскажите о цене 😀 и сроках.');
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(llm.lastRequest()?.stream).toBe(true);
  });

  it('streams exactly the programmed chunks after the first-token delay', async () => {
    llm.respondWith(() => ({ content: 'ab', chunks: ['a', 'b'], delayMs: 200 }));
    const started = Date.now();
    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true }, { timeout: 100 });
    const pieces: string[] = [];
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) pieces.push(chunk.choices[0].delta.content);
    expect(pieces).toEqual(['a', 'b']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('produces schema-valid structured output by default', async () => {
    const schema = {
      type: 'object',
      properties: {
        total: { type: 'integer', minimum: 0, maximum: 100 },
        strengths: { type: 'array', items: { type: 'string' } },
        verdict: { type: 'string', enum: ['pass', 'fail'] },
        detail: { $ref: '#/$defs/detail' },
      },
      required: ['total', 'strengths', 'verdict', 'detail'],
      additionalProperties: false,
      $defs: { detail: { type: 'object', properties: { note: { type: ['string', 'null'] } }, required: ['note'] } },
    };
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      response_format: { type: 'json_schema', json_schema: { name: 'evaluation', schema, strict: true } },
    });
    const parsed = JSON.parse(completion.choices[0]?.message.content ?? '') as unknown;
    expect(parsed).toEqual({ total: 50, strengths: ['…'], verdict: 'pass', detail: { note: '…' } });
    expect(llm.lastRequest()?.responseFormat).toMatchObject({ type: 'json_schema', json_schema: { name: 'evaluation' } });
    expect(exampleFromSchema({ type: 'number', exclusiveMinimum: 0 })).toBe(0.5);
  });

  it('rejects json_schema like an endpoint without structured output', async () => {
    await llm.stop();
    llm = await OpenAiFake.start({ apiKey: 'sk-test', supportsJsonSchema: false });
    client = new OpenAI({ apiKey: 'sk-test', baseURL: llm.baseUrl, maxRetries: 0 });
    const error = await client.chat.completions
      .create({
        model: 'm',
        messages,
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as APIError).error).toMatchObject({ param: 'response_format', type: 'invalid_request_error' });
    await expect(
      client.chat.completions.create({ model: 'm', messages, response_format: { type: 'json_object' } }),
    ).resolves.toBeDefined();
  });

  it('surfaces a 500 as OpenAI.APIError, and a wrong key as AuthenticationError', async () => {
    llm.failNext(500);
    const error = await client.chat.completions.create({ model: 'm', messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as APIError).status).toBe(500);
    await expect(client.chat.completions.create({ model: 'm', messages })).resolves.toBeDefined();

    llm.respondWith(() => ({ status: 503 }));
    await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toMatchObject({ status: 503 });

    const stranger = new OpenAI({ apiKey: 'sk-wrong', baseURL: llm.baseUrl, maxRetries: 0 });
    await expect(stranger.chat.completions.create({ model: 'm', messages })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('is retried by the SDK on a 500 when retries are on', async () => {
    const retrying = new OpenAI({ apiKey: 'sk-test', baseURL: llm.baseUrl, maxRetries: 1 });
    llm.failNext(500);
    await expect(retrying.chat.completions.create({ model: 'm', messages })).resolves.toBeDefined();
    expect(llm.requests).toHaveLength(2);
  });

  it('hangs until the client times out', async () => {
    llm.respondWith(() => ({ hang: true }));
    const started = Date.now();
    const error = await client.chat.completions.create({ model: 'm', messages }, { timeout: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('lets stop() end a hanging request', async () => {
    llm.respondWith(() => ({ hang: true }));
    const pending = client.chat.completions.create({ model: 'm', messages }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await llm.stop();
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
    llm = await OpenAiFake.start({ apiKey: 'sk-test' });
  });

  describe('OpenAiFake audio with the openai SDK', () => {
    const voiceTurn = readFileSync(path.resolve(import.meta.dirname, '../fixtures/voice-turn.ogg'));

    it('transcribes a real Ogg Opus file from what the file holds, and records the bytes it received', async () => {
      const result = await client.audio.transcriptions.create({ file: await toFile(voiceTurn, 'voice.ogg'), model: 'whisper-1' });
      expect(result.text).toBe(
        'Ну, добрый день, Ирина Сергеевна! Меня зовут Анна, компания «Сделка+». Как бы, удобно вам сейчас говорить?',
      );
      expect(llm.transcriptions).toHaveLength(1);
      expect(llm.transcriptions[0]!.bytes.equals(voiceTurn)).toBe(true);
      expect(llm.transcriptions[0]).toMatchObject({ model: 'whisper-1', fileName: 'voice.ogg' });
    });

    it('refuses what OpenAI refuses: a Telegram .oga name, bytes that are no audio', async () => {
      await expect(
        client.audio.transcriptions.create({ file: await toFile(voiceTurn, 'file_1.oga'), model: 'whisper-1' }),
      ).rejects.toMatchObject({
        status: 400,
      });
      await expect(
        client.audio.transcriptions.create({
          file: await toFile(Buffer.from('not audio at all'), 'voice.ogg'),
          model: 'whisper-1',
        }),
      ).rejects.toMatchObject({ status: 400 });
    });

    it('fails transcriptions while told to, and has no audio at all when started without it', async () => {
      llm.failTranscriptions(503);
      await expect(
        client.audio.transcriptions.create({ file: await toFile(voiceTurn, 'voice.ogg'), model: 'whisper-1' }),
      ).rejects.toMatchObject({
        status: 503,
      });
      llm.failTranscriptions(undefined);
      const chatOnly = await OpenAiFake.start({ apiKey: 'sk-test', audio: false });
      try {
        const other = new OpenAI({ apiKey: 'sk-test', baseURL: chatOnly.baseUrl, maxRetries: 0 });
        await expect(other.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Алло' })).rejects.toMatchObject({
          status: 404,
        });
      } finally {
        await chatOnly.stop();
      }
    });

    it('speaks with a real Ogg Opus file', async () => {
      const response = await client.audio.speech.create({
        model: 'tts-1',
        voice: 'onyx',
        input: 'Да, слушаю.',
        response_format: 'opus',
      });
      const audio = Buffer.from(await response.arrayBuffer());
      expect(audio.equals(speechFixture)).toBe(true);
      expect(audio.subarray(0, 4).toString('latin1')).toBe('OggS');
      expect(audio.includes('OpusHead')).toBe(true);
      expect(transcriptOf(audio)).toBe('Да, слушаю. Только коротко, я за рулём.');
      expect(llm.speeches).toEqual([
        {
          model: 'tts-1',
          voice: 'onyx',
          input: 'Да, слушаю.',
          responseFormat: 'opus',
          receivedAt: expect.any(Number) as unknown,
        },
      ]);
    });
  });
});
