import { Composer, InlineKeyboard } from 'grammy';
import type { SessionId } from '../../db/ids.js';
import type { SessionSummary } from '../../db/queries/sessions.js';
import { difficultyLevels, type Difficulty, type Scenario, type ScenarioCatalog } from '../../services/scenarios.js';
import type { DifficultyStats } from '../../services/team.js';
import type { PastEvaluation } from '../../services/training/index.js';
import type { AuthedContext, BotContext } from '../context.js';
import { decodeCallback, encodeCallback } from '../helpers/callback-data.js';
import { evaluationKeyboard, isDifficulty, withKeyboardOnLast } from '../helpers/evaluation-keyboard.js';
import { isAuthed } from '../middleware/access.js';
import { evaluationMessages } from './finish.js';
import { dateLocaleOf } from '../helpers/dates.js';

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
  const lines = sessions.map((s) => {
    const outcome =
      s.totalScore !== null
        ? `${s.totalScore}/100`
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
  for (const { text, other } of withKeyboardOnLast(
    evaluationMessages(t, training, past.evaluation),
    evaluationKeyboard(t, past.session),
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

feature.command('stats', async (ctx) => {
  const stats = await ctx.services.team.userStats(ctx.user.id);
  if (stats.count === 0) {
    await ctx.reply(ctx.t('stats-empty'));
    return;
  }
  const { scenarios } = ctx.services;
  const lines = inMenuOrder(stats.byDifficulty, scenarios).map((s) => {
    const scenario = scenarios.find(s.scenarioKey);
    return ctx.t('stats-line', {
      title: scenario?.title ?? s.scenarioKey,
      difficulty: levelLabel(ctx, scenario, s.difficulty),
      count: s.count,
      average: s.average,
      best: s.best,
    });
  });
  await ctx.reply(
    [
      ctx.t('stats-summary', { count: stats.count, average: stats.average, best: stats.best, last: stats.last }),
      '',
      ctx.t('stats-by-scenario'),
      ...lines,
    ].join('\n'),
  );
});

/** Scenarios as the menu lists them (removed ones last, by key), each one's levels from easy to hard. */
function inMenuOrder(rows: readonly DifficultyStats[], scenarios: ScenarioCatalog): DifficultyStats[] {
  const menuPosition = new Map(scenarios.all.map((s, index) => [s.key, index]));
  const scenarioRank = (key: string) => menuPosition.get(key) ?? scenarios.all.length;
  const levelRank = (level: string) => {
    const index = (difficultyLevels as readonly string[]).indexOf(level);
    return index < 0 ? difficultyLevels.length : index;
  };
  return [...rows].sort(
    (a, b) =>
      scenarioRank(a.scenarioKey) - scenarioRank(b.scenarioKey) ||
      a.scenarioKey.localeCompare(b.scenarioKey) ||
      levelRank(a.difficulty) - levelRank(b.difficulty),
  );
}

/** The scenario's own name for the level; for a removed scenario the common one. */
function levelLabel(ctx: BotContext, scenario: Scenario | undefined, level: string): string {
  if (!isDifficulty(level)) return level;
  return scenario?.difficulties[level].label ?? genericLabel(ctx, level);
}

function genericLabel(ctx: BotContext, level: Difficulty): string {
  switch (level) {
    case 'easy':
      return ctx.t('difficulty-label-easy');
    case 'medium':
      return ctx.t('difficulty-label-medium');
    case 'hard':
      return ctx.t('difficulty-label-hard');
    default: {
      const unreachable: never = level;
      throw new Error(`unknown level ${String(unreachable)}`);
    }
  }
}

function shorten(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit - 1).trimEnd()}…` : text;
}

export const historyFeature = composer;
