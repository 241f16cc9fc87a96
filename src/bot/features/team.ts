import { Composer, InlineKeyboard, InputFile } from 'grammy';
import type { SessionId } from '../../db/ids.js';
import { displayName, type User } from '../../db/queries/users.js';
import { ChartRenderError } from '../../services/charts/index.js';
import { scopeOf, type TeamMember, type TeamOverview, type TeamSession, type TranscriptLine } from '../../services/team.js';
import type { AuthedContext, BotContext } from '../context.js';
import { isolated } from '../helpers/bidi.js';
import { decodeCallback, encodeCallback } from '../helpers/callback-data.js';
import { dateLocaleOf } from '../helpers/dates.js';
import { withKeyboardOnLast } from '../helpers/evaluation-keyboard.js';
import { escapeHtml } from '../helpers/html.js';
import { packLines } from '../helpers/split-message.js';
import { isAuthed } from '../middleware/access.js';
import { evaluationMessages } from './finish.js';
import { reviewLines } from './review.js';
import { genericLabel, levelLabel } from './stats.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

export function isManager(ctx: Pick<AuthedContext, 'user'>): boolean {
  return ctx.user.role === 'manager' || ctx.user.role === 'admin';
}

/** The name column of the table, in characters: a phone shows about 36 of monospace. */
const nameWidth = 12;
/** Scenario columns at most (the most played); the rest is in each person's own view. */
const scenarioColumns = 4;
/** Rows per message: a <pre> block is never split in the middle. */
const rowsPerMessage = 60;
/** People with a button under the table (Telegram allows 100 buttons; a phone shows far fewer). */
const memberButtons = 60;

/**
 * /team: the manager's team — everybody whose manager they are, those who never trained too (admins:
 * everybody) — as a monospace table (last training, trainings this week, average per scenario), a
 * picture of the team's average per criterion, and a button per person to open their sessions.
 */
feature.command('team', async (ctx) => {
  if (!isManager(ctx)) {
    await ctx.reply(ctx.t('team-not-allowed'));
    return;
  }
  const overview = await ctx.services.team.overview(scopeOf(ctx.user));
  if (overview.members.length === 0) {
    await ctx.reply(ctx.t(ctx.user.role === 'admin' ? 'team-nobody' : 'team-no-members'));
    return;
  }
  const messages = await teamTable(ctx, overview);
  const keyboard = new InlineKeyboard();
  overview.members.slice(0, memberButtons).forEach((member, index) => {
    keyboard.text(shorten(displayName(member), 28), encodeCallback({ type: 'team-member', userId: member.userId }));
    if (index % 2 === 1) keyboard.row();
  });
  for (const { text, other } of withKeyboardOnLast(messages, keyboard)) await ctx.reply(text, other);
  await teamPicture(ctx, overview);
});

