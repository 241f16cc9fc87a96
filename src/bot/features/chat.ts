import { Composer } from 'grammy';
import type { BotContext } from '../context.js';
import { answerTurn } from '../helpers/client-turn.js';
import { passesLimits } from '../helpers/limit-gate.js';
import { isAuthed } from '../middleware/access.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/** Every text in an active session is one role-play turn. Commands are left to their features. */
feature.on('message:text', async (ctx, next) => {
  if (ctx.message.text.startsWith('/')) return next();
  if (!(await passesLimits(ctx, 'turn'))) return;
  await answerTurn(ctx, (onText) =>
    ctx.services.training.playTurn({
      userId: ctx.user.id,
      text: ctx.message.text,
      telegramMessageId: ctx.message.message_id,
      onText,
    }),
  );
});

export const chatFeature = composer;
