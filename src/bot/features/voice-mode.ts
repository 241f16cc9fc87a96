import { Composer, InlineKeyboard } from 'grammy';
import type { VoicePreference } from '../../db/queries/users.js';
import { repliesByVoiceByDefault } from '../../services/scenarios.js';
import type { AuthedContext, BotContext } from '../context.js';
import { decodeCallback, encodeCallback, type VoiceModeChoice } from '../helpers/callback-data.js';
import { removeButtons } from '../helpers/keyboard.js';
import { isAuthed } from '../middleware/access.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/** /voice: how the client answers now, and three buttons to change it. Kept across restarts. */
feature.command('voice', async (ctx) => {
  const choice = choiceOf(await ctx.services.voiceMode.preference(ctx.user.id));
  await ctx.reply(ctx.t('voice-mode-title', { state: stateText(ctx, choice) }), { reply_markup: voiceModeKeyboard(ctx) });
});

feature.on('callback_query:data', async (ctx, next) => {
  const action = decodeCallback(ctx.callbackQuery.data);
  if (action?.type !== 'voice-mode') return next();
  await ctx.services.voiceMode.setPreference(ctx.user.id, preferenceOf(action.choice));
  await ctx.answerCallbackQuery();
  await removeButtons(ctx);
  await ctx.reply(confirmation(ctx, action.choice));
});

function voiceModeKeyboard(ctx: AuthedContext): InlineKeyboard {
  const button = (choice: VoiceModeChoice, key: string) =>
    InlineKeyboard.text(ctx.t(key), encodeCallback({ type: 'voice-mode', choice }));
  return InlineKeyboard.from([
    [button('on', 'button-voice-on'), button('off', 'button-voice-off')],
    [button('auto', 'button-voice-auto')],
  ]);
}

function stateText(ctx: AuthedContext, choice: VoiceModeChoice): string {
  switch (choice) {
    case 'on':
      return ctx.t('voice-mode-state-on');
    case 'off':
      return ctx.t('voice-mode-state-off');
    case 'auto':
      return ctx.t('voice-mode-state-auto');
    default: {
      const unreachable: never = choice;
      throw new Error(`unknown voice mode ${String(unreachable)}`);
    }
  }
}

function confirmation(ctx: AuthedContext, choice: VoiceModeChoice): string {
  switch (choice) {
    case 'on':
      return ctx.t('voice-mode-set-on');
    case 'off':
      return ctx.t('voice-mode-set-off');
    case 'auto': {
      const calls = ctx.services.scenarios.all.filter(repliesByVoiceByDefault).map((s) => `«${s.title}»`);
      return calls.length > 0 ? ctx.t('voice-mode-set-auto', { titles: calls.join(', ') }) : ctx.t('voice-mode-set-auto-none');
    }
    default: {
      const unreachable: never = choice;
      throw new Error(`unknown voice mode ${String(unreachable)}`);
    }
  }
}

const choiceOf = (preference: VoicePreference): VoiceModeChoice => preference ?? 'auto';
const preferenceOf = (choice: VoiceModeChoice): VoicePreference => (choice === 'auto' ? null : choice);

export const voiceModeFeature = composer;
