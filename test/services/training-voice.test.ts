import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asTelegramFileId, asTelegramId, type UserId } from '../../src/db/ids.js';
import { getOrCreateUser } from '../../src/db/queries/users.js';
import { loadScenarios, type ScenarioCatalog } from '../../src/services/scenarios.js';
import { SpokenTurnNotTranscribedError, TrainingService, type AudioDownloader } from '../../src/services/training/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { isJudgeRequest, rubricKeysOf, scriptedModel, textOf } from '../support/model-script.js';
import { OpenAiFake } from '../support/openai-fake.js';
import { trainingAgainstStandIns } from '../support/training-service.js';

const voiceTurn = readFileSync(path.resolve(import.meta.dirname, '../fixtures/voice-turn.ogg'));
const silent = readFileSync(path.resolve(import.meta.dirname, '../fixtures/voice-silent.ogg'));
const heard = 'Ну, добрый день, Ирина Сергеевна! Меня зовут Анна, компания «Сделка+». Как бы, удобно вам сейчас говорить?';

let database: TestDatabase;
let openai: OpenAiFake;
let scenarios: ScenarioCatalog;
let training: TrainingService;
let nextTelegramId = 8100;
let nextMessageId = 1;

/** Telegram's side: the file behind each file id. */
const telegramFiles = new Map<string, Buffer>();
const download: AudioDownloader = async (fileId) => {
  const bytes = telegramFiles.get(fileId);
  if (!bytes) throw new Error('Bad Request: invalid file_id');
  return { bytes, fileName: 'voice.ogg' };
};

beforeAll(async () => {
  [database, openai] = await Promise.all([createTestDatabase(), OpenAiFake.start()]);
  scenarios = await loadScenarios(path.resolve(import.meta.dirname, '../../scenarios'));
  training = trainingAgainstStandIns(database, openai, scenarios);
});
beforeEach(() => {
  openai.respondWith(scriptedModel());
  openai.failTranscriptions(undefined);
});
afterAll(async () => {
  await Promise.all([database?.drop(), openai?.stop()]);
});

async function trainee(scenario = 'cold-call'): Promise<UserId> {
  const user = await getOrCreateUser(database.db, { telegramId: asTelegramId(nextTelegramId++), firstName: 'Анна' });
  await training.start(user.id, scenario, 'easy');
  return user.id;
}

function voiceNote(bytes: Buffer, seconds: number) {
  const fileId = asTelegramFileId(`file-${telegramFiles.size + 1}`);
  telegramFiles.set(fileId, bytes);
  return { telegramMessageId: nextMessageId++, audio: { kind: 'voice' as const, seconds, telegramFileId: fileId } };
}

async function messagesOf(userId: UserId) {
  return database.db.execute<{
    role: string;
    content: string;
    kind: string;
    audio_seconds: number | null;
    telegram_file_id: string | null;
    transcribed: boolean;
  }>(
    `select m.role, m.content, m.kind, m.audio_seconds, m.telegram_file_id, m.transcribed_at is not null as transcribed
       from messages m join sessions s on s.id = m.session_id where s.user_id = ${userId} order by m.id`,
  );
}

