import { Composer } from 'grammy';
import { asTelegramId, type TelegramId } from '../../db/ids.js';
import { displayName, type User } from '../../db/queries/users.js';
import type { AccessRequest } from '../../db/queries/access.js';
import type { AllowResult } from '../../services/access.js';
import type { AuthedContext, BotContext } from '../context.js';
import { isolated } from '../helpers/bidi.js';
import { decodeAccessCallback } from '../helpers/callback-data.js';
import { removeButtons } from '../helpers/keyboard.js';
import { negotiateLocale } from '../i18n.js';
import { isAuthed } from '../middleware/access.js';
import { isAdmin } from './erase.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/** /allow <telegram id> [<manager's telegram id or @username>]: lets a person in, into a team if named. */
feature.command('allow', async (ctx) => {
  if (!isAdmin(ctx)) {
    await ctx.reply(ctx.t(ctx.user.role === 'manager' ? 'allow-managers-invite' : 'allow-not-allowed'));
    return;
  }
  const [first, managerReference, ...rest] = ctx.match.trim().split(/\s+/).filter(Boolean);
  const telegramId = telegramIdIn(first);
  if (telegramId === undefined || rest.length > 0) {
    await ctx.reply(ctx.t('allow-usage'));
    return;
  }
  const result = await ctx.services.access.grant(telegramId, ctx.user, managerReference);
  ctx.logger.info({ telegramId, result: result.kind }, '/allow');
  await ctx.reply(allowAnswer(ctx, telegramId, result, managerReference ?? ''));
  if (result.kind === 'allowed' && result.request) await tellAdmitted(ctx, telegramId, result.request);
});

/** /revoke <telegram id>: shuts a person out at once; admins of ADMIN_USER_IDS cannot be. */
feature.command('revoke', async (ctx) => {
  if (!isAdmin(ctx)) {
    await ctx.reply(ctx.t('revoke-not-allowed'));
    return;
  }
  const [first, ...rest] = ctx.match.trim().split(/\s+/).filter(Boolean);
  const telegramId = telegramIdIn(first);
  if (telegramId === undefined || rest.length > 0) {
    await ctx.reply(ctx.t('revoke-usage'));
    return;
  }
  const result = await ctx.services.access.revoke(telegramId, ctx.user);
  ctx.logger.info({ telegramId, result: result.kind }, '/revoke');
  const id = String(telegramId);
  switch (result.kind) {
    case 'revoked':
      await ctx.reply(
        result.person
          ? ctx.t('revoke-done-named', { telegramId: id, name: isolated(displayName(result.person)) })
          : ctx.t('revoke-done', { telegramId: id }),
      );
      return;
    case 'admin':
      await ctx.reply(ctx.t('revoke-admin', { telegramId: id }));
      return;
    case 'already-revoked':
      await ctx.reply(ctx.t('revoke-already', { telegramId: id }));
      return;
    case 'not-allowed':
      await ctx.reply(ctx.t('revoke-unknown', { telegramId: id }));
      return;
    default: {
      const unreachable: never = result;
      throw new Error(`unknown revoke result ${JSON.stringify(unreachable)}`);
    }
  }
});

/** «Допустить» under a refused person's notice: lets them in and tells both sides. */
feature.on('callback_query:data', async (ctx, next) => {
  const action = decodeAccessCallback(ctx.callbackQuery.data);
  if (!action) return next();
  // Checked again on the press: a forged button, or one pressed by someone who no longer may, admits nobody.
  const result = await ctx.services.access.admitRequest(action.telegramId, ctx.user);
  const id = String(action.telegramId);
  if (result.kind === 'forbidden') {
    await ctx.answerCallbackQuery({ text: ctx.t('admit-not-allowed'), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery();
  await removeButtons(ctx);
  ctx.logger.info({ telegramId: action.telegramId, result: result.kind }, 'admitted from a refusal notice');
  if (result.kind === 'already-allowed') {
    await ctx.reply(ctx.t('admit-already', { telegramId: id }));
    return;
  }
  await ctx.reply(
    result.manager
      ? ctx.t('admit-done-team', { telegramId: id, manager: isolated(displayName(result.manager)) })
      : ctx.t('admit-done', { telegramId: id }),
  );
  await tellAdmitted(ctx, action.telegramId, result.request);
});

/** The person let in hears it in their language; they wrote to the bot before, so the chat exists. */
async function tellAdmitted(ctx: AuthedContext, telegramId: TelegramId, request: AccessRequest | undefined): Promise<void> {
  const locale = negotiateLocale(request?.languageCode, ctx.config.defaultLocale);
  await ctx.api
    .sendMessage(telegramId, ctx.i18n.fluent.translate(locale, 'access-granted-you'))
    .catch((error: unknown) => ctx.logger.warn({ err: error, telegramId }, 'the admitted person could not be told'));
}

function allowAnswer(ctx: AuthedContext, telegramId: TelegramId, result: AllowResult, managerReference: string): string {
  const id = String(telegramId);
  const nameOf = (manager: User) => isolated(displayName(manager));
  switch (result.kind) {
    case 'allowed':
      return result.manager
        ? ctx.t('allow-done-team', { telegramId: id, manager: nameOf(result.manager) })
        : ctx.t('allow-done', { telegramId: id });
    case 'already-allowed':
      return result.manager
        ? ctx.t('allow-already-team', { telegramId: id, manager: nameOf(result.manager) })
        : ctx.t('allow-already', { telegramId: id });
    case 'manager-unknown':
      return ctx.t('allow-manager-unknown', { manager: isolated(managerReference) });
    case 'not-a-manager':
      return ctx.t('allow-not-a-manager', { manager: nameOf(result.manager) });
    default: {
      const unreachable: never = result;
      throw new Error(`unknown allow result ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The Telegram id after the command: digits only, as Telegram shows it. */
function telegramIdIn(text: string | undefined): TelegramId | undefined {
  if (!text || !/^[1-9]\d{0,15}$/.test(text)) return undefined;
  const id = Number(text);
  return Number.isSafeInteger(id) ? asTelegramId(id) : undefined;
}

export const allowFeature = composer;
