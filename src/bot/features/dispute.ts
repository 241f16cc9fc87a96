import type { Conversation } from '@grammyjs/conversations';
import { Composer, InlineKeyboard, type Api } from 'grammy';
import type { Locale } from '../../config.js';
import type { SessionId, UserId } from '../../db/ids.js';
import { displayName } from '../../db/queries/users.js';
import type { Logger } from '../../logger.js';
import type { ScenarioCatalog } from '../../services/scenarios.js';
import type { PendingDisputeNotice, TeamService } from '../../services/team.js';
import type { BotContext, ConversationContext } from '../context.js';
import { isolated } from '../helpers/bidi.js';
import { decodeCallback, encodeCallback } from '../helpers/callback-data.js';
import { negotiateLocale } from '../i18n.js';
import { outside } from '../helpers/outside.js';
import { isAuthed } from '../middleware/access.js';
import { textAnswer } from './review.js';

export const disputeEvaluationConversation = 'dispute-evaluation';

/** A reason longer than this is refused (with the limit said). */
export const disputeReasonLimit = 1000;

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/** «⚖️ Оспорить оценку» under the trainee's own evaluation: the reason, then the manager is told. */
feature.on('callback_query:data', async (ctx, next) => {
  const action = decodeCallback(ctx.callbackQuery.data);
  if (action?.type !== 'dispute-evaluation') return next();
  const { training, team } = ctx.services;
  // The bot offers the button under the trainee's own scored sessions only: anything else is forged.
  const past = await training.pastEvaluation(ctx.user.id, action.sessionId);
  if (!past) {
    ctx.logger.warn({ sessionId: action.sessionId }, 'dispute refused: not a scored session of this user');
    await ctx.answerCallbackQuery({ text: ctx.t('history-evaluation-unavailable'), show_alert: true });
    return;
  }
  if (await team.disputeOf(action.sessionId)) {
    await ctx.answerCallbackQuery({ text: ctx.t('dispute-already'), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery();
  const request: DisputeRequest = { userId: ctx.user.id, sessionId: action.sessionId };
  await ctx.conversation.enter(disputeEvaluationConversation, request);
});

/** Whose session is disputed: the conversation's argument (JSON). */
export interface DisputeRequest {
  readonly userId: UserId;
  readonly sessionId: SessionId;
}

/**
 * The trainee says why the evaluation is wrong; the dispute is stored, then the manager (or, for a
 * trainee in no team, every admin) is told with a button to open the session. Telling is durable:
 * a dispute stored but not told (a crash, Telegram down) is told at the next start, once.
 */
export async function disputeEvaluation(
  conversation: Conversation<BotContext, ConversationContext>,
  ctx: ConversationContext,
  request: DisputeRequest,
): Promise<void> {
  await ctx.reply(ctx.t('dispute-ask-reason', { limit: disputeReasonLimit }));
  let reason: string | undefined;
  while (reason === undefined) {
    const text = (await textAnswer(conversation, ctx)).trim();
    if (text.length === 0 || text.length > disputeReasonLimit) {
      await ctx.reply(ctx.t('dispute-bad-reason', { limit: disputeReasonLimit, length: text.length }));
    } else reason = text;
  }
  const chosen = reason;
  const outcome = await outside(conversation, async (outer) => {
    const stored = await outer.services.team.dispute(request.userId, request.sessionId, chosen);
    if (!stored) return { stored: false, told: 0 };
    const told = await tellDisputes(
      {
        api: outer.api,
        team: outer.services.team,
        scenarios: outer.services.scenarios,
        translate: (locale, key, variables) => outer.i18n.fluent.translate(locale, key, variables),
        defaultLocale: outer.config.defaultLocale,
        logger: outer.logger,
      },
      request.sessionId,
    ).catch((error: unknown) => {
      // Stored: it is told at the next start. The trainee's dispute is not lost for this.
      outer.logger.warn({ err: error, sessionId: request.sessionId }, 'the manager could not be told of the dispute yet');
      return 0;
    });
    return { stored: true, told };
  });
  await ctx.reply(ctx.t(outcome.stored ? 'dispute-stored' : 'dispute-already'));
}

export interface DisputeNoticeDeps {
  readonly api: Api;
  readonly team: Pick<TeamService, 'tellPendingDisputes'>;
  readonly scenarios: ScenarioCatalog;
  readonly translate: (locale: Locale, key: string, variables?: Record<string, string | number>) => string;
  readonly defaultLocale: Locale;
  readonly logger: Logger;
}

/**
 * Tells the managers of every dispute not told yet (or of one session's): at start-up, and right
 * after a dispute is stored. A dispute counts as told once one recipient got it; when none could be
 * reached it stays for the next start. With nobody to tell (no manager, no admin has started the
 * bot) it is marked and logged: it is still seen in /team.
 */
export async function tellDisputes(deps: DisputeNoticeDeps, only?: SessionId): Promise<number> {
  return deps.team.tellPendingDisputes(async (notice) => {
    if (notice.recipients.length === 0) {
      deps.logger.warn({ sessionId: notice.sessionId }, 'a dispute has nobody to tell (no manager, no admin): seen in /team');
      return;
    }
    let reached = 0;
    let lastError: unknown;
    for (const recipient of notice.recipients) {
      const locale = negotiateLocale(recipient.languageCode, deps.defaultLocale);
      try {
        await deps.api.sendMessage(recipient.telegramId, disputeNoticeText(deps, notice, locale), {
          reply_markup: new InlineKeyboard().text(
            deps.translate(locale, 'dispute-open-button'),
            encodeCallback({ type: 'team-session', sessionId: notice.sessionId }),
          ),
        });
        reached++;
      } catch (error) {
        lastError = error;
        deps.logger.warn({ err: error, sessionId: notice.sessionId }, 'a recipient could not be told of a dispute');
      }
    }
    if (reached === 0) throw lastError instanceof Error ? lastError : new Error('no recipient of the dispute was reached');
  }, only);
}

function disputeNoticeText(deps: DisputeNoticeDeps, notice: PendingDisputeNotice, locale: Locale): string {
  const scenario = deps.scenarios.find(notice.scenarioKey);
  return deps.translate(locale, 'dispute-manager-told', {
    name: isolated(displayName(notice.traineeName)),
    title: scenario?.title ?? notice.scenarioKey,
    score: notice.totalScore,
    reason: notice.reason,
  });
}

export const disputeFeature = composer;
