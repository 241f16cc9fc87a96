import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import { instrumentSpeechToText } from '../../src/metrics.js';
import { createSpeechToText, TranscriptionUnavailableError } from '../../src/services/speech-to-text.js';
import { createTextToSpeech, isOggOpus, SpeechSynthesisError } from '../../src/services/text-to-speech.js';
import { captureLogs } from '../support/log-capture.js';
import { OpenAiFake, speechFixture } from '../support/openai-fake.js';

const voiceTurn = readFileSync(path.resolve(import.meta.dirname, '../fixtures/voice-turn.ogg'));
let openai: OpenAiFake;

beforeAll(async () => {
  openai = await OpenAiFake.start();
});
beforeEach(() => {
  openai.transcribeWith();
  openai.failTranscriptions(undefined);
  openai.failSpeech(undefined);
});
afterAll(() => openai.stop());

const sttOptions = () => ({ apiKey: openai.apiKey, baseUrl: openai.baseUrl, model: 'whisper-1', timeoutMs: 2_000 });

describe('speech-to-text', () => {
  it('sends the audio as it is to /audio/transcriptions and returns the words', async () => {
    const stt = createSpeechToText(sttOptions(), captureLogs().logger);

    const text = await stt.transcribe({ bytes: voiceTurn, fileName: 'voice.ogg' });

    expect(text).toBe(
      'Ну, добрый день, Ирина Сергеевна! Меня зовут Анна, компания «Сделка+». Как бы, удобно вам сейчас говорить?',
    );
    const request = openai.transcriptions.at(-1)!;
    expect(request.bytes.equals(voiceTurn)).toBe(true);
    expect(request).toMatchObject({ model: 'whisper-1', fileName: 'voice.ogg' });
  });

  it('an endpoint down: `unavailable`, and it is asked again next time', async () => {
    const stt = createSpeechToText(sttOptions(), captureLogs().logger);
    openai.failTranscriptions(503);
    await expect(stt.transcribe({ bytes: voiceTurn, fileName: 'voice.ogg' })).rejects.toMatchObject({ failure: 'unavailable' });
    openai.failTranscriptions(undefined);
    await expect(stt.transcribe({ bytes: voiceTurn, fileName: 'voice.ogg' })).resolves.toMatch(/^Ну, добрый день/);
  });

  it('a file the endpoint cannot read: `rejected`', async () => {
    const stt = createSpeechToText(sttOptions(), captureLogs().logger);
    await expect(stt.transcribe({ bytes: voiceTurn, fileName: 'voice.oga' })).rejects.toMatchObject({ failure: 'rejected' });
  });

  it('an endpoint without audio: `no-audio`, one clear log line for the operator, and no more requests for a while', async () => {
    const chatOnly = await OpenAiFake.start({ apiKey: openai.apiKey, audio: false });
    try {
      const { logger, records } = captureLogs();
      const metrics = createMetrics();
      const stt = instrumentSpeechToText(createSpeechToText({ ...sttOptions(), baseUrl: chatOnly.baseUrl }, logger), metrics);

      for (let i = 0; i < 3; i++) {
        const error: unknown = await stt.transcribe({ bytes: voiceTurn, fileName: 'voice.ogg' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TranscriptionUnavailableError);
        expect((error as TranscriptionUnavailableError).failure).toBe('no-audio');
      }

      const lines = records().filter((line) => line.level >= 40);
      expect(lines).toHaveLength(1);
      expect(lines[0]!.msg).toMatch(/no \/audio\/transcriptions; set STT_BASE_URL/);
      expect(await metrics.registry.getSingleMetricAsString('bot_transcription_latency_seconds')).toMatch(/_count 3/);
      expect(await metrics.registry.getSingleMetricAsString('bot_errors_total')).toMatch(/kind="transcription"} 3/);
    } finally {
      await chatOnly.stop();
    }
  });
});

describe('text-to-speech', () => {
  const tts = () =>
    createTextToSpeech({ apiKey: openai.apiKey, baseUrl: openai.baseUrl, model: 'tts-1', voice: 'onyx', timeoutMs: 2_000 });

  it('asks /audio/speech for Opus and returns the Ogg Opus file', async () => {
    const audio = await tts().synthesize('Да, слушаю.');

    expect(Buffer.from(audio).equals(speechFixture)).toBe(true);
    expect(isOggOpus(audio)).toBe(true);
    expect(openai.speeches.at(-1)).toMatchObject({ model: 'tts-1', voice: 'onyx', input: 'Да, слушаю.', responseFormat: 'opus' });
  });

  it('a failing endpoint, or a text longer than one request takes: SpeechSynthesisError', async () => {
    openai.failSpeech(500);
    await expect(tts().synthesize('Да')).rejects.toBeInstanceOf(SpeechSynthesisError);
    openai.failSpeech(undefined);
    await expect(tts().synthesize('а'.repeat(4_097))).rejects.toBeInstanceOf(SpeechSynthesisError);
  });

  it('tells Ogg Opus from other audio', () => {
    expect(isOggOpus(voiceTurn)).toBe(true);
    expect(isOggOpus(new TextEncoder().encode('ID3 mp3 frames'))).toBe(false);
  });
});
