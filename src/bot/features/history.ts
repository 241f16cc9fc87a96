import { Composer } from 'grammy';
import type { BotContext } from '../context.js';
import { isAuthed } from '../middleware/access.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

feature.command('history', async (ctx) => {
  const sessions = await ctx.services.training.history(ctx.user.id, 10);
  if (sessions.length === 0) {
    await ctx.reply(ctx.t('history-empty'));
    return;
  }
  const dateFormat = new Intl.DateTimeFormat(ctx.config.defaultLocale === 'en' ? 'en-GB' : 'ru-RU', {
    timeZone: ctx.config.teamTimeZone,
    day: '2-digit',
    month: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  const lines = sessions.map((s) => {
    const outcome =
      s.totalScore !== null
        ? `${s.totalScore}/100`
        : s.status === 'active'
          ? ctx.t('history-in-progress')
          : s.status === 'abandoned'
            ? ctx.t('history-abandoned')
            : ctx.t('history-not-scored');
    return `${dateFormat.format(s.startedAt)} · ${s.scenarioTitle} · ${outcome}`;
  });
  await ctx.reply([ctx.t('history-title'), ...lines].join('\n'));
});

feature.command('stats', async (ctx) => {
  const stats = await ctx.services.team.userStats(ctx.user.id);
  if (stats.count === 0) {
    await ctx.reply(ctx.t('stats-empty'));
    return;
  }
  const byScenario = stats.byScenario.map((s) => {
    const title = ctx.services.scenarios.find(s.scenarioKey)?.title ?? s.scenarioKey;
    return `• ${title}: ${s.count} × ${s.average}/100, ${s.best}/100 max`;
  });
  await ctx.reply(
    [
      ctx.t('stats-summary', { count: stats.count, average: stats.average, best: stats.best, last: stats.last }),
      '',
      ctx.t('stats-by-scenario'),
      ...byScenario,
    ].join('\n'),
  );
});

export const historyFeature = composer;