/** The table as HTML messages: a legend of the scenario columns, then the rows in <pre> blocks. */
async function teamTable(ctx: AuthedContext, overview: TeamOverview): Promise<string[]> {
  const { scenarios } = ctx.services;
  const played = new Map<string, number>();
  for (const a of overview.scenarioAverages) played.set(a.scenarioKey, (played.get(a.scenarioKey) ?? 0) + a.count);
  const columns = [...played.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, scenarioColumns)
    .map(([key]) => key);
  const none = '—';
  const average = new Map(overview.scenarioAverages.map((a) => [`${a.userId}:${a.scenarioKey}`, a.average]));
  const assigned = new Map(overview.assignments.map((a) => [a.userId, a]));
  // The assignments column only when the team has any: done/open/overdue.
  const withAssignments = overview.assignments.length > 0;
  const assignmentCell = (userId: TeamMember['userId']) => {
    const a = assigned.get(userId);
    return pad(a ? `${a.done}/${a.open}/${a.overdue}` : none, 7);
  };
  const day = new Intl.DateTimeFormat(await dateLocaleOf(ctx), {
    timeZone: ctx.config.teamTimeZone,
    day: '2-digit',
    month: '2-digit',
  });
  const header = [
    pad(ctx.t('team-column-name'), nameWidth),
    pad(ctx.t('team-column-last'), 5),
    padStart(ctx.t('team-column-week'), 3),
    ...(withAssignments ? [pad(ctx.t('team-column-assignments'), 7)] : []),
    ...columns.map((_, i) => padStart(`S${i + 1}`, 3)),
  ].join(' ');
  const rows = overview.members.map((m) =>
    [
      pad(shorten(plainName(m), nameWidth), nameWidth),
      pad(m.lastTrainingAt ? day.format(m.lastTrainingAt) : none, 5),
      padStart(String(m.sessionsSince), 3),
      ...(withAssignments ? [assignmentCell(m.userId)] : []),
      ...columns.map((key) => padStart(String(average.get(`${m.userId}:${key}`) ?? none), 3)),
    ].join(' '),
  );
  const legend = columns.map((key, i) =>
    escapeHtml(ctx.t('team-column-scenario', { column: `S${i + 1}`, title: scenarios.find(key)?.title ?? key })),
  );
  const intro = [
    `<b>${escapeHtml(ctx.t('team-title', { count: overview.members.length }))}</b>`,
    escapeHtml(ctx.t('team-legend')),
    ...(withAssignments ? [escapeHtml(ctx.t('team-legend-assignments'))] : []),
    ...legend,
  ].join('\n');
  const blocks: string[] = [];
  for (let i = 0; i < rows.length; i += rowsPerMessage) {
    blocks.push(`<pre>${escapeHtml([header, ...rows.slice(i, i + rowsPerMessage)].join('\n'))}</pre>`);
  }
  const [first = '', ...rest] = blocks;
  return [
    `${intro}\n\n${first}`,
    ...rest,
    escapeHtml(
      ctx.t(overview.members.length > memberButtons ? 'team-open-hint-first' : 'team-open-hint', { count: memberButtons }),
    ),
  ];
}

const weakestNamed = 5;

/** The team's average per criterion as a picture (with the weakest in words as its caption). */
async function teamPicture(ctx: AuthedContext, overview: TeamOverview): Promise<void> {
  if (overview.criteria.length === 0) {
    await ctx.reply(ctx.t('team-no-scores'));
    return;
  }
  const pass = ctx.config.assignments.defaultPassMark;
  const weak = overview.criteria
    .filter((c) => c.average < pass)
    .sort((a, b) => a.average - b.average)
    .map((c) => `${c.criterion} (${c.average})`);
  // The weakest few, in words: the picture shows them all.
  const named = weak.slice(0, weakestNamed);
  if (weak.length > named.length) named.push(ctx.t('team-picture-more', { more: weak.length - named.length }));
  const caption = shorten(
    weak.length > 0 ? ctx.t('team-picture-weak', { pass, list: named.join(', ') }) : ctx.t('team-picture-strong', { pass }),
    1000,
  );
  try {
    const png = await ctx.services.charts.team({
      criteria: overview.criteria,
      passScore: pass,
      labels: {
        title: ctx.t('team-chart-title'),
        average: ctx.t('team-chart-average'),
        passMark: ctx.t('stats-chart-pass'),
        below: ctx.t('team-chart-below'),
        above: ctx.t('team-chart-above'),
      },
    });
    await ctx.replyWithChatAction('upload_photo');
    await ctx.replyWithPhoto(new InputFile(png, 'team.png'), { caption });
  } catch (error) {
    if (!(error instanceof ChartRenderError)) throw error;
    ctx.logger.error({ err: error }, 'team picture not drawn; answered in text');
    await ctx.reply(caption);
  }
}

