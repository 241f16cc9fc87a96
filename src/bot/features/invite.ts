import type { Conversation } from '@grammyjs/conversations';
import { Composer, InlineKeyboard } from 'grammy';
import type { UserId } from '../../db/ids.js';
import type { UserRole } from '../../db/queries/users.js';
import type { BotContext, ConversationContext } from '../context.js';
import { encodeCallback } from '../helpers/callback-data.js';
import { removeButtons } from '../helpers/keyboard.js';
import { outside } from '../helpers/outside.js';
import { isAuthed } from '../middleware/access.js';
import { isManager } from './team.js';
import { dateLocaleOf } from '../helpers/dates.js';

export const createInviteConversation = 'create-invite';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

feature.command('invite', async (ctx) => {
  if (!isManager(ctx)) {
    await ctx.reply(ctx.t('invite-not-allowed'));
    return;
  }
  const request: InviteRequest = { createdBy: ctx.user.id, mayInviteManagers: ctx.user.role === 'admin' };
  await ctx.conversation.enter(createInviteConversation, request);
});

/** Who creates the invite: the conversation's argument, fixed when it is entered (it must be JSON). */
export interface InviteRequest {
  readonly createdBy: UserId;
  /** Admins choose the invitees' role; managers invite trainees. */
  readonly mayInviteManagers: boolean;
}

const usesChoices = [1, 5, 20, 100] as const;
const daysChoices = [1, 7, 30] as const;

/** /invite: how many people, for how long, which role (admins only) — then the link. */
export async function createInvite(
  conversation: Conversation<BotContext, ConversationContext>,
  ctx: ConversationContext,
  request: InviteRequest,
): Promise<void> {
  const maxUses = await choose(
    conversation,
    ctx,
    ctx.t('invite-ask-uses'),
    usesChoices.map((n) => [String(n), n] as const),
  );
  const days = await choose(
    conversation,
    ctx,
    ctx.t('invite-ask-days'),
    daysChoices.map((n) => [String(n), n] as const),
  );
  const role: UserRole = request.mayInviteManagers
    ? await choose(conversation, ctx, ctx.t('invite-ask-role'), [
        [ctx.t('invite-role-trainee'), 'trainee'],
        [ctx.t('invite-role-manager'), 'manager'],
      ] as const)
    : 'trainee';
  const invite = await outside(conversation, async (outer) => {
    const created = await outer.services.team.createInvite({ createdBy: request.createdBy, role, maxUses, days });
    return {
      code: created.code,
      expires: created.expiresAt.toISOString(),
      timeZone: outer.config.teamTimeZone,
    };
  });
  const expires = new Intl.DateTimeFormat(await dateLocaleOf(ctx), {
    timeZone: invite.timeZone,
    dateStyle: 'short',
    timeStyle: 'short',
  }).format(new Date(invite.expires));
  const link = `https://t.me/${ctx.me.username}?start=${invite.code}`;
  await ctx.reply(ctx.t('invite-created', { uses: maxUses, expires, link }));
}

/** Asks with one button per option and returns the chosen value; see `notAnOption` for anything else. */
async function choose<T extends string | number>(
  conversation: Conversation<BotContext, ConversationContext>,
  ctx: ConversationContext,
  question: string,
  options: ReadonlyArray<readonly [label: string, value: T]>,
): Promise<T> {
  const offered = options.map(([label, value], index) => ({
    label,
    value,
    data: encodeCallback({ type: 'invite-option', index }),
  }));
  const keyboard = new InlineKeyboard();
  for (const { label, data } of offered) keyboard.text(label, data);
  await ctx.reply(question, { reply_markup: keyboard });
  const answer = await conversation.waitForCallbackQuery(
    offered.map(({ data }) => data),
    { otherwise: (other) => notAnOption(conversation, other) },
  );
  await answer.answerCallbackQuery();
  await removeButtons(answer);
  const chosen = offered.find(({ data }) => data === answer.callbackQuery.data);
  if (!chosen) throw new Error(`the wait let through a button it was not waiting for: ${answer.callbackQuery.data}`);
  return chosen.value;
}

/**
 * An update that is not one of the question's buttons: /cancel ends the flow, another command leaves
 * it and runs as usual. Anything else gets a reminder, and the plugin drops it: the question stays.
 */
async function notAnOption(
  conversation: Conversation<BotContext, ConversationContext>,
  other: ConversationContext,
): Promise<void> {
  if (other.hasCommand('cancel')) {
    await other.reply(other.t('invite-cancelled'));
    await conversation.halt();
  }
  if (other.message?.text?.startsWith('/')) await conversation.halt({ next: true });
  if (other.callbackQuery) await other.answerCallbackQuery();
  await other.reply(other.t('invite-choose-button'));
}

export const inviteFeature = composer;
