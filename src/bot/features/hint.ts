import { Composer } from 'grammy';
import { KnowledgeUnavailableError } from '../../services/hints.js';
import type { BotContext } from '../context.js';
import { isAuthed } from '../middleware/access.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/** /hint: the passage of the knowledge base that fits the dialogue so far, with its source. */
feature.command('hint', async (ctx) => {
  const { training, hints } = ctx.services;
  const active = await training.active(ctx.user.id);
  if (!active) {
    await ctx.reply(ctx.t('hint-no-session'));
    return;
  }
  if (!hints) {
    await ctx.reply(ctx.t('hint-unavailable'));
    return;
  }
  try {
    const query = await training.recentDialogue(active.session.id);
    const passage = await hints.bestPassage(query || active.scenario.description);
    if (!passage) {
      await ctx.reply(ctx.t('hint-nothing'));
      return;
    }
    await ctx.reply(`${ctx.t('hint-title')}\n\n${passage.text}\n\n${ctx.t('hint-source', { source: passage.source })}`);
  } catch (error) {
    if (!(error instanceof KnowledgeUnavailableError)) throw error;
    ctx.logger.warn({ err: error }, 'hint: knowledge base unavailable');
    await ctx.reply(ctx.t('hint-unavailable'));
  }
});

export const hintFeature = composer;