describe('a spoken turn', () => {
  it('answered with a goodbye and the hang-up marker: the marker is stripped and the line is closed', async () => {
    const userId = await trainee();
    openai.respondWith(scriptedModel(() => 'Всё, мне некогда. До свидания.\n[[END_CALL]]'));
    const drafts: string[] = [];

    const result = await training.playSpokenTurn({
      userId,
      ...voiceNote(voiceTurn, 9),
      download,
      onTranscript: async () => undefined,
      onText: (draft) => void drafts.push(draft),
    });

    expect(result).toMatchObject({ kind: 'answered', reply: 'Всё, мне некогда. До свидания.', clientHungUp: true });
    expect(drafts.join('\n')).not.toMatch(/END_CALL|\[/);
    expect((await messagesOf(userId)).at(-1)).toMatchObject({ role: 'assistant', content: 'Всё, мне некогда. До свидания.' });
    const later = await training.playSpokenTurn({
      userId,
      ...voiceNote(voiceTurn, 9),
      download,
      onTranscript: async () => undefined,
    });
    expect(later).toEqual({ kind: 'hung-up' });
  });

  it('is stored with its kind, length and file, transcribed, shown, then answered on the transcript', async () => {
    const userId = await trainee();
    const note = voiceNote(voiceTurn, 9);
    const events: string[] = [];

    const result = await training.playSpokenTurn({
      userId,
      ...note,
      download,
      onTranscript: async (text) => void events.push(`heard: ${text}`),
      onText: () => void (events.at(-1) === 'streaming' || events.push('streaming')),
    });

    expect(result).toMatchObject({ kind: 'answered', reply: `Клиент отвечает на: ${heard}` });
    expect(events).toEqual([`heard: ${heard}`, 'streaming']);
    expect(openai.transcriptions.at(-1)!.bytes.equals(voiceTurn)).toBe(true);
    const [, turn] = await messagesOf(userId);
    expect(turn).toEqual({
      role: 'user',
      content: heard,
      kind: 'voice',
      audio_seconds: 9,
      telegram_file_id: note.audio.telegramFileId,
      transcribed: true,
    });
  });

  it('a redelivered update is stored and answered once', async () => {
    const userId = await trainee();
    const note = voiceNote(voiceTurn, 9);
    const hooks = { download, onTranscript: async () => undefined };
    const first = await training.playSpokenTurn({ userId, ...note, ...hooks });
    if (first.kind !== 'answered') throw new Error(first.kind);
    await training.markReplyDelivered(first.replyId);
    const transcriptionsBefore = openai.transcriptions.length;

    expect(await training.playSpokenTurn({ userId, ...note, ...hooks })).toEqual({ kind: 'already-answered' });
    expect(openai.transcriptions.length).toBe(transcriptionsBefore);
    expect((await messagesOf(userId)).filter((m) => m.role === 'user')).toHaveLength(1);
  });

  it('transcription down: the turn is kept without words, found at start-up, and answered on retry', async () => {
    const userId = await trainee();
    const note = voiceNote(voiceTurn, 9);
    openai.failTranscriptions(503);

    const error: unknown = await training
      .playSpokenTurn({ userId, ...note, download, onTranscript: async () => undefined })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SpokenTurnNotTranscribedError);
    const { messageId, failure } = error as SpokenTurnNotTranscribedError;
    expect(failure).toBe('unavailable');
    expect((await messagesOf(userId)).at(-1)).toMatchObject({ role: 'user', content: '', kind: 'voice', transcribed: false });
    const interrupted = (await training.interruptedWork()).unansweredTurns.find((t) => t.session.userId === userId);
    expect(interrupted?.untranscribed?.id).toBe(messageId);

    openai.failTranscriptions(undefined);
    const retried = await training.retrySpokenTurn({ userId, messageId, download, onTranscript: async () => undefined });

    expect(retried).toMatchObject({ kind: 'answered', reply: `Клиент отвечает на: ${heard}` });
    expect((await messagesOf(userId)).filter((m) => m.role === 'user').map((m) => m.content)).toEqual([heard]);
  });

  it('a turn typed after a failed one goes on without it; a late retry of the old one is `moved-on`', async () => {
    const userId = await trainee();
    openai.failTranscriptions(503);
    const error = (await training
      .playSpokenTurn({ userId, ...voiceNote(voiceTurn, 9), download, onTranscript: async () => undefined })
      .catch((e: unknown) => e)) as SpokenTurnNotTranscribedError;
    openai.failTranscriptions(undefined);

    await training.playTurn({ userId, text: 'Алло, вы меня слышите?', telegramMessageId: nextMessageId++ });
    const lastClientRequest = openai.requests.at(-1)!;
    expect(lastClientRequest.messages.filter((m) => m.role === 'user').map((m) => textOf(m.content))).toEqual([
      'Алло, вы меня слышите?',
    ]);

    expect(
      await training.retrySpokenTurn({ userId, messageId: error.messageId, download, onTranscript: async () => undefined }),
    ).toEqual({
      kind: 'moved-on',
    });
  });

  it('a note with no words is `not-heard`: not answered, not a turn at start-up, not judged', async () => {
    const userId = await trainee();
    const requestsBefore = openai.requests.length;

    const result = await training.playSpokenTurn({
      userId,
      ...voiceNote(silent, 0),
      download,
      onTranscript: async () => undefined,
    });

    expect(result).toEqual({ kind: 'not-heard' });
    expect(openai.requests.length).toBe(requestsBefore);
    expect((await training.interruptedWork()).unansweredTurns.some((t) => t.session.userId === userId)).toBe(false);
    expect(await training.finish(userId)).toMatchObject({ kind: 'nothing-said' });
  });
});

describe('the evaluation of a spoken dialogue', () => {
  it('measures the delivery, scores the call scenario’s delivery criterion and stores both', async () => {
    const userId = await trainee('cold-call');
    await training.playSpokenTurn({ userId, ...voiceNote(voiceTurn, 9), download, onTranscript: async () => undefined });
    await training.playTurn({ userId, text: 'Давайте покажу демо в четверг в 11:00?', telegramMessageId: nextMessageId++ });
    openai.respondWith((request) => {
      if (!isJudgeRequest(request)) return 'Хорошо.';
      const keys = rubricKeysOf(request);
      return JSON.stringify({
        criteria: keys.map((key) => ({ key, score: key === 'delivery' ? 0 : 100, evidence: '', comment: '' })),
        strengths: [],
        mistakes: [],
        recommendations: [],
        summary: '',
      });
    });

    const result = await training.finish(userId);

    if (result.kind !== 'finished') throw new Error(result.kind);
    const judgeRequest = openai.requests.at(-1)!;
    expect(rubricKeysOf(judgeRequest)).toContain('delivery');
    expect(textOf(judgeRequest.messages[1]!.content)).toMatch(/<delivery>[\s\S]*слов в минуту[\s\S]*«ну» ×1[\s\S]*<\/delivery>/);
    const { delivery, criteria, totalScore } = result.evaluation;
    expect(delivery).toMatchObject({ voiceTurns: 1, spokenSeconds: 9, longMonologues: 0, longestSeconds: 9 });
    expect(delivery!.wordsPerMinute).toBe(Math.round((16 / 9) * 60));
    expect(delivery!.fillers).toEqual(
      expect.arrayContaining([
        { word: 'ну', count: 1 },
        { word: 'как бы', count: 1 },
      ]),
    );
    expect(criteria.at(-1)).toMatchObject({ key: 'delivery', title: 'Как звучит', weight: 10, score: 0 });
    // The rubric's 100 plus delivery's 10: all of the rubric and none of delivery is 100 of 110.
    expect(totalScore).toBe(Math.round((100 * 100) / 110));
  });

  it('a typed dialogue is never scored on delivery', async () => {
    const userId = await trainee('cold-call');
    await training.playTurn({ userId, text: 'Добрый день!', telegramMessageId: nextMessageId++ });

    const result = await training.finish(userId);

    if (result.kind !== 'finished') throw new Error(result.kind);
    expect(rubricKeysOf(openai.requests.at(-1)!)).not.toContain('delivery');
    expect(result.evaluation.delivery).toBeNull();
  });
});
