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
  const sections = [ctx.t('help')];
  if (ctx.user.role !== 'trainee') sections.push(ctx.t('help-managers'));
  if (ctx.user.role === 'admin') sections.push(ctx.t('help-admins'));
  await ctx.reply(sections.join('\n\n'));
});

export const startFeature = composer;
