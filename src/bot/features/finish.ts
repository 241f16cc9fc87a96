import { Composer } from 'grammy';
import type { StoredEvaluation } from '../../db/queries/evaluations.js';
import type { DeliveryRecord } from '../../db/schema.js';
import { fillerTotal, monologueSeconds, rateVerdict } from '../../services/delivery.js';
import type { ActiveTraining } from '../../services/training/index.js';
import type { Difficulty } from '../../services/scenarios.js';
import type { BotContext } from '../context.js';
import { escapeHtml } from '../helpers/html.js';
import { packLines } from '../helpers/split-message.js';
import { isAuthed } from '../middleware/access.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

feature.command('finish', async (ctx) => {
  const { training } = ctx.services;
  const active = await training.active(ctx.user.id);
  if (!active) {
    await ctx.reply(ctx.t('finish-no-session'));
    return;
  }
  await ctx.reply(ctx.t('finish-judging'));
  await ctx.replyWithChatAction('typing');
  const result = await training.finish(ctx.user.id);
  switch (result.kind) {
    case 'no-session':
      await ctx.reply(ctx.t('finish-no-session'));
      return;
    case 'nothing-said':
      await ctx.reply(ctx.t('finish-nothing-said', { title: result.training.scenario.title }));
      return;
    case 'finished':
      for (const part of evaluationMessages(ctx.t.bind(ctx), result.training, result.evaluation)) {
        await ctx.reply(part, { parse_mode: 'HTML' });
      }
      await training.markEvaluationDelivered(result.training.session.id);
      return;
    default: {
      const unreachable: never = result;
      throw new Error(`unhandled finish ${JSON.stringify(unreachable)}`);
    }
  }
});

type Translate = (key: string, variables?: Record<string, string | number>) => string;

/** A quote or an item longer than this is shortened: an evaluation is read on a phone. */
const itemLimit = 500;
const shorten = (text: string) => (text.length > itemLimit ? `${text.slice(0, itemLimit).trimEnd()}…` : text);

/** The evaluation as HTML messages, each under Telegram's limit and cut only between lines. */
export function evaluationMessages(t: Translate, training: ActiveTraining, evaluation: StoredEvaluation): string[] {
  return packLines(evaluationLines(t, training, evaluation));
}

/** The evaluation for a phone screen: the score first, then criteria, strengths, mistakes, advice. */
function evaluationLines(t: Translate, training: ActiveTraining, evaluation: StoredEvaluation): string[] {
  const { scenario, session } = training;
  const difficulty = scenario.difficulties[session.difficulty as Difficulty]?.label ?? session.difficulty;
  const section = (title: string, items: readonly string[]) =>
    items.length === 0 ? [] : ['', `<b>${escapeHtml(title)}</b>`, ...items.map((item) => `• ${escapeHtml(shorten(item))}`)];
  const criteria = evaluation.criteria.map((c) => {
    const evidence = c.evidence ? `\n   <i>${escapeHtml(shorten(c.evidence))}</i>` : '';
    return `• ${escapeHtml(c.title)}: <b>${c.score}</b>/100${evidence}`;
  });
  return [
    `<b>${escapeHtml(t('evaluation-score', { score: evaluation.totalScore }))}</b>`,
    escapeHtml(t('evaluation-title', { title: scenario.title, difficulty })),
    ...(evaluation.summary ? ['', escapeHtml(shorten(evaluation.summary))] : []),
    ...(evaluation.omittedMessages > 0
      ? ['', `<i>${escapeHtml(t('evaluation-long-dialogue', { omitted: evaluation.omittedMessages }))}</i>`]
      : []),
    '',
    `<b>${escapeHtml(t('evaluation-criteria'))}</b>`,
    ...criteria,
    ...(evaluation.delivery ? deliveryLines(t, evaluation.delivery) : []),
    ...section(t('evaluation-strengths'), evaluation.strengths),
    ...section(t('evaluation-mistakes'), evaluation.mistakes),
    ...section(t('evaluation-recommendations'), evaluation.recommendations),
    '',
    escapeHtml(t('evaluation-next')),
  ];
}

/** «Как вы звучали»: what was measured over the voice turns, in three short lines. */
function deliveryLines(t: Translate, delivery: DeliveryRecord): string[] {
  const rate =
    delivery.wordsPerMinute === null
      ? t('evaluation-delivery-rate-unknown')
      : t('evaluation-delivery-rate', {
          wpm: delivery.wordsPerMinute,
          verdict: t(`evaluation-delivery-rate-${rateVerdict(delivery.wordsPerMinute)}`),
        });
  const total = fillerTotal(delivery);
  const fillers =
    total === 0
      ? t('evaluation-delivery-no-fillers')
      : t('evaluation-delivery-fillers', { total, list: delivery.fillers.map((f) => `«${f.word}» ×${f.count}`).join(', ') });
  const monologues =
    delivery.longMonologues > 0
      ? t('evaluation-delivery-monologues', {
          seconds: monologueSeconds,
          count: delivery.longMonologues,
          longest: delivery.longestSeconds,
        })
      : t('evaluation-delivery-no-monologues', { longest: delivery.longestSeconds });
  return [
    '',
    `<b>${escapeHtml(t('evaluation-delivery'))}</b>`,
    ...[rate, fillers, monologues].map((line) => `• ${escapeHtml(line)}`),
  ];
}

export const finishFeature = composer;
