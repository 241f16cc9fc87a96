import { describe, expect, it } from 'vitest';
import { coldCall, defaultEvaluation, fakeServices, upsell } from './fakes.js';
import { INFO, WARN } from '../support/log-capture.js';
import { createHarness, type HarnessOptions } from './harness.js';

const said = (text: string) => new TextEncoder().encode(text);

/** A call scenario whose client speaks unless the trainee chose text. */
const call = { ...coldCall, voice: { replies: true } };

function inTraining(options: HarnessOptions = {}, scenarioKey = 'cold-call') {
  const bot = createHarness(options);
  const user = bot.services.access.allow(7001);
  bot.services.training.givenActive(user.id, scenarioKey);
  return { bot, user, anna: bot.user(7001), training: bot.services.training, speech: bot.services.speech };
}

describe('a voice note in a training', () => {
  it('is transcribed, shown back as «🎙 …», stored with its kind, length and file, and answered', async () => {
    const { bot, anna, user, training } = inTraining();

    const reaction = await anna.sendVoice(said('Добрый день, меня зовут Анна'), 4);

    expect(reaction.texts).toEqual(['🎙 Добрый день, меня зовут Анна', 'Клиент отвечает на: Добрый день, меня зовут Анна']);
    expect(training.callsOf('playSpokenTurn')).toEqual([
      [
        {
          userId: user.id,
          telegramMessageId: expect.any(Number) as unknown,
          audio: { kind: 'voice', seconds: 4, telegramFileId: expect.stringMatching(/^voice-/) as unknown },
        },
      ],
    ]);
    // Downloaded as the Bot API serves files: getFile, then <apiRoot>/file/bot<token>/<file_path>.
    expect(reaction.methods).toContain('getFile');
    expect(bot.downloads).toHaveLength(1);
    expect(training.callsOf('markReplyDelivered')).toHaveLength(1);
  });

  it('shows back only the beginning of a long transcript', async () => {
    const { anna } = inTraining();
    const long = 'Мы работаем с сетями салонов по всей стране. '.repeat(20).trim();

    const reaction = await anna.sendVoice(said(long), 60);

    expect(Array.from(reaction.texts[0]!).length).toBeLessThanOrEqual(2 + 301);
    expect(reaction.texts[0]).toMatch(/^🎙 Мы работаем.*…$/);
  });

  it('an audio file and a round video note are turns too', async () => {
    const { anna, training } = inTraining();

    await anna.sendVoice(said('Запись звонка'), 30, { kind: 'audio' });
    await anna.sendVoice(said('Кружок'), 5, { kind: 'video_note' });

    expect(training.callsOf('playSpokenTurn').map(([input]) => (input as { audio: { kind: string } }).audio.kind)).toEqual([
      'audio',
      'video_note',
    ]);
  });

  it('outside a training, says how to start one', async () => {
    const bot = createHarness();
    bot.services.access.allow(7001);

    const reaction = await bot.user(7001).sendVoice(said('Алло'), 2);

    expect(reaction.texts).toEqual([bot.t('unhandled-voice')]);
    expect(reaction.methods).not.toContain('getFile');
  });

  it('longer than VOICE_MAX_SECONDS: a clear answer, nothing downloaded or stored', async () => {
    const { anna, training, bot } = inTraining({ env: { VOICE_MAX_SECONDS: '60' } });

    const reaction = await anna.sendVoice(said('очень долго'), 61);

    expect(reaction.texts).toEqual([
      'Голосовое длиннее 60 с — такое я не расшифровываю. Скажите реплику короче или разбейте её на несколько.',
    ]);
    expect(training.callsOf('playSpokenTurn')).toEqual([]);
    expect(bot.downloads).toEqual([]);
  });

  it('a file over the 20 MB bots may download: a clear answer before any getFile', async () => {
    const { anna, training } = inTraining();

    const reaction = await anna.sendVoice(said('большой файл'), 50, { fileSize: 25 * 1024 * 1024 });

    expect(reaction.texts).toEqual([
      'Файл больше 20 МБ: такие Telegram не отдаёт ботам. Запишите реплику короче или напишите её текстом.',
    ]);
    expect(reaction.methods).not.toContain('getFile');
    expect(training.callsOf('playSpokenTurn')).toEqual([]);
  });

  it('a note with no words in it (0 seconds): asks to say it again, the client is not asked', async () => {
    const { anna, training } = inTraining();
    let asked = false;
    training.client = () => {
      asked = true;
      return '…';
    };

    const reaction = await anna.sendVoice(said(''), 0);

    expect(reaction.texts).toEqual(['Не расслышал: в голосовом нет слов. Запишите реплику ещё раз или напишите её текстом.']);
    expect(asked).toBe(false);
  });

  it('transcription down: the turn is kept with a retry button, and the retry answers it', async () => {
    const { anna, training, bot } = inTraining();
    training.transcriptionFailure = 'unavailable';

    const failed = await anna.sendVoice(said('Вам удобно говорить?'), 3);

    expect(failed.texts).toEqual([bot.t('voice-transcription-failed')]);
    expect(failed.buttons).toEqual([{ text: '🔁 Повторить', data: expect.stringMatching(/^vr:\d+$/) as unknown }]);
    expect(training.untranscribed.size).toBe(1);
    expect(bot.logs().some((line) => line.level === WARN && /not transcribed \(unavailable\)/.test(line.msg))).toBe(true);

    const retried = await anna.press(failed.buttons[0]!.data);

    expect(retried.callbackAnswers).toEqual([{}]);
    expect(retried.methods).toContain('editMessageReplyMarkup');
    expect(retried.texts).toEqual(['🎙 Вам удобно говорить?', 'Клиент отвечает на: Вам удобно говорить?']);
    expect(training.untranscribed.size).toBe(0);
  });

  it('a retry after the dialogue moved on says so and answers nothing', async () => {
    const { anna, training } = inTraining();
    training.transcriptionFailure = 'timeout';
    const failed = await anna.sendVoice(said('Алло'), 1);
    training.untranscribed.clear();

    const retried = await anna.press(failed.buttons[0]!.data);

    expect(retried.texts).toEqual(['Диалог уже ушёл дальше — это голосовое осталось без ответа клиента.']);
  });

  it('Telegram not giving the file: the turn is kept with a retry button', async () => {
    const { anna, bot } = inTraining();
    const failed = await anna.sendVoice(said('Алло'), 1);
    expect(failed.texts[0]).toBe('🎙 Алло');

    // A file_id Telegram no longer knows.
    const reaction = await anna.sendMessage({ voice: { file_id: 'gone', file_unique_id: 'g', duration: 2 } });

    expect(reaction.texts).toEqual([bot.t('voice-download-failed')]);
    expect(reaction.buttons).toHaveLength(1);
  });

  it('an endpoint without speech-to-text: the trainee is told to type, with no button, and text keeps working', async () => {
    const { anna, training, bot } = inTraining();
    training.transcriptionFailure = 'no-audio';

    const reaction = await anna.sendVoice(said('Алло'), 1);

    expect(reaction.texts).toEqual([bot.t('voice-not-supported')]);
    expect(reaction.buttons).toEqual([]);
    // The speech-to-text service tells the operator once; no line per voice note.
    expect(bot.logs().filter((line) => line.level > INFO)).toEqual([]);
    expect((await anna.send('Добрый день')).texts).toEqual(['Клиент отвечает на: Добрый день']);
  });
});

