import type { NextFunction } from 'grammy';
import { asTelegramId } from '../../db/ids.js';
import type { AccessDecision } from '../../services/access.js';
import type { AuthedContext, BotContext } from '../context.js';

/**
 * The gate: every update from a person passes here first. Admitted users are registered and put on
 * `ctx.user`; anyone else gets one polite answer naming their Telegram id, and nothing else happens.
 */
export async function accessGate(ctx: BotContext, next: NextFunction): Promise<void> {
  const from = ctx.from;
  // Private chats only; a callback query may come without a chat (forged, or from an inline message).
  if (ctx.chat && ctx.chat.type !== 'private') {
    await leaveGroup(ctx);
    return;
  }
  if (!from || from.is_bot) return;
  const decision = await ctx.services.access.admit(
    {
      telegramId: asTelegramId(from.id),
      username: from.username,
      firstName: from.first_name,
      lastName: from.last_name,
      languageCode: from.language_code,
    },
    inviteCodeOf(ctx),
  );
  if (!decision.admitted) {
    ctx.logger.info({ telegramId: from.id, reason: decision.reason }, 'access refused');
    await refuse(ctx, from.id, decision.reason);
    return;
  }
  ctx.user = decision.user;
  ctx.logger = ctx.logger.child({ userId: decision.user.id });
  if (decision.joinedByInvite) await ctx.reply(ctx.t('start-joined'));
  await next();
}

/**
 * Training happens one to one: a group the bot was added to gets one line saying so, and the bot
 * leaves (so it never reads the group's talk). Telegram's refusal to post there changes nothing.
 */
async function leaveGroup(ctx: BotContext): Promise<void> {
  if (!ctx.message || !ctx.chat) return;
  ctx.logger.info({ chatId: ctx.chat.id, chatType: ctx.chat.type }, 'added to a group chat: leaving it');
  await ctx
    .reply(ctx.t('group-not-supported', { bot: ctx.me.username }))
    .catch((error: unknown) => ctx.logger.warn({ err: error }, 'could not tell the group why the bot leaves'));
  await ctx.leaveChat();
}

/** Narrows any of our contexts to one whose `user` is set: the gate admitted them. */
export function isAuthed<C extends BotContext>(ctx: C): ctx is C & Pick<AuthedContext, 'user'> {
  return ctx.user !== undefined;
}

function inviteCodeOf(ctx: BotContext): string | undefined {
  const text = ctx.message?.text ?? '';
  const match = /^\/start(?:@\w+)?\s+([\w-]{4,64})\s*$/.exec(text);
  return match?.[1];
}

async function refuse(
  ctx: BotContext,
  telegramId: number,
  reason: Extract<AccessDecision, { admitted: false }>['reason'],
): Promise<void> {
  const key = reason === 'not-allowed' ? 'access-refused' : `access-${reason}`;
  const text = ctx.t(key, { telegramId: String(telegramId) });
  if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: text.slice(0, 200), show_alert: true });
  else await ctx.reply(text);
}
