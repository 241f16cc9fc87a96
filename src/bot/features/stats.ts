import { Composer, InputFile } from 'grammy';
import { ChartRenderError, type CriterionPoint, type ProgressPoint } from '../../services/charts/index.js';
import { difficultyLevels, type Difficulty, type Scenario, type ScenarioCatalog } from '../../services/scenarios.js';
import type { DifficultyStats, ScoredSession } from '../../services/team.js';
import type { AuthedContext, BotContext } from '../context.js';
import { isDifficulty } from '../helpers/evaluation-keyboard.js';
import { isAuthed } from '../middleware/access.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/**
 * /stats: a picture of the trainee's scores over time and of the latest score per criterion against
 * the pass mark, and the same in words beside it (a picture alone is not accessible, and it may fail).
 */
feature.command('stats', async (ctx) => {
  const { team } = ctx.services;
  const [stats, progress] = await Promise.all([team.userStats(ctx.user.id), team.progress(ctx.user.id)]);
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
  const summary = ctx.t('stats-summary', { count: stats.count, average: stats.average, best: stats.best, last: stats.last });
  const picture = await progressPicture(ctx, progress);
  if (picture) {
    await ctx.replyWithChatAction('upload_photo');
    await ctx.replyWithPhoto(new InputFile(picture, 'stats.png'), {
      caption: ctx.t('stats-picture-caption', { pass: ctx.config.assignments.defaultPassMark }),
    });
  }
  await ctx.reply([summary, '', ctx.t('stats-by-scenario'), ...lines, ...criteriaLines(ctx, progress)].join('\n'));
});

/** The progress picture; undefined (and a log line) when it cannot be drawn: the text still answers. */
async function progressPicture(ctx: AuthedContext, progress: readonly ScoredSession[]): Promise<Buffer | undefined> {
  const { scenarios, charts } = ctx.services;
  const points: ProgressPoint[] = progress.map((s) => {
    const scenario = scenarios.find(s.scenarioKey);
    return {
      at: s.scoredAt,
      score: s.score,
      scenario: scenario?.title ?? s.scenarioKey,
      level: levelLabel(ctx, scenario, s.difficulty),
    };
  });
  try {
    return await charts.progress({
      points,
      criteria: latestCriteria(ctx, progress),
      passScore: ctx.config.assignments.defaultPassMark,
      timeZone: ctx.config.teamTimeZone,
      labels: {
        title: ctx.t('stats-chart-title'),
        criteriaTitle: ctx.t('stats-chart-criteria'),
        date: ctx.t('stats-chart-date'),
        score: ctx.t('stats-chart-score'),
        scenario: ctx.t('stats-chart-scenario'),
        level: ctx.t('stats-chart-level'),
        passMark: ctx.t('stats-chart-pass'),
      },
    });
  } catch (error) {
    if (!(error instanceof ChartRenderError)) throw error;
    ctx.logger.error({ err: error }, 'progress picture not drawn; answered in text');
    return undefined;
  }
}

/** Each criterion's score in the newest evaluation that has it, in the newest evaluation's order. */
function latestCriteria(ctx: BotContext, progress: readonly ScoredSession[]): CriterionPoint[] {
  const seen = new Map<string, CriterionPoint>();
  for (const session of [...progress].reverse()) {
    const level = levelLabel(ctx, ctx.services.scenarios.find(session.scenarioKey), session.difficulty);
    for (const criterion of session.criteria) {
      if (!seen.has(criterion.title)) seen.set(criterion.title, { criterion: criterion.title, score: criterion.score, level });
    }
  }
  return [...seen.values()].slice(0, 15);
}

/** The criteria part of the picture in words: what is under the pass mark. */
function criteriaLines(ctx: BotContext, progress: readonly ScoredSession[]): string[] {
  const criteria = latestCriteria(ctx, progress);
  if (criteria.length === 0) return [];
  const pass = ctx.config.assignments.defaultPassMark;
  return [
    '',
    ctx.t('stats-criteria-title', { pass }),
    ...criteria.map((c) =>
      ctx.t(c.score >= pass ? 'stats-criterion-passed' : 'stats-criterion-below', { title: c.criterion, score: c.score }),
    ),
  ];
}

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
export function levelLabel(ctx: BotContext, scenario: Scenario | undefined, level: string): string {
  if (!isDifficulty(level)) return level;
  return scenario?.difficulties[level].label ?? genericLabel(ctx, level);
}

export function genericLabel(ctx: BotContext, level: Difficulty): string {
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

export const statsFeature = composer;
