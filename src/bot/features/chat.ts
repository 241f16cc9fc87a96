import { Composer } from 'grammy';
import type { BotContext } from '../context.js';
import { streamReply } from '../helpers/stream-reply.js';
import { isAuthed } from '../middleware/access.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/** Every text in an active session is one role-play turn. Commands are left to their features. */
feature.on('message:text', async (ctx, next) => {
  if (ctx.message.text.startsWith('/')) return next();
  const { training } = ctx.services;
  let noSession = false;
  let replyId: number | undefined;
  await streamReply(ctx, async (onText) => {
    const result = await training.playTurn({
      userId: ctx.user.id,
      text: ctx.message.text,
      telegramMessageId: ctx.message.message_id,
      onText,
    });
    switch (result.kind) {
      case 'answered':
        replyId = result.replyId;
        return result.reply;
      case 'already-answered':
        return undefined;
      case 'no-session':
        noSession = true;
        return undefined;
      default: {
        const unreachable: never = result;
        throw new Error(`unhandled turn ${JSON.stringify(unreachable)}`);
      }
    }
  });
  if (replyId !== undefined) await training.markReplyDelivered(replyId);
  if (noSession) await ctx.reply(ctx.t('chat-no-session'));
});

export const chatFeature = composer;
