import { Composer } from 'grammy';
import { passesLimits } from '../helpers/limit-gate.js';
import { KnowledgeUnavailableError, type Hint } from '../../services/hints.js';
import type { Difficulty } from '../../services/scenarios.js';
import { withUsage } from '../../services/usage.js';
import type { BotContext } from '../context.js';
import { isAuthed } from '../middleware/access.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/** Telegram shows "typing…" for about five seconds; a model's answer can take longer. */
const typingEveryMs = 4_500;

/**
 * /hint: short advice for this moment of the dialogue, from the company's internal documents, with
 * its source. Only read: the hint is never a turn of the dialogue and is never stored.
 */
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
  if (!(await passesLimits(ctx, 'hint'))) return;
  const dialogue = await training.dialogueSoFar(active.session.id);
  const readerLanguage = await ctx.i18n.getLocale();
  await ctx.reply(ctx.t('hint-thinking'));
  let hint: Hint | undefined;
  try {
    const bill = { purpose: 'hint', userId: ctx.user.id, sessionId: active.session.id } as const;
    hint = await whileTyping(ctx, () =>
      withUsage(bill, () =>
        hints.advise({
          scenario: active.scenario,
          difficulty: active.session.difficulty as Difficulty,
          dialogue,
          readerLanguage,
        }),
      ),
    );
  } catch (error) {
    if (!(error instanceof KnowledgeUnavailableError)) throw error;
    ctx.logger.warn({ err: error }, 'hint: knowledge base unavailable');
    await ctx.reply(ctx.t('hint-unavailable'));
    return;
  }
  // Plain text: the advice and the passage are the model's and the documents' words, sent as written.
  await ctx.reply(hint ? hintText(ctx.t.bind(ctx), hint) : ctx.t('hint-nothing'));
});

type Translate = (key: string, variables?: Record<string, string | number>) => string;

function hintText(t: Translate, hint: Hint): string {
  switch (hint.kind) {
    case 'advice':
      return t('hint-advice', { advice: hint.advice, phrase: hint.phrase, source: hint.source });
    case 'passage':
      return t('hint-passage', { text: hint.text, source: hint.source });
    default: {
      const unreachable: never = hint;
      throw new Error(`unhandled hint ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Keeps "typing…" in the chat until `work` ends; a refused chat action only costs the indicator. */
async function whileTyping<T>(ctx: BotContext, work: () => Promise<T>): Promise<T> {
  const sendTyping = () =>
    ctx.replyWithChatAction('typing').catch((error: unknown) => ctx.logger.debug({ err: error }, 'typing failed'));
  await sendTyping();
  const typing = setInterval(() => void sendTyping(), typingEveryMs);
  try {
    return await work();
  } finally {
    clearInterval(typing);
  }
}

export const hintFeature = composer;