describe('the client’s voice', () => {
  it('/voice shows how the client answers and offers the three choices', async () => {
    const { anna } = inTraining();

    const reaction = await anna.send('/voice');

    expect(reaction.texts).toEqual(['Как отвечает клиент сейчас: как в сценарии: голосом в звонках, текстом в переписке.']);
    expect(reaction.buttons.map((b) => b.data)).toEqual(['vm:on', 'vm:off', 'vm:auto']);
  });

  it('in voice mode the answer is a voice note with its text in the caption; the draft streams first', async () => {
    const { anna, user, speech, bot } = inTraining();
    const menu = await anna.send('/voice');
    const chosen = await anna.press('vm:on');
    expect(chosen.texts).toEqual(['Готово: клиент отвечает голосовыми, а текст ответа остаётся под ними.']);
    expect(bot.services.voiceMode.preferences.get(user.id)).toBe('on');
    expect(menu.messages[0]!.buttons).toEqual([]);

    const reaction = await anna.send('Добрый день!');

    expect(speech.texts).toEqual(['Клиент отвечает на: Добрый день!']);
    expect(reaction.methods).not.toContain('sendMessage');
    expect(reaction.callsOf('sendMessageDraft').at(-1)).toMatchObject({ text: 'Клиент отвечает на: Добрый день!' });
    expect(reaction.callsOf('sendChatAction')).toContainEqual({ chat_id: 7001, action: 'record_voice' });
    const [voice] = reaction.messages;
    expect(Buffer.from(voice!.voice!)).toEqual(Buffer.from(speech.audio));
    expect(voice!.text).toBe('Клиент отвечает на: Добрый день!');
    expect(reaction.callsOf('sendVoice')[0]).toMatchObject({
      caption: 'Клиент отвечает на: Добрый день!',
      voice: { filename: 'reply.ogg' },
    });
  });

  it('in voice mode the client picks up by voice: the opening line is a voice note too', async () => {
    const { bot, speech } = inTraining();
    const boris = bot.user(7002);
    const user = bot.services.access.allow(7002);
    bot.services.voiceMode.preferences.set(user.id, 'on');
    await boris.send('/scenarios');
    await boris.press('sc:cold-call');

    const started = await boris.press('sd:cold-call:easy');

    expect(started.methods.filter((m) => m === 'sendMessage' || m === 'sendVoice')).toEqual([
      'sendMessage',
      'sendMessage',
      'sendVoice',
    ]);
    expect(speech.texts.at(-1)).toBe(started.callsOf('sendVoice')[0]!.caption);
  });

  it('a voice turn in voice mode: heard, then answered by voice', async () => {
    const { anna, user, bot } = inTraining();
    bot.services.voiceMode.preferences.set(user.id, 'on');

    const reaction = await anna.sendVoice(said('Алло, Ирина Сергеевна?'), 2);

    expect(reaction.methods.filter((m) => m === 'sendMessage' || m === 'sendVoice')).toEqual(['sendMessage', 'sendVoice']);
    expect(reaction.texts).toEqual(['🎙 Алло, Ирина Сергеевна?', 'Клиент отвечает на: Алло, Ирина Сергеевна?']);
  });

  it('a call scenario speaks by default; /voice → text makes it write', async () => {
    const { anna } = inTraining({ services: fakeServices({ scenarios: [call, upsell] }) });

    expect((await anna.send('Алло')).methods).toContain('sendVoice');

    await anna.send('/voice');
    await anna.press('vm:off');
    const reaction = await anna.send('Ещё раз');
    expect(reaction.methods).not.toContain('sendVoice');
    expect(reaction.texts).toEqual(['Клиент отвечает на: Ещё раз']);
  });

  it('"as the scenario says" names the call scenarios', async () => {
    const { anna } = inTraining({ services: fakeServices({ scenarios: [call, upsell] }) });
    await anna.send('/voice');

    const reaction = await anna.press('vm:auto');

    expect(reaction.texts).toEqual([
      'Готово: клиент отвечает голосом в сценариях-звонках («Холодный звонок»), текстом — в остальных.',
    ]);
  });

  it('a failed speech synthesis falls back to the text answer, never a lost turn', async () => {
    const { anna, user, speech, bot, training } = inTraining();
    bot.services.voiceMode.preferences.set(user.id, 'on');
    speech.failWith('speech endpoint 503');

    const reaction = await anna.send('Сколько стоит?');

    expect(reaction.texts).toEqual(['Клиент отвечает на: Сколько стоит?']);
    expect(reaction.methods).not.toContain('sendVoice');
    expect(training.callsOf('markReplyDelivered')).toHaveLength(1);
    expect(bot.logs().some((line) => line.level === WARN && line.msg.includes('speech synthesis failed'))).toBe(true);
  });

  it('a chat that refuses voice notes gets the text', async () => {
    const { anna, user, bot } = inTraining();
    bot.services.voiceMode.preferences.set(user.id, 'on');
    bot.refuseNext('sendVoice', { error_code: 400, description: 'Bad Request: VOICE_MESSAGES_FORBIDDEN' });

    const reaction = await anna.send('Сколько стоит?');

    expect(reaction.methods).toContain('sendVoice');
    expect(reaction.texts).toEqual(['Клиент отвечает на: Сколько стоит?']);
  });

  it('an answer longer than a caption: the voice note, then the text in a message', async () => {
    const { anna, user, bot, training } = inTraining();
    bot.services.voiceMode.preferences.set(user.id, 'on');
    const long = 'Я подумаю над вашим предложением и перезвоню. '.repeat(30).trim();
    training.client = () => long;

    const reaction = await anna.send('Что скажете?');

    expect(reaction.methods.filter((m) => m === 'sendMessage' || m === 'sendVoice')).toEqual(['sendVoice', 'sendMessage']);
    expect(reaction.texts).toEqual(['', long]);
  });

  it('VOICE_REPLY_TEXT=message: the text always follows the voice note', async () => {
    const { anna, user, bot } = inTraining({ env: { VOICE_REPLY_TEXT: 'message' } });
    bot.services.voiceMode.preferences.set(user.id, 'on');

    const reaction = await anna.send('Алло');

    expect(reaction.callsOf('sendVoice')[0]).not.toHaveProperty('caption');
    expect(reaction.texts).toEqual(['', 'Клиент отвечает на: Алло']);
  });
});

