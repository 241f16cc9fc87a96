import type { Conversation } from '@grammyjs/conversations';
import { Composer, InlineKeyboard } from 'grammy';
import type { SessionId, UserId } from '../../db/ids.js';
import type { StoredReview } from '../../db/queries/reviews.js';
import type { UserRole } from '../../db/queries/users.js';
import { scopeOf } from '../../services/team.js';
import type { BotContext, ConversationContext } from '../context.js';
import { decodeCallback, encodeCallback } from '../helpers/callback-data.js';
import { escapeHtml } from '../helpers/html.js';
import { outside } from '../helpers/outside.js';
import { negotiateLocale } from '../i18n.js';
import { isAuthed } from '../middleware/access.js';
import { isManager } from './team.js';

export const reviewEvaluationConversation = 'review-evaluation';

type Translate = (key: string, variables?: Record<string, string | number>) => string;

/** A comment longer than this is refused (with the limit said): it is read on a phone, and kept in the sheet. */
export const reviewCommentLimit = 1000;

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/** «✏️ Пересмотреть оценку» on a team session: the score, then the comment (reviewEvaluation). */
feature.on('callback_query:data', async (ctx, next) => {
  const action = decodeCallback(ctx.callbackQuery.data);
  if (action?.type !== 'review-evaluation') return next();
  // Checked on every button: callback data can be forged, and a manager may have lost the person since.
  const opened = isManager(ctx) ? await ctx.services.team.teamSession(scopeOf(ctx.user), action.sessionId) : undefined;
  if (!opened?.evaluation) {
    ctx.logger.warn({ sessionId: action.sessionId }, 'review refused: not a scored session of this manager’s team');
    await ctx.answerCallbackQuery({ text: ctx.t('team-session-unavailable'), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery();
  const request: ReviewRequest = { sessionId: action.sessionId, reviewerId: ctx.user.id, reviewerRole: ctx.user.role };
  await ctx.conversation.enter(reviewEvaluationConversation, request);
});

/** Who reviews which session: the conversation's argument (JSON), fixed when it is entered. */
export interface ReviewRequest {
  readonly sessionId: SessionId;
  readonly reviewerId: UserId;
  readonly reviewerRole: UserRole;
}

/**
 * The manager's second opinion: a score 0–100, then a comment. Kept in PostgreSQL with the
 * conversation, so a restart between the two loses nothing. /cancel ends it; another command
 * leaves it and runs as usual. The trainee is told the new score and the comment.
 */
export async function reviewEvaluation(
  conversation: Conversation<BotContext, ConversationContext>,
  ctx: ConversationContext,
  request: ReviewRequest,
): Promise<void> {
  const scope = scopeOf({ id: request.reviewerId, role: request.reviewerRole });
  const aiScore = await outside(
    conversation,
    async (outer) => (await outer.services.team.teamSession(scope, request.sessionId))?.evaluation?.totalScore,
  );
  if (aiScore === undefined) {
    await ctx.reply(ctx.t('team-session-unavailable'));
    return;
  }
  await ctx.reply(ctx.t('review-ask-score', { score: aiScore }));
  let score: number | undefined;
  while (score === undefined) {
    const text = await textAnswer(conversation, ctx);
    score = parseScore(text);
    if (score === undefined) await ctx.reply(ctx.t('review-bad-score'));
  }
  await ctx.reply(ctx.t('review-ask-comment', { score, limit: reviewCommentLimit }));
  let comment: string | undefined;
  while (comment === undefined) {
    const text = (await textAnswer(conversation, ctx)).trim();
    if (text.length === 0 || text.length > reviewCommentLimit) {
      await ctx.reply(ctx.t('review-bad-comment', { limit: reviewCommentLimit, length: text.length }));
    } else comment = text;
  }
  const reviewed = { score, comment };
  const told = await outside(conversation, async (outer) => {
    const stored = await outer.services.team.review(scope, {
      sessionId: request.sessionId,
      reviewerId: request.reviewerId,
      ...reviewed,
    });
    if (!stored) return 'gone' as const;
    const locale = negotiateLocale(stored.trainee.languageCode, outer.config.defaultLocale);
    const t: Translate = (key, variables) => outer.i18n.fluent.translate(locale, key, variables);
    const title = outer.services.scenarios.find(stored.session.scenarioKey)?.title ?? stored.session.scenarioKey;
    try {
      await outer.api.sendMessage(
        stored.trainee.telegramId,
        [escapeHtml(t('review-trainee-told', { title })), reviewLines(t, stored.review, stored.aiScore)].join('\n\n'),
        {
          parse_mode: 'HTML',
          reply_markup: new InlineKeyboard().text(
            t('review-trainee-open'),
            encodeCallback({ type: 'past-evaluation', sessionId: request.sessionId }),
          ),
        },
      );
      return 'told' as const;
    } catch (error) {
      // The review is stored and shown in their /history: a trainee who blocked the bot is no failure of the review.
      outer.logger.warn({ err: error, sessionId: request.sessionId }, 'the trainee could not be told of the review');
      return 'not-told' as const;
    }
  });
  switch (told) {
    case 'gone':
      await ctx.reply(ctx.t('team-session-unavailable'));
      return;
    case 'told':
      await ctx.reply(ctx.t('review-stored', reviewed));
      return;
    case 'not-told':
      await ctx.reply(ctx.t('review-stored-not-told', reviewed));
      return;
    default: {
      const unreachable: never = told;
      throw new Error(`unknown outcome ${String(unreachable)}`);
    }
  }
}

/**
 * The next text the person sends. /cancel ends the flow; another command leaves it and is handled
 * as usual; anything that is not text gets a reminder and the question stays.
 */
export async function textAnswer(
  conversation: Conversation<BotContext, ConversationContext>,
  ctx: ConversationContext,
): Promise<string> {
  const answer = await conversation.waitFor('message:text', {
    otherwise: async (other) => {
      if (other.callbackQuery) await other.answerCallbackQuery();
      await other.reply(ctx.t('review-text-please'));
    },
  });
  const text = answer.message.text;
  if (answer.hasCommand('cancel')) {
    await answer.reply(ctx.t('review-cancelled'));
    await conversation.halt();
  }
  if (text.startsWith('/')) await conversation.halt({ next: true });
  return text;
}

/** A whole number from 0 to 100 («85», «85/100», « 85 »); undefined for anything else. */
export function parseScore(text: string): number | undefined {
  const match = /^\s*(\d{1,3})\s*(?:\/\s*100)?\s*$/.exec(text);
  if (!match) return undefined;
  const score = Number(match[1]);
  return score <= 100 ? score : undefined;
}

/** The manager's review beside the AI's score, as HTML. */
export function reviewLines(t: Translate, review: Pick<StoredReview, 'score' | 'comment'>, aiScore: number): string {
  return [
    `<b>${escapeHtml(t('review-score-line', { score: review.score, ai: aiScore }))}</b>`,
    escapeHtml(t('review-comment-line', { comment: review.comment })),
  ].join('\n');
}

export const reviewFeature = composer;
