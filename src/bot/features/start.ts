import { Composer } from 'grammy';
import type { BotContext } from '../context.js';
import { isAuthed } from '../middleware/access.js';
import { showScenarioMenu } from './scenarios.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

feature.command('start', async (ctx) => {
  await ctx.reply(ctx.t('start-welcome', { name: ctx.from.first_name }));
  await showScenarioMenu(ctx);
});

feature.command('help', async (ctx) => {
  const forManagers = ctx.user.role !== 'trainee';
  await ctx.reply(forManagers ? `${ctx.t('help')}\n\n${ctx.t('help-managers')}` : ctx.t('help'));
});

export const startFeature = composer;