describe('the evaluation of a spoken dialogue', () => {
  it('adds «Как вы звучали»: the pace, the filler words, the monologues', async () => {
    const { anna, training } = inTraining();
    training.judge = () => ({
      ...defaultEvaluation,
      delivery: {
        voiceTurns: 3,
        spokenSeconds: 80,
        words: 200,
        wordsPerMinute: 150,
        fillers: [
          { word: 'ну', count: 3 },
          { word: 'как бы', count: 1 },
        ],
        longMonologues: 1,
        longestSeconds: 50,
      },
    });
    await anna.sendVoice(said('Добрый день'), 2);

    const text = (await anna.send('/finish')).texts.join('\n');

    expect(text).toContain(
      [
        '<b>Как вы звучали</b>',
        '• Темп: 150 слов в минуту — комфортно для телефонного разговора.',
        '• Слова-паразиты (4): «ну» ×3, «как бы» ×1.',
        '• Длинных монологов (дольше 45 с): 1, самый длинный — 50 с. Говорите короче и давайте клиенту ответить.',
      ].join('\n'),
    );
  });

  it('a typed dialogue has no such section', async () => {
    const { anna } = inTraining();
    await anna.send('Добрый день');

    expect((await anna.send('/finish')).texts.join('\n')).not.toContain('Как вы звучали');
  });
});

