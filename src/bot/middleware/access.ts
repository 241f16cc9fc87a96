import type { NextFunction } from 'grammy';
import { asTelegramId } from '../../db/ids.js';
import type { User } from '../../db/queries/users.js';
import type { AccessDecision } from '../../services/access.js';
import { tellJoins, tellRefusal, type AccessNoticeDeps } from '../access-notices.js';
import { setRoleMenu } from '../command-menus.js';
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
  const inviteCode = inviteCodeOf(ctx);
  const decision = await ctx.services.access.admit(
    {
      telegramId: asTelegramId(from.id),
      username: from.username,
      firstName: from.first_name,
      lastName: from.last_name,
      languageCode: from.language_code,
    },
    inviteCode,
  );
  if (!decision.admitted) {
    ctx.logger.info({ telegramId: from.id, reason: decision.reason }, 'access refused');
    await refuse(ctx, from.id, decision.reason);
    if (decision.reason !== 'revoked') {
      // Stored before this: a notice that cannot go now goes with the person's next try.
      await tellRefusal(noticeDeps(ctx), asTelegramId(from.id)).catch((error: unknown) =>
        ctx.logger.warn({ err: error }, 'admins could not be told of a refused person yet'),
      );
    }
    return;
  }
  ctx.user = decision.user;
  ctx.logger = ctx.logger.child({ userId: decision.user.id });
  if (decision.menuChanged) await updateMenu(ctx, decision.user);
  if (decision.joinedByInvite) await ctx.reply(ctx.t('start-joined'));
  // Also when the redemption's reply was lost and this is its retry: only a joining not told yet is told.
  if (decision.joinedByInvite || inviteCode) {
    await tellJoins(noticeDeps(ctx), decision.user.id).catch((error: unknown) =>
      ctx.logger.warn({ err: error }, 'the inviter could not be told yet: told at the next start'),
    );
  }
  await next();
}

export function noticeDeps(ctx: BotContext): AccessNoticeDeps {
  return {
    api: ctx.api,
    access: ctx.services.access,
    translate: (locale, key, variables) => ctx.i18n.fluent.translate(locale, key, variables),
    defaultLocale: ctx.config.defaultLocale,
    logger: ctx.logger,
  };
}

/** A person who now leads (or no longer does) gets the menu of their role; the menu is no reason to stop. */
async function updateMenu(ctx: BotContext, user: User): Promise<void> {
  const translate = (locale: string, key: string) => ctx.i18n.fluent.translate(locale, key);
  await setRoleMenu(ctx.api, translate, ctx.config.defaultLocale, user).catch((error: unknown) =>
    ctx.logger.warn({ err: error }, 'could not change the command menu'),
  );
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
