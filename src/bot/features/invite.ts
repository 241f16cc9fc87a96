import type { Conversation } from '@grammyjs/conversations';
import { Composer, InlineKeyboard } from 'grammy';
import type { UserRole } from '../../db/queries/users.js';
import type { BotContext, ConversationContext } from '../context.js';
import { isAuthed } from '../middleware/access.js';
import { isManager } from './team.js';

export const createInviteConversation = 'create-invite';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

feature.command('invite', async (ctx) => {
  if (!isManager(ctx)) {
    await ctx.reply(ctx.t('invite-not-allowed'));
    return;
  }
  await ctx.conversation.enter(createInviteConversation);
});

const usesChoices = [1, 5, 20, 100] as const;
const daysChoices = [1, 7, 30] as const;

/** /invite: how many people, for how long, which role (admins only) — then the link. */
export async function createInvite(conversation: Conversation<BotContext, ConversationContext>, ctx: ConversationContext): Promise<void> {
  const maxUses = await choose(conversation, ctx, ctx.t('invite-ask-uses'), usesChoices.map((n) => [String(n), n] as const));
  if (maxUses === undefined) return;
  const days = await choose(conversation, ctx, ctx.t('invite-ask-days'), daysChoices.map((n) => [String(n), n] as const));
  if (days === undefined) return;
  const creator = await conversation.external((outer) => ({ id: outer.user!.id, role: outer.user!.role }));
  let role: UserRole = 'trainee';
  if (creator.role === 'admin') {
    const chosen = await choose(conversation, ctx, ctx.t('invite-ask-role'), [
      [ctx.t('invite-role-trainee'), 'trainee'],
      [ctx.t('invite-role-manager'), 'manager'],
    ] as const);
    if (chosen === undefined) return;
    role = chosen;
  }
  const invite = await conversation.external(async (outer) => {
    const created = await outer.services.team.createInvite({ createdBy: creator.id, role, maxUses, days });
    return {
      code: created.code,
      expires: created.expiresAt.toISOString(),
      mode: outer.config.access.mode,
      timeZone: outer.config.teamTimeZone,
    };
  });
  const expires = new Intl.DateTimeFormat('ru-RU', { timeZone: invite.timeZone, dateStyle: 'short', timeStyle: 'short' }).format(
    new Date(invite.expires),
  );
  const link = `https://t.me/${ctx.me.username}?start=${invite.code}`;
  await ctx.reply(ctx.t('invite-created', { uses: maxUses, expires, link }));
  if (invite.mode !== 'invite') await ctx.reply(ctx.t('invite-mode-note', { mode: invite.mode }));
}

/** Asks with buttons; /cancel or another command ends the flow (undefined). */
async function choose<T extends string | number>(
  conversation: Conversation<BotContext, ConversationContext>,
  ctx: ConversationContext,
  question: string,
  options: ReadonlyArray<readonly [label: string, value: T]>,
): Promise<T | undefined> {
  const keyboard = new InlineKeyboard();
  options.forEach(([label], index) => keyboard.text(label, `invite:${index}`));
  await ctx.reply(question, { reply_markup: keyboard });
  for (;;) {
    const answer = await conversation.wait();
    const data = answer.callbackQuery?.data;
    const index = data?.startsWith('invite:') ? Number(data.slice('invite:'.length)) : NaN;
    if (Number.isInteger(index) && options[index]) {
      await answer.answerCallbackQuery();
      await answer.editMessageReplyMarkup({ reply_markup: undefined }).catch(() => undefined);
      return options[index][1];
    }
    if (answer.message?.text?.startsWith('/')) {
      if (answer.message.text.startsWith('/cancel')) {
        await answer.reply(ctx.t('invite-cancelled'));
        return undefined;
      }
      await conversation.halt({ next: true });
    }
    if (answer.callbackQuery) await answer.answerCallbackQuery();
    await answer.reply(ctx.t('invite-choose-button'));
  }
}

export const inviteFeature = composer;