describe('a voice note after the client hung up', () => {
  it('is not a turn: «Клиент уже положил трубку…», nothing downloaded, the training not asked', async () => {
    const { anna, user, training, bot } = inTraining();
    const call = training.givenActive(user.id, 'cold-call');
    training.active = async () => ({ ...call, session: { ...call.session, clientHungUpAt: new Date('2030-01-01T09:05:00Z') } });

    const reaction = await anna.sendVoice(said('Алло, вы меня слышите?'), 3);

    expect(reaction.texts).toEqual([
      '📞 Клиент уже положил трубку — он вас не слышит. Отправьте /finish, чтобы получить оценку разговора, или /scenarios, чтобы начать заново.',
    ]);
    expect(bot.downloads).toEqual([]);
    expect(training.callsOf('playSpokenTurn')).toEqual([]);
  });

  it('in voice mode the goodbye is a voice note, then the bot says the client hung up', async () => {
    const { anna, user, training, bot, speech } = inTraining();
    bot.services.voiceMode.preferences.set(user.id, 'on');
    training.playTurn = async () => ({ kind: 'answered', reply: 'Всё, до свидания.', replyId: 501, clientHungUp: true });

    const reaction = await anna.send('Ну подождите, ещё минутку!');

    expect(speech.texts).toEqual(['Всё, до свидания.']);
    expect(reaction.methods.filter((m) => m === 'sendMessage' || m === 'sendVoice')).toEqual(['sendVoice', 'sendMessage']);
    expect(reaction.texts).toEqual([
      'Всё, до свидания.',
      '📞 Клиент положил трубку. Отправьте /finish, чтобы получить оценку, или /scenarios, чтобы начать заново.',
    ]);
  });
});
