import { Composer, InlineKeyboard } from 'grammy';
import type { SessionId } from '../../db/ids.js';
import type { SessionSummary } from '../../db/queries/sessions.js';
import type { Difficulty, Scenario } from '../../services/scenarios.js';
import type { PastEvaluation } from '../../services/training/index.js';
import type { AuthedContext, BotContext } from '../context.js';
import { decodeCallback, encodeCallback } from '../helpers/callback-data.js';
import { evaluationKeyboard, withKeyboardOnLast } from '../helpers/evaluation-keyboard.js';
import { isAuthed } from '../middleware/access.js';
import { evaluationMessages } from './finish.js';
import { dateLocaleOf } from '../helpers/dates.js';
import { reviewLines } from './review.js';
import { genericLabel } from './stats.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/** A title on an "open" button longer than this is shortened: the button must fit a phone's width. */
const buttonTitleLimit = 24;

feature.command('history', async (ctx) => {
  const sessions = await ctx.services.training.history(ctx.user.id, 10);
  if (sessions.length === 0) {
    await ctx.reply(ctx.t('history-empty'));
    return;
  }
  const locale = await dateLocaleOf(ctx);
  const { teamTimeZone: timeZone } = ctx.config;
  const when = new Intl.DateTimeFormat(locale, {
    timeZone,
    day: '2-digit',
    month: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  const day = new Intl.DateTimeFormat(locale, { timeZone, day: '2-digit', month: '2-digit' });
  const reviews = await ctx.services.team.reviewsOf(sessions.map((s) => s.id));
  const lines = sessions.map((s) => {
    const review = reviews.get(s.id);
    const outcome =
      s.totalScore !== null
        ? review
          ? ctx.t('history-reviewed-score', { ai: s.totalScore, score: review.score })
          : `${s.totalScore}/100`
        : s.status === 'active'
          ? ctx.t('history-in-progress')
          : s.status === 'abandoned'
            ? ctx.t('history-abandoned')
            : ctx.t('history-not-scored');
    return `${when.format(s.startedAt)} · ${s.scenarioTitle} · ${outcome}`;
  });
  const scored = sessions.filter((s): s is Scored => s.totalScore !== null);
  if (scored.length === 0) {
    await ctx.reply([ctx.t('history-title'), ...lines].join('\n'));
    return;
  }
  const keyboard = new InlineKeyboard();
  for (const s of scored) {
    const label = ctx.t('history-open-button', {
      date: day.format(s.startedAt),
      title: shorten(s.scenarioTitle, buttonTitleLimit),
      score: s.totalScore,
    });
    keyboard.text(label, encodeCallback({ type: 'past-evaluation', sessionId: s.id })).row();
  }
  await ctx.reply([ctx.t('history-title'), ...lines, '', ctx.t('history-open-hint')].join('\n'), {
    reply_markup: keyboard,
  });
});

type Scored = SessionSummary & { scenarioTitle: string; totalScore: number };

/** «Открыть: …» under /history: that session's evaluation again, with the buttons an evaluation has. */
feature.on('callback_query:data', async (ctx, next) => {
  const action = decodeCallback(ctx.callbackQuery.data);
  if (action?.type !== 'past-evaluation') return next();
  await showPastEvaluation(ctx, action.sessionId);
});

async function showPastEvaluation(ctx: AuthedContext, sessionId: SessionId): Promise<void> {
  const past = await ctx.services.training.pastEvaluation(ctx.user.id, sessionId);
  if (!past) {
    // The bot only offers the trainee's own scored sessions: anything else is forged (or erased since).
    ctx.logger.warn({ sessionId }, 'past evaluation refused: not a scored session of this user');
    await ctx.answerCallbackQuery({ text: ctx.t('history-evaluation-unavailable'), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery();
  const t = ctx.t.bind(ctx);
  const training = { session: past.session, scenario: shownScenario(ctx, past) };
  const [review, dispute] = await Promise.all([
    ctx.services.team.reviewOf(past.session.id),
    ctx.services.team.disputeOf(past.session.id),
  ]);
  // The manager's second opinion beside the AI's: the trainee sees both.
  const parts = [
    ...evaluationMessages(t, training, past.evaluation),
    ...(review ? [reviewLines(t, review, past.evaluation.totalScore)] : []),
  ];
  for (const { text, other } of withKeyboardOnLast(
    parts,
    evaluationKeyboard(t, past.session, { disputable: dispute === undefined && review === undefined }),
  )) {
    await ctx.reply(text, other);
  }
}

/**
 * What the evaluation shows of its scenario. One removed since is named by its key, with the level
 * names every scenario uses; «Повторить» under it then says the scenario is gone.
 */
function shownScenario(ctx: BotContext, past: PastEvaluation): Pick<Scenario, 'title' | 'difficulties'> {
  if (past.scenario) return past.scenario;
  const level = (difficulty: Difficulty) => ({ label: genericLabel(ctx, difficulty), behaviour: '' });
  return {
    title: past.session.scenarioKey,
    difficulties: { easy: level('easy'), medium: level('medium'), hard: level('hard') },
  };
}

function shorten(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit - 1).trimEnd()}…` : text;
}

export const historyFeature = composer;
