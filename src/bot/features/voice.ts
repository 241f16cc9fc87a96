import { Composer, InlineKeyboard } from 'grammy';
import type { Message } from 'grammy/types';
import { asTelegramFileId } from '../../db/ids.js';
import type { SpokenAudio } from '../../db/queries/messages.js';
import type { SpokenTurnHooks } from '../../services/training/index.js';
import type { AuthedContext, BotContext } from '../context.js';
import { passesLimits } from '../helpers/limit-gate.js';
import { decodeCallback, encodeCallback } from '../helpers/callback-data.js';
import { answerTurn } from '../helpers/client-turn.js';
import { removeButtons } from '../helpers/keyboard.js';
import { telegramAudioDownloader, telegramDownloadLimitBytes } from '../helpers/telegram-file.js';
import { isAuthed } from '../middleware/access.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/**
 * A voice note, an audio file or a round video note in a training is the trainee's turn: heard,
 * shown back («🎙 …», so a misheard word can be corrected by a text), then answered like any turn.
 */
feature.on(['message:voice', 'message:audio', 'message:video_note'], async (ctx) => {
  const note = spokenNoteOf(ctx.message);
  const { training } = ctx.services;
  if (!(await training.active(ctx.user.id))) {
    await ctx.reply(ctx.t('unhandled-voice'));
    return;
  }
  // Checked before anything is downloaded or stored: such a note could never become a turn.
  if (note.fileSize !== undefined && note.fileSize > telegramDownloadLimitBytes) {
    await ctx.reply(ctx.t('voice-too-big', { mb: telegramDownloadLimitBytes / 1024 / 1024 }));
    return;
  }
  if (note.audio.seconds > ctx.config.speech.maxSeconds) {
    await ctx.reply(ctx.t('voice-too-long', { max: ctx.config.speech.maxSeconds }));
    return;
  }
  if (!(await passesLimits(ctx, 'turn'))) return;
  await answerTurn(ctx, (onText) =>
    training.playSpokenTurn({
      userId: ctx.user.id,
      telegramMessageId: ctx.message.message_id,
      audio: note.audio,
      ...spokenTurnHooks(ctx, onText),
    }),
  );
});

/** «Повторить» under a failed transcription: the stored turn is transcribed again, and answered. */
feature.on('callback_query:data', async (ctx, next) => {
  const action = decodeCallback(ctx.callbackQuery.data);
  if (action?.type !== 'retry-transcription' || !ctx.chat) return next();
  await ctx.answerCallbackQuery();
  await removeButtons(ctx);
  const chatCtx = ctx as typeof ctx & { chat: NonNullable<typeof ctx.chat> };
  const outcome = await answerTurn(chatCtx, (onText) =>
    ctx.services.training.retrySpokenTurn({
      userId: ctx.user.id,
      messageId: action.messageId,
      ...spokenTurnHooks(chatCtx, onText),
    }),
  );
  if (outcome === 'moved-on') await ctx.reply(ctx.t('voice-moved-on'));
  if (outcome === 'already-answered') await ctx.reply(ctx.t('voice-retry-done'));
});

/** How a spoken turn reaches Telegram's file and shows its transcript. */
function spokenTurnHooks(ctx: AuthedContext, onText: (textSoFar: string) => void): SpokenTurnHooks {
  return {
    download: telegramAudioDownloader({
      api: ctx.api,
      apiRoot: ctx.config.telegramApiRoot,
      token: ctx.config.botToken,
      fetch: ctx.runtime.fetchFile,
    }),
    onTranscript: async (transcript) => {
      await ctx.reply(ctx.t('voice-heard', { transcript: shortTranscript(transcript) }));
    },
    onText,
  };
}

/** The transcript as shown back: enough to spot a misheard word, short enough to read at a glance. */
const shownTranscriptLimit = 300;
export function shortTranscript(transcript: string): string {
  const oneLine = transcript.replace(/\s+/g, ' ').trim();
  return oneLine.length > shownTranscriptLimit ? `${oneLine.slice(0, shownTranscriptLimit).trimEnd()}…` : oneLine;
}

/** The retry button under a failed transcription. */
export function retryTranscriptionKeyboard(label: string, messageId: number): InlineKeyboard {
  return new InlineKeyboard().text(label, encodeCallback({ type: 'retry-transcription', messageId }));
}

type SpokenMessage = Message &
  (Pick<Message.VoiceMessage, 'voice'> | Pick<Message.AudioMessage, 'audio'> | Pick<Message.VideoNoteMessage, 'video_note'>);

function spokenNoteOf(message: SpokenMessage): { readonly audio: SpokenAudio; readonly fileSize: number | undefined } {
  const [kind, file] =
    'voice' in message && message.voice
      ? (['voice', message.voice] as const)
      : 'audio' in message && message.audio
        ? (['audio', message.audio] as const)
        : (['video_note', (message as Message.VideoNoteMessage).video_note] as const);
  return {
    audio: { kind, seconds: Math.max(0, Math.round(file.duration)), telegramFileId: asTelegramFileId(file.file_id) },
    fileSize: file.file_size,
  };
}

export const voiceFeature = composer;
