/**
 * Practising out loud, end to end: the real bot process, the Bot API stand-in serving the trainee's
 * voice notes (getFile, the file endpoint) and taking the client's (sendVoice), the OpenAI-compatible
 * stand-in transcribing real Ogg Opus files and speaking with one.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/database.js';
import { OpenAiFake, speechFixture, transcriptOf } from '../support/openai-fake.js';
import type { BotMessage, FakeUser, TelegramFake } from '../support/telegram-fake.js';
import { count as countIn, openAiKey, startScenario, startWorld, type World } from '../support/world.js';

const fixture = (name: string) => readFileSync(path.resolve(import.meta.dirname, '../fixtures', name));
const voiceTurn = fixture('voice-turn.ogg');
const silent = fixture('voice-silent.ogg');
const heard = transcriptOf(voiceTurn);

const trainees = { spoken: 7601, voiceAnswer: 7602, outage: 7603, limits: 7604, mode: 7605, crash: 7606, noAudio: 7607 } as const;
let world: World;
let telegram: TelegramFake;
let openai: OpenAiFake;
let database: TestDatabase;

beforeAll(async () => {
  world = await startWorld({ trainees: Object.values(trainees) });
  ({ telegram, openai, database } = world);
});
afterAll(async () => {
  await world?.close();
});

const count = (sql: string) => countIn(database, sql);
const isVoice = (m: BotMessage) => m.voice !== undefined;
const retryButton = (m: BotMessage) =>
  ((m.reply_markup?.inline_keyboard ?? []) as Array<Array<{ callback_data?: string }>>).flat()[0]?.callback_data;

/** A text-chat scenario (the client writes unless the trainee chose voice). */
async function startTextScenario(user: FakeUser): Promise<void> {
  await startScenario(user, 'needs-discovery', 'easy');
}

