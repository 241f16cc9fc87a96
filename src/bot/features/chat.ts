import { Composer } from 'grammy';
import { formatTeamDateTime } from '../../services/sheets/sheet-layout.js';
import type { BudgetVerdict } from '../../services/usage.js';
import type { AuthedContext, BotContext } from '../context.js';
import { answerTurn } from '../helpers/client-turn.js';
import { isAuthed } from '../middleware/access.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/**
 * Every text in an active session is one role-play turn. Commands are left to their features.
 * A text over the turn rate or the day's token budget is refused, said once, and never reaches the
 * model: the trainee sends it again when allowed (held texts would be answered out of the moment).
 */
feature.on('message:text', async (ctx, next) => {
  if (ctx.message.text.startsWith('/')) return next();
  const { training, limits } = ctx.services;
  const rate = limits.takeTurn(ctx.user.id);
  if (!rate.ok) {
    if (!rate.quiet) await ctx.reply(ctx.t('limits-turn-rate', { seconds: Math.max(1, Math.ceil(rate.retryAfterMs / 1000)) }));
    return;
  }
  const budget = await limits.budget(ctx.user);
  if (budget.kind !== 'ok') {
    await ctx.reply(budgetSpentText(ctx, budget));
    return;
  }
  await answerTurn(ctx, (onText) =>
    training.playTurn({ userId: ctx.user.id, text: ctx.message.text, telegramMessageId: ctx.message.message_id, onText }),
  );
});

/** The day's budget is spent: whose, and when it is renewed (midnight in the team's zone). */
function budgetSpentText(ctx: AuthedContext, budget: Exclude<BudgetVerdict, { kind: 'ok' }>): string {
  const resetsAt = formatTeamDateTime(budget.resetsAt, ctx.config.teamTimeZone);
  return ctx.t(budget.kind === 'user-spent' ? 'limits-user-budget' : 'limits-team-budget', { resetsAt });
}

export const chatFeature = composer;
