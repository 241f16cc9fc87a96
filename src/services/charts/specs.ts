import type { TopLevelSpec } from 'vega-lite';
import { chartFontFamily } from './render.js';

/** One scored session on the progress line. */
export interface ProgressPoint {
  readonly at: Date;
  readonly score: number;
  /** The scenario's title, and the level's name as the trainee saw it. */
  readonly scenario: string;
  readonly level: string;
}

/** A criterion's latest score (from the trainee's latest evaluation that has it). */
export interface CriterionPoint {
  readonly criterion: string;
  readonly score: number;
  readonly level: string;
}

/** A criterion's average over the team's evaluations. */
export interface CriterionAverage {
  readonly criterion: string;
  readonly average: number;
  /** How many evaluations it is the average of. */
  readonly count: number;
}

/** Every word a picture shows besides the data: the caller's translations. */
export interface ProgressLabels {
  readonly title: string;
  readonly criteriaTitle: string;
  readonly date: string;
  readonly score: string;
  readonly scenario: string;
  readonly level: string;
  readonly passMark: string;
}

export interface TeamLabels {
  readonly title: string;
  readonly average: string;
  readonly passMark: string;
  readonly below: string;
  readonly above: string;
}

export interface ProgressChart {
  readonly points: readonly ProgressPoint[];
  readonly criteria: readonly CriterionPoint[];
  readonly passScore: number;
  /** IANA zone the dates are shown in (TEAM_TIME_ZONE). */
  readonly timeZone: string;
  readonly labels: ProgressLabels;
}

export interface TeamChart {
  readonly criteria: readonly CriterionAverage[];
  readonly passScore: number;
  readonly labels: TeamLabels;
}

const width = 520;
const passColor = '#d62728';
const config = {
  font: chartFontFamily,
  title: { fontSize: 15, anchor: 'start', offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 220 },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom', direction: 'horizontal', columns: 2, labelLimit: 240 },
  view: { stroke: null },
} as const;

/** A moment as the wall clock in `timeZone` shows it, as epoch ms of a UTC date: the chart then needs no zone. */
export function wallClock(at: Date, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute));
}

/**
 * /stats: the scores over time (colour: scenario; point shape and dashes: level, so an easy attempt
 * and a hard one are told apart), the pass mark as a red line; below, each criterion's latest score
 * against the pass mark.
 */
export function progressSpec(chart: ProgressChart): TopLevelSpec {
  const { labels, passScore } = chart;
  const points = chart.points.map((p) => ({
    when: wallClock(p.at, chart.timeZone),
    score: p.score,
    scenario: p.scenario,
    level: p.level,
  }));
  const levels = [...new Set(chart.points.map((p) => p.level))];
  const criteria = chart.criteria.map((c) => ({ ...c, passed: c.score >= passScore, label: `${c.score} · ${c.level}` }));
  const scoreScale = { domain: [0, 100] };
  const passRule = (axis: 'x' | 'y') => ({
    mark: { type: 'rule' as const, color: passColor, strokeDash: [6, 4], strokeWidth: 1.5 },
    encoding: { [axis]: { datum: passScore, type: 'quantitative' as const, scale: scoreScale } },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config,
    background: 'white',
    padding: 16,
    // The two charts' colours mean different things (scenario; passed or not): never one scale.
    resolve: { scale: { color: 'independent', x: 'independent', y: 'independent' }, legend: { color: 'independent' } },
    vconcat: [
      {
        title: labels.title,
        width,
        height: 240,
        layer: [
          {
            data: { values: points },
            mark: { type: 'line', point: { filled: true, size: 70 }, strokeWidth: 2 },
            encoding: {
              x: {
                field: 'when',
                type: 'temporal',
                timeUnit: 'utcyearmonthdatehoursminutes',
                title: labels.date,
                axis: { format: '%d.%m', labelOverlap: true, tickCount: 6 },
              },
              y: { field: 'score', type: 'quantitative', scale: scoreScale, title: labels.score },
              color: { field: 'scenario', type: 'nominal', title: labels.scenario },
              shape: { field: 'level', type: 'nominal', title: labels.level, scale: { domain: levels } },
              strokeDash: { field: 'level', type: 'nominal', title: labels.level, scale: { domain: levels } },
              detail: [{ field: 'scenario' }, { field: 'level' }],
            },
          },
          { data: { values: [{}] }, ...passRule('y') },
          {
            data: { values: [{}] },
            mark: { type: 'text', color: passColor, align: 'left', dx: 4, dy: -7, fontSize: 11 },
            encoding: {
              x: { value: 0 },
              y: { datum: passScore, type: 'quantitative', scale: scoreScale },
              text: { value: `${labels.passMark}: ${passScore}` },
            },
          },
        ],
      },
      ...(criteria.length === 0
        ? []
        : [
            {
              title: labels.criteriaTitle,
              width,
              height: { step: 26 },
              data: { values: criteria },
              layer: [
                {
                  mark: { type: 'bar' as const, cornerRadiusEnd: 3, height: { band: 0.7 } },
                  encoding: {
                    y: { field: 'criterion', type: 'nominal' as const, title: null, sort: null },
                    x: { field: 'score', type: 'quantitative' as const, scale: scoreScale, title: labels.score },
                    color: {
                      field: 'passed',
                      type: 'nominal' as const,
                      legend: null,
                      scale: { domain: [true, false], range: ['#2ca02c', '#ff7f0e'] },
                    },
                  },
                },
                {
                  mark: { type: 'text' as const, align: 'left' as const, dx: 4, fontSize: 11 },
                  encoding: {
                    y: { field: 'criterion', type: 'nominal' as const, sort: null },
                    x: { field: 'score', type: 'quantitative' as const, scale: scoreScale },
                    text: { field: 'label' },
                  },
                },
                passRule('x'),
              ],
            },
          ]),
    ],
  };
}

/** /team: the team's average per criterion, under the pass mark in orange, over it in green. */
export function teamSpec(chart: TeamChart): TopLevelSpec {
  const { labels, passScore } = chart;
  const scoreScale = { domain: [0, 100] };
  const rows = chart.criteria.map((c) => ({
    ...c,
    band: c.average >= passScore ? labels.above : labels.below,
    label: `${c.average} (${c.count})`,
  }));
  // Weakest first: what the team should train next is at the top.
  const y = {
    field: 'criterion',
    type: 'nominal',
    title: null,
    sort: { field: 'average', op: 'min', order: 'ascending' },
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config,
    background: 'white',
    padding: 16,
    title: labels.title,
    width,
    height: { step: 28 },
    data: { values: rows },
    layer: [
      {
        mark: { type: 'bar', cornerRadiusEnd: 3, height: { band: 0.7 } },
        encoding: {
          y,
          x: { field: 'average', type: 'quantitative', scale: scoreScale, title: labels.average },
          color: {
            field: 'band',
            type: 'nominal',
            title: null,
            scale: { domain: [labels.below, labels.above], range: ['#ff7f0e', '#2ca02c'] },
          },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 },
        encoding: { y, x: { field: 'average', type: 'quantitative', scale: scoreScale }, text: { field: 'label' } },
      },
      {
        data: { values: [{}] },
        mark: { type: 'rule', color: passColor, strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { x: { datum: passScore, type: 'quantitative', scale: scoreScale } },
      },
    ],
  };
}
