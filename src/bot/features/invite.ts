import type { Conversation } from '@grammyjs/conversations';
import { Composer } from 'grammy';
import type { UserId } from '../../db/ids.js';
import type { UserRole } from '../../db/queries/users.js';
import type { BotContext, ConversationContext } from '../context.js';
import { encodeCallback } from '../helpers/callback-data.js';
import { askWithButtons } from '../helpers/button-question.js';
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

/** Asks with one button per option, in one row, and returns the chosen value. */
function choose<T extends string | number>(
  conversation: Conversation<BotContext, ConversationContext>,
  ctx: ConversationContext,
  question: string,
  options: ReadonlyArray<readonly [label: string, value: T]>,
): Promise<T> {
  return askWithButtons(conversation, ctx, question, options, {
    dataOf: (index) => encodeCallback({ type: 'invite-option', index }),
    layout: 'row',
    cancelledKey: 'invite-cancelled',
    chooseButtonKey: 'invite-choose-button',
  });
}

export const inviteFeature = composer;
