import { Composer } from 'grammy';
import { displayName } from '../../db/queries/users.js';
import type { AuthedContext, BotContext } from '../context.js';
import { isolated } from '../helpers/bidi.js';
import { packLines } from '../helpers/split-message.js';
import { isAuthed } from '../middleware/access.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

export function isManager(ctx: Pick<AuthedContext, 'user'>): boolean {
  return ctx.user.role === 'manager' || ctx.user.role === 'admin';
}

feature.command('team', async (ctx) => {
  if (!isManager(ctx)) {
    await ctx.reply(ctx.t('team-not-allowed'));
    return;
  }
  const results = await ctx.services.team.teamResults();
  if (results.length === 0) {
    await ctx.reply(ctx.t('team-empty'));
    return;
  }
  const lines = results.map((r) =>
    ctx.t('team-line', { name: isolated(displayName(r)), count: r.count, average: r.average, last: r.last }),
  );
  // A big team does not fit one message: whole lines, as many messages as needed.
  for (const text of packLines([ctx.t('team-title'), ...lines])) await ctx.reply(text);
});

export const teamFeature = composer;