// The buttons of /team. Each one is checked against the manager's team: callback data can be forged.
feature.on('callback_query:data', async (ctx, next) => {
  const action = decodeCallback(ctx.callbackQuery.data);
  if (action?.type !== 'team-member' && action?.type !== 'team-session' && action?.type !== 'team-transcript') return next();
  if (!isManager(ctx)) {
    await refuse(ctx, action);
    return;
  }
  switch (action.type) {
    case 'team-member':
      await showMember(ctx, action.userId);
      return;
    case 'team-session':
      await showTeamSession(ctx, action.sessionId);
      return;
    case 'team-transcript':
      await showTranscript(ctx, action.sessionId);
      return;
    default: {
      const unreachable: never = action;
      throw new Error(`unhandled action ${JSON.stringify(unreachable)}`);
    }
  }
});

async function refuse(ctx: AuthedContext, action: object): Promise<void> {
  ctx.logger.warn({ action }, 'team view refused: not in this manager’s team');
  await ctx.answerCallbackQuery({ text: ctx.t('team-session-unavailable'), show_alert: true });
}

/** A person's last sessions, a button for each. */
async function showMember(ctx: AuthedContext, memberId: User['id']): Promise<void> {
  const found = await ctx.services.team.memberSessions(scopeOf(ctx.user), memberId);
  if (!found) {
    await refuse(ctx, { type: 'team-member', memberId });
    return;
  }
  await ctx.answerCallbackQuery();
  const name = isolated(displayName(found.member));
  if (found.sessions.length === 0) {
    await ctx.reply(ctx.t('team-member-no-sessions', { name }));
    return;
  }
  const when = new Intl.DateTimeFormat(await dateLocaleOf(ctx), {
    timeZone: ctx.config.teamTimeZone,
    day: '2-digit',
    month: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  const keyboard = new InlineKeyboard();
  const lines = found.sessions.map((s) => {
    const scenario = ctx.services.scenarios.find(s.scenarioKey);
    const outcome =
      s.totalScore === null
        ? ctx.t(
            s.status === 'active' ? 'history-in-progress' : s.status === 'abandoned' ? 'history-abandoned' : 'history-not-scored',
          )
        : s.reviewScore === null
          ? `${s.totalScore}/100`
          : ctx.t('team-session-reviewed-score', { ai: s.totalScore, score: s.reviewScore });
    const title = scenario?.title ?? s.scenarioKey;
    const line = `${when.format(s.startedAt)} · ${title} · ${levelLabel(ctx, scenario, s.difficulty)} · ${outcome}`;
    keyboard
      .text(
        shorten(`${when.format(s.startedAt)} ${title} — ${outcome}`, 60),
        encodeCallback({ type: 'team-session', sessionId: s.id }),
      )
      .row();
    return line;
  });
  await ctx.reply([ctx.t('team-member-title', { name }), ...lines].join('\n'), { reply_markup: keyboard });
}

/** One session of the team: its evaluation, the manager's review and the trainee's dispute, and what to do next. */
async function showTeamSession(ctx: AuthedContext, sessionId: SessionId): Promise<void> {
  const opened = await ctx.services.team.teamSession(scopeOf(ctx.user), sessionId);
  if (!opened) {
    await refuse(ctx, { type: 'team-session', sessionId });
    return;
  }
  await ctx.answerCallbackQuery();
  const t = ctx.t.bind(ctx);
  const keyboard = new InlineKeyboard().text(t('team-transcript-button'), encodeCallback({ type: 'team-transcript', sessionId }));
  if (opened.evaluation) keyboard.text(t('review-button'), encodeCallback({ type: 'review-evaluation', sessionId }));
  keyboard.row().text(t('team-back-button'), encodeCallback({ type: 'team-member', userId: opened.member.id }));
  for (const { text, other } of withKeyboardOnLast(await sessionParts(ctx, opened), keyboard)) await ctx.reply(text, other);
}

async function sessionParts(ctx: AuthedContext, opened: TeamSession): Promise<string[]> {
  const t = ctx.t.bind(ctx);
  const when = new Intl.DateTimeFormat(await dateLocaleOf(ctx), {
    timeZone: ctx.config.teamTimeZone,
    dateStyle: 'short',
    timeStyle: 'short',
  }).format(opened.session.startedAt);
  const header = `<b>${escapeHtml(t('team-session-title', { name: isolated(displayName(opened.member)), when }))}</b>`;
  const scenario = ctx.services.scenarios.find(opened.session.scenarioKey);
  if (!opened.evaluation) {
    const level = levelLabel(ctx, scenario, opened.session.difficulty);
    return [
      [header, escapeHtml(t('team-session-not-scored', { title: scenario?.title ?? opened.session.scenarioKey, level }))].join(
        '\n',
      ),
    ];
  }
  const shown = scenario ?? {
    title: opened.session.scenarioKey,
    difficulties: {
      easy: { label: genericLabel(ctx, 'easy'), behaviour: '' },
      medium: { label: genericLabel(ctx, 'medium'), behaviour: '' },
      hard: { label: genericLabel(ctx, 'hard'), behaviour: '' },
    },
  };
  const [first = '', ...rest] = evaluationMessages(t, { scenario: shown, session: opened.session }, opened.evaluation);
  const dispute = opened.dispute
    ? [
        [
          `<b>${escapeHtml(t(opened.dispute.resolvedAt ? 'team-dispute-resolved' : 'team-dispute-open'))}</b>`,
          escapeHtml(t('team-dispute-reason', { reason: opened.dispute.reason })),
        ].join('\n'),
      ]
    : [];
  const review = opened.review ? [reviewLines(t, opened.review, opened.evaluation.totalScore)] : [];
  return [`${header}\n\n${first}`, ...rest, ...dispute, ...review];
}

/** The dialogue of a session, as messages cut only between turns. */
async function showTranscript(ctx: AuthedContext, sessionId: SessionId): Promise<void> {
  const transcript = await ctx.services.team.transcript(scopeOf(ctx.user), sessionId);
  if (!transcript) {
    await refuse(ctx, { type: 'team-transcript', sessionId });
    return;
  }
  await ctx.answerCallbackQuery();
  if (transcript.length === 0) {
    await ctx.reply(ctx.t('team-transcript-empty'));
    return;
  }
  const lines = transcript.map((line) => transcriptLine(ctx, line));
  for (const text of packLines([`<b>${escapeHtml(ctx.t('team-transcript-title'))}</b>`, ...lines])) {
    await ctx.reply(text, { parse_mode: 'HTML' });
  }
}

/** A turn longer than this is shortened: a whole transcript is read on a phone. */
const turnLimit = 1500;

function transcriptLine(ctx: BotContext, line: TranscriptLine): string {
  const who = ctx.t(line.role === 'user' ? 'team-transcript-trainee' : 'team-transcript-client');
  const content = line.content === '' ? ctx.t('team-transcript-unheard') : shorten(line.content, turnLimit);
  return `${line.spoken ? '🎤 ' : ''}<b>${escapeHtml(who)}:</b> ${escapeHtml(content)}`;
}

/** A name for the monospace table: no direction controls (an isolate would shift the columns). */
function plainName(member: Parameters<typeof displayName>[0]): string {
  return displayName(member).replace(/[\u202a-\u202e\u2066-\u2069\u200e\u200f]/g, '');
}

function shorten(text: string, limit: number): string {
  const chars = [...text];
  return chars.length > limit
    ? `${chars
        .slice(0, limit - 1)
        .join('')
        .trimEnd()}…`
    : text;
}

function pad(text: string, width: number): string {
  const length = [...text].length;
  return length >= width ? text : text + ' '.repeat(width - length);
}

function padStart(text: string, width: number): string {
  const length = [...text].length;
  return length >= width ? text : ' '.repeat(width - length) + text;
}

export const teamFeature = composer;
