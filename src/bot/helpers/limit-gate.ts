import { formatTeamDateTime } from '../../services/sheets/sheet-layout.js';
import type { BudgetVerdict } from '../../services/usage.js';
import type { AuthedContext } from '../context.js';

/**
 * The per-person limits in front of a model call: a turn over the rate or a call over the day's
 * token budget is refused, said once, and never reaches the model; the trainee sends it again when
 * allowed (held texts would be answered out of the moment). True when the call may go on.
 */
export async function passesLimits(ctx: AuthedContext, what: 'turn' | 'hint'): Promise<boolean> {
  const { limits } = ctx.services;
  if (what === 'turn') {
    const rate = limits.takeTurn(ctx.user.id);
    if (!rate.ok) {
      if (!rate.quiet) await ctx.reply(ctx.t('limits-turn-rate', { seconds: Math.max(1, Math.ceil(rate.retryAfterMs / 1000)) }));
      return false;
    }
  }
  const budget = await limits.budget(ctx.user);
  if (budget.kind === 'ok') return true;
  await ctx.reply(budgetSpentText(ctx, budget, what));
  return false;
}

/** The day's budget is spent: whose, and when it is renewed (midnight in the team's zone). */
function budgetSpentText(ctx: AuthedContext, budget: Exclude<BudgetVerdict, { kind: 'ok' }>, what: 'turn' | 'hint'): string {
  const resetsAt = formatTeamDateTime(budget.resetsAt, ctx.config.teamTimeZone);
  if (what === 'hint') return ctx.t('limits-hint-budget', { resetsAt });
  return ctx.t(budget.kind === 'user-spent' ? 'limits-user-budget' : 'limits-team-budget', { resetsAt });
}
