import { GrammyError, InputFile } from 'grammy';
import type { Chat } from 'grammy/types';
import { SpeechSynthesisError } from '../../services/text-to-speech.js';
import { withUsage } from '../../services/usage.js';
import type { BotContext } from '../context.js';
import { splitMessage } from './split-message.js';

/** Telegram's limit on a caption, in characters after parsing (plain text here). */
export const captionLimit = 1_024;

/**
 * The client's answer as a voice note (`sendVoice`, Ogg Opus), its text in the caption or in a
 * message after it (VOICE_REPLY_TEXT), so the trainee can reread it. A failed synthesis, or a chat
 * that refuses voice notes, gets the text answer instead: a turn is never lost to the voice.
 */
export async function sendVoiceReply(ctx: BotContext & { readonly chat: Chat }, text: string): Promise<void> {
  let audio: Uint8Array;
  try {
    const synthesize = () => ctx.services.speech.synthesize(text);
    audio = await (ctx.user ? withUsage({ purpose: 'speech', userId: ctx.user.id }, synthesize) : synthesize());
  } catch (error) {
    if (!(error instanceof SpeechSynthesisError)) throw error;
    ctx.logger.warn({ err: error }, 'speech synthesis failed; the answer goes out as text');
    await sendText(ctx, text);
    return;
  }
  const inCaption = ctx.config.speech.replyText === 'caption' && text.length <= captionLimit;
  try {
    await ctx.api.sendVoice(ctx.chat.id, new InputFile(audio, 'reply.ogg'), inCaption ? { caption: text } : {});
  } catch (error) {
    // VOICE_MESSAGES_FORBIDDEN: the trainee's privacy settings refuse voice notes from bots.
    if (!(error instanceof GrammyError)) throw error;
    ctx.logger.warn({ err: error }, 'Telegram refused the voice answer; it goes out as text');
    await sendText(ctx, text);
    return;
  }
  if (!inCaption) await sendText(ctx, text);
}

async function sendText(ctx: BotContext & { readonly chat: Chat }, text: string): Promise<void> {
  for (const part of splitMessage(text)) await ctx.api.sendMessage(ctx.chat.id, part);
}
