import { Composer } from 'grammy';
import type { StoredEvaluation } from '../../db/queries/evaluations.js';
import type { CriterionScoreRecord, DeliveryRecord, FactRecord } from '../../db/schema.js';
import { fillerTotal, monologueSeconds, rateVerdict } from '../../services/delivery.js';
import type { TrainingSession } from '../../db/queries/sessions.js';
import type { SessionVerdict } from '../../services/assignments.js';
import type { Difficulty, Scenario } from '../../services/scenarios.js';
import type { BotContext } from '../context.js';
import { evaluationKeyboard, withKeyboardOnLast } from '../helpers/evaluation-keyboard.js';
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
  // No budget check: the judge scores a dialogue already paid for, even when the day's tokens ran out in it.
  const rate = ctx.services.limits.takeFinish(ctx.user.id);
  if (!rate.ok) {
    await ctx.reply(ctx.t('limits-finish-rate', { minutes: Math.max(1, Math.ceil(rate.retryAfterMs / 60_000)) }));
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
    case 'finished': {
      const t = ctx.t.bind(ctx);
      const verdict = await ctx.services.assignments.settle(result.training.session.id);
      const parts = evaluationMessages(t, result.training, result.evaluation, verdict);
      for (const { text, other } of withKeyboardOnLast(parts, evaluationKeyboard(t, result.training.session))) {
        await ctx.reply(text, other);
      }
      await training.markEvaluationDelivered(result.training.session.id);
      return;
    }
    default: {
      const unreachable: never = result;
      throw new Error(`unhandled finish ${JSON.stringify(unreachable)}`);
    }
  }
});

type Translate = (key: string, variables?: Record<string, string | number>) => string;

/**
 * What an evaluation names of its training. A past one's scenario may have been removed since:
 * /history then stands in its key as the title and the common level names (history.ts).
 */
export interface EvaluatedTraining {
  readonly scenario: Pick<Scenario, 'title' | 'difficulties'>;
  readonly session: Pick<TrainingSession, 'difficulty'>;
}

/** A quote or an item longer than this is shortened: an evaluation is read on a phone. */
const itemLimit = 500;
const shorten = (text: string) => (text.length > itemLimit ? `${text.slice(0, itemLimit).trimEnd()}…` : text);

/**
 * The evaluation as HTML messages, each under Telegram's limit and cut only between lines; with a
 * verdict, whether it passed its assignment (and the pass mark) or was practice.
 */
export function evaluationMessages(
  t: Translate,
  training: EvaluatedTraining,
  evaluation: StoredEvaluation,
  verdict?: SessionVerdict,
): string[] {
  return packLines(evaluationLines(t, training, evaluation, verdict));
}

/** «Задание зачтено ✅ (проходной балл 80)», «не зачтено», or «Практика». */
function verdictLine(t: Translate, verdict: SessionVerdict): string {
  switch (verdict.kind) {
    case 'passed':
      return `<b>${escapeHtml(t('assignment-verdict-passed', { mark: verdict.passMark }))}</b>`;
    case 'failed':
      return `<b>${escapeHtml(t('assignment-verdict-failed', { mark: verdict.passMark }))}</b>`;
    case 'practice':
      return `<i>${escapeHtml(t('assignment-verdict-practice'))}</i>`;
    default: {
      const unreachable: never = verdict;
      throw new Error(`unknown verdict ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The evaluation for a phone screen: the score first, then criteria, facts, strengths, mistakes, advice. */
function evaluationLines(
  t: Translate,
  training: EvaluatedTraining,
  evaluation: StoredEvaluation,
  verdict: SessionVerdict | undefined,
): string[] {
  const { scenario, session } = training;
  const difficulty = scenario.difficulties[session.difficulty as Difficulty]?.label ?? session.difficulty;
  const section = (title: string, items: readonly string[]) =>
    items.length === 0 ? [] : ['', `<b>${escapeHtml(title)}</b>`, ...items.map((item) => `• ${escapeHtml(shorten(item))}`)];
  return [
    `<b>${escapeHtml(t('evaluation-score', { score: evaluation.totalScore }))}</b>`,
    escapeHtml(t('evaluation-title', { title: scenario.title, difficulty })),
    ...(verdict ? [verdictLine(t, verdict)] : []),
    ...(evaluation.summary ? ['', escapeHtml(shorten(evaluation.summary))] : []),
    ...(evaluation.omittedMessages > 0
      ? ['', `<i>${escapeHtml(t('evaluation-long-dialogue', { omitted: evaluation.omittedMessages }))}</i>`]
      : []),
    '',
    `<b>${escapeHtml(t('evaluation-criteria'))}</b>`,
    ...evaluation.criteria.map((criterion) => criterionLine(t, criterion)),
    ...factLines(t, evaluation.facts),
    ...(evaluation.delivery ? deliveryLines(t, evaluation.delivery) : []),
    ...section(t('evaluation-strengths'), evaluation.strengths),
    ...section(t('evaluation-mistakes'), evaluation.mistakes),
    ...section(t('evaluation-recommendations'), evaluation.recommendations),
    '',
    escapeHtml(t('evaluation-next')),
  ];
}

/** A criterion's score, why (the judge's comment), and the quote it rests on — or that its quote was dropped. */
function criterionLine(t: Translate, criterion: CriterionScoreRecord): string {
  const reasons = [
    ...(criterion.comment ? [escapeHtml(shorten(criterion.comment))] : []),
    ...(criterion.evidence ? [`<i>${escapeHtml(shorten(quoted(criterion.evidence)))}</i>`] : []),
    ...(criterion.quoteDropped ? [escapeHtml(t('evaluation-quote-dropped'))] : []),
  ];
  return [`• ${escapeHtml(criterion.title)}: <b>${criterion.score}</b>/100`, ...reasons.map((line) => `   ${line}`)].join('\n');
}

/** «Факты»: each wrong figure the trainee gave, what the knowledge base says, and where. */
function factLines(t: Translate, facts: readonly FactRecord[]): string[] {
  if (facts.length === 0) return [];
  const line = (fact: FactRecord) => {
    const variables = { claim: shorten(quoted(fact.claim)), correct: shorten(fact.correct) };
    return fact.source ? t('evaluation-fact', { ...variables, source: fact.source }) : t('evaluation-fact-no-source', variables);
  };
  return ['', `<b>${escapeHtml(t('evaluation-facts'))}</b>`, ...facts.map((fact) => `• ${escapeHtml(line(fact))}`)];
}

/** A quote in «…», unless the judge already put the whole of it in quotation marks. */
function quoted(text: string): string {
  const quote = text.trim();
  return /^[«"“„][\s\S]*[»"”]$/u.test(quote) ? quote : `«${quote}»`;
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