describe('a trainee practising out loud', () => {
  it('sends a voice note: the bot shows what it heard, stores the turn, and the client answers it', async () => {
    const user = telegram.user(trainees.spoken, { languageCode: 'ru' });
    await startTextScenario(user);

    user.sendVoice(voiceTurn, 9);

    expect((await user.waitForNextMessage()).text).toBe(`🎙 ${heard}`);
    expect((await user.waitForNextMessage()).text).toBe(`Клиент отвечает на: ${heard}`);
    // The stand-in received exactly the bytes the trainee sent, under a name OpenAI accepts.
    const request = openai.transcriptions.at(-1)!;
    expect(request.bytes.equals(voiceTurn)).toBe(true);
    expect(request).toMatchObject({ model: 'whisper-1', fileName: 'voice.ogg' });
    expect(telegram.downloads.at(-1)).toMatch(/^voice\/file_\d+\.oga$/);
    expect(
      await count(
        `select count(*)::int as n from messages where role = 'user' and kind = 'voice' and audio_seconds = 9
           and telegram_file_id is not null and transcribed_at is not null and content = '${heard.replaceAll("'", "''")}'`,
      ),
    ).toBe(1);
  });

  it('in a call scenario hears the client: a voice note by sendVoice, its text in the caption', async () => {
    const user = telegram.user(trainees.voiceAnswer);
    await startScenario(user, 'cold-call', 'easy');

    user.sendText('Добрый день, Ирина Сергеевна! Меня зовут Анна, компания «Сделка+».');

    const answer = await user.waitForMessage(isVoice);
    expect(answer.voice!.bytes.equals(speechFixture)).toBe(true);
    expect(answer.visibleText).toBe('Клиент отвечает на: Добрый день, Ирина Сергеевна! Меня зовут Анна, компания «Сделка+».');
    expect(openai.speeches.at(-1)).toMatchObject({
      model: 'tts-1',
      voice: 'alloy',
      responseFormat: 'opus',
      input: answer.visibleText,
    });
    // The text was streamed as a draft before the voice note was sent.
    expect(user.drafts().at(-1)?.text).toBe(answer.visibleText);
    expect(user.chatActions().some((a) => a.action === 'record_voice')).toBe(true);
  });

  it('speech synthesis down: the answer arrives as text, the turn is not lost', async () => {
    const user = telegram.user(trainees.voiceAnswer);
    openai.failSpeech(503);
    try {
      user.sendText('Сколько у вас салонов?');
      const answer = await user.waitForNextMessage();
      expect(answer.voice).toBeUndefined();
      expect(answer.text).toBe('Клиент отвечает на: Сколько у вас салонов?');
    } finally {
      openai.failSpeech(undefined);
    }
  });

  it('transcription down, then up: the turn is kept and transcribed on retry, never lost', async () => {
    const user = telegram.user(trainees.outage);
    await startTextScenario(user);
    openai.failTranscriptions(503);

    user.sendVoice(voiceTurn, 9);

    const failed = await user.waitForNextMessage();
    expect(failed.text).toMatch(/^Не получилось расшифровать голосовое/);
    expect(
      await count(`select count(*)::int as n from messages where role = 'user' and kind = 'voice' and transcribed_at is null`),
    ).toBe(1);

    openai.failTranscriptions(undefined);
    user.pressButton(retryButton(failed)!);

    expect((await user.waitForNextMessage()).text).toBe(`🎙 ${heard}`);
    expect((await user.waitForNextMessage()).text).toBe(`Клиент отвечает на: ${heard}`);
    expect(
      await count(`select count(*)::int as n from messages where role = 'user' and kind = 'voice' and transcribed_at is null`),
    ).toBe(0);
  });

  it('a 25 MB file gets a clear answer and is never downloaded; a 0-second note asks to say it again', async () => {
    const user = telegram.user(trainees.limits);
    await startTextScenario(user);
    const downloads = telegram.downloads.length;
    const fileLookups = telegram.callsOf('getFile').length;
    const transcriptions = openai.transcriptions.length;

    user.sendAudio(Buffer.alloc(25 * 1024 * 1024, 1), 1_500, { fileName: 'звонок.mp3' });
    expect((await user.waitForNextMessage()).text).toBe(
      'Файл больше 20 МБ: такие Telegram не отдаёт ботам. Запишите реплику короче или напишите её текстом.',
    );
    expect(telegram.downloads.length).toBe(downloads);
    expect(telegram.callsOf('getFile').length).toBe(fileLookups);

    user.sendVoice(silent, 0);
    expect((await user.waitForNextMessage()).text).toBe(
      'Не расслышал: в голосовом нет слов. Запишите реплику ещё раз или напишите её текстом.',
    );
    expect(openai.transcriptions.length).toBe(transcriptions + 1);
    expect(openai.transcriptions.at(-1)!.bytes.equals(silent)).toBe(true);
  });

  it('keeps the voice mode across a restart', async () => {
    const user = telegram.user(trainees.mode);
    await startTextScenario(user);
    user.sendText('/voice');
    await user.waitForMessage((m) => m.text.startsWith('Как отвечает клиент сейчас'));
    user.pressButton('vm:on');
    await user.waitForMessage((m) => m.text.startsWith('Готово: клиент отвечает голосовыми'));

    await world.restartBot('SIGTERM');
    user.sendText('Расскажите, как у вас устроена работа с заявками?');

    const answer = await user.waitForMessage(isVoice);
    expect(answer.visibleText).toBe('Клиент отвечает на: Расскажите, как у вас устроена работа с заявками?');
  });

  it('killed while transcribing: after the restart the voice turn is transcribed and answered', async () => {
    const user = telegram.user(trainees.crash);
    await startTextScenario(user);
    const transcriptions = openai.transcriptions.length;
    openai.transcribeWith(() => ({ text: heard, delayMs: 60_000 }));
    user.sendVoice(voiceTurn, 9);
    await telegram.waitUntil(() => (openai.transcriptions.length > transcriptions ? true : undefined));
    openai.transcribeWith();

    await world.restartBot('SIGKILL');

    expect((await user.waitForMessage((m) => m.text.startsWith('🎙'))).text).toBe(`🎙 ${heard}`);
    expect((await user.waitForNextMessage()).text).toBe(`Клиент отвечает на: ${heard}`);
    expect(
      await count(`select count(*)::int as n from messages where role = 'user' and kind = 'voice' and transcribed_at is null`),
    ).toBe(0);
  });

  it('an endpoint without audio: told once, one log line for the operator, text keeps working', async () => {
    const chatOnly = await OpenAiFake.start({ apiKey: openAiKey, audio: false });
    try {
      await world.restartBot('SIGTERM', { STT_BASE_URL: chatOnly.baseUrl });
      const user = telegram.user(trainees.noAudio);
      await startTextScenario(user);

      user.sendVoice(voiceTurn, 9);
      expect((await user.waitForNextMessage()).text).toMatch(/не распознаёт голосовые/);
      user.sendVoice(voiceTurn, 9);
      expect((await user.waitForNextMessage()).text).toMatch(/не распознаёт голосовые/);
      user.sendText('Тогда напишу: добрый день!');
      expect((await user.waitForNextMessage()).text).toBe('Клиент отвечает на: Тогда напишу: добрый день!');

      const operatorLines = world.bot
        .output()
        .split('\n')
        .filter((line) => line.includes('no /audio/transcriptions'));
      expect(operatorLines).toHaveLength(1);
    } finally {
      await world.restartBot('SIGTERM', { STT_BASE_URL: '' });
      await chatOnly.stop();
    }
  });
});
