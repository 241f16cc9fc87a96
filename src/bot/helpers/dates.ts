import type { BotContext } from '../context.js';

/** The reader's date format: the locale the bot speaks to them in (dd.mm for Russian, dd/mm for English). */
export async function dateLocaleOf(ctx: Pick<BotContext, 'i18n'>): Promise<'ru-RU' | 'en-GB'> {
  return (await ctx.i18n.getLocale()) === 'en' ? 'en-GB' : 'ru-RU';
}
