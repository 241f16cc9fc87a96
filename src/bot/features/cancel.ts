import type { Conversation } from '@grammyjs/conversations';
import { Composer, InlineKeyboard } from 'grammy';
import type { UserId } from '../../db/ids.js';
import type { BotContext, ConversationContext } from '../context.js';
import { decodeCallback, encodeCallback } from '../helpers/callback-data.js';
import { removeButtons } from '../helpers/keyboard.js';
import { outside } from '../helpers/outside.js';
import { isAuthed } from '../middleware/access.js';

export const cancelTrainingConversation = 'cancel-training';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/** /cancel: the way out of a training without a score, after a question; without one, nothing to cancel. */
feature.command('cancel', async (ctx) => {
  const active = await ctx.services.training.active(ctx.user.id);
  if (!active) {
    await ctx.reply(ctx.t('cancel-nothing'));
    return;
  }
  const request: CancelTrainingRequest = { userId: ctx.user.id };
  await ctx.conversation.enter(cancelTrainingConversation, request);
});

// The answer to a question that is no longer open (a text or a command came in between): ask again.
feature.on('callback_query:data', async (ctx, next) => {
  if (decodeCallback(ctx.callbackQuery.data)?.type !== 'cancel-training') return next();
  await ctx.answerCallbackQuery({ text: ctx.t('cancel-question-closed'), show_alert: true });
  await removeButtons(ctx);
});

/** Whose training the question is about: the conversation's argument (it must be JSON). */
export interface CancelTrainingRequest {
  readonly userId: UserId;
}

/**
 * «Прервать тренировку «…» без оценки?» with «Прервать» and «Продолжить». Anything other than the
 * two buttons leaves the question and is handled as usual: a text is a turn of the training.
 */
export async function cancelTraining(
  conversation: Conversation<BotContext, ConversationContext>,
  ctx: ConversationContext,
  request: CancelTrainingRequest,
): Promise<void> {
  const title = await outside(
    conversation,
    async (outer) => (await outer.services.training.active(request.userId))?.scenario.title,
  );
  if (!title) {
    await ctx.reply(ctx.t('cancel-nothing'));
    return;
  }
  const abandon = encodeCallback({ type: 'cancel-training', answer: 'yes' });
  const keep = encodeCallback({ type: 'cancel-training', answer: 'no' });
  await ctx.reply(ctx.t('cancel-confirm', { title }), {
    reply_markup: new InlineKeyboard().text(ctx.t('cancel-button-abandon'), abandon).text(ctx.t('cancel-button-keep'), keep),
  });
  const answer = await conversation.waitForCallbackQuery([abandon, keep], {
    otherwise: () => conversation.halt({ next: true }),
  });
  await answer.answerCallbackQuery();
  await removeButtons(answer);
  if (answer.callbackQuery.data === keep) {
    await answer.reply(ctx.t('cancel-kept', { title }));
    return;
  }
  // Abandoned sessions get no evaluation: they never reach the stats or the managers' sheet.
  const abandoned = await outside(conversation, (outer) => outer.services.training.abandon(request.userId));
  if (abandoned) await answer.reply(ctx.t('cancel-done', { title }));
  else await answer.reply(ctx.t('cancel-already-over', { title }));
}

export const cancelFeature = composer;
