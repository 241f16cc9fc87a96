import { Composer, InlineKeyboard } from 'grammy';
import { asTelegramId, type TelegramId } from '../../db/ids.js';
import type { ErasureReport } from '../../services/erase-person.js';
import { formatTeamDateTime } from '../../services/sheets/sheet-layout.js';
import type { AuthedContext, BotContext } from '../context.js';
import { isolated } from '../helpers/bidi.js';
import { decodeAdminCallback, encodeCallback } from '../helpers/callback-data.js';
import { removeButtons } from '../helpers/keyboard.js';
import { isAuthed } from '../middleware/access.js';
import { sheetsProblemText } from '../sheets-problem.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/** ADMIN_USER_IDS decides, as it decides the admin role: managers may not erase anyone. */
export function isAdmin(ctx: Pick<AuthedContext, 'user' | 'config'>): boolean {
  return ctx.config.access.adminUserIds.includes(ctx.user.telegramId);
}

/** /erase <telegram id>: who it is, and a button to confirm; nothing is deleted yet. */
feature.command('erase', async (ctx) => {
  if (!isAdmin(ctx)) {
    await ctx.reply(ctx.t('erase-not-allowed'));
    return;
  }
  const telegramId = telegramIdIn(ctx.match);
  if (telegramId === undefined) {
    await ctx.reply(ctx.t('erase-usage'));
    return;
  }
  const preview = await ctx.services.erase.preview(telegramId);
  const id = String(telegramId);
  if (!preview.person && preview.sheetPending === 0) {
    await ctx.reply(ctx.t('erase-nothing', { telegramId: id }));
    return;
  }
  const question = preview.person
    ? ctx.t('erase-confirm', { name: isolated(preview.person.name), telegramId: id, sessions: preview.person.sessions })
    : ctx.t('erase-confirm-sheet-only', { telegramId: id });
  await ctx.reply(question, {
    reply_markup: new InlineKeyboard()
      .text(ctx.t('button-erase-yes'), encodeCallback({ type: 'erase', answer: 'yes', telegramId }))
      .text(ctx.t('button-erase-no'), encodeCallback({ type: 'erase', answer: 'no', telegramId })),
  });
});

/** The answer to the question: erase and show what went, or leave everything as it is. */
feature.on('callback_query:data', async (ctx, next) => {
  const action = decodeAdminCallback(ctx.callbackQuery.data);
  if (!action) return next();
  // The button is checked again: a forged one, or one pressed after ADMIN_USER_IDS changed, erases nothing.
  if (!isAdmin(ctx)) {
    await ctx.answerCallbackQuery({ text: ctx.t('erase-not-allowed'), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery();
  await removeButtons(ctx);
  if (action.answer === 'no') {
    await ctx.reply(ctx.t('erase-cancelled'));
    return;
  }
  await ctx.reply(ctx.t('erase-running'));
  const report = await ctx.services.erase.erase(action.telegramId);
  ctx.logger.info({ erasedUsers: report.removed.users, sheet: report.sheet.kind }, 'erasure asked for by an admin');
  await ctx.reply(erasureReportText(ctx.t.bind(ctx), report, ctx.config.teamTimeZone));
});

/** The Telegram id after the command: digits only, as Telegram shows it. */
function telegramIdIn(text: string): TelegramId | undefined {
  const digits = text.trim();
  if (!/^[1-9]\d{0,15}$/.test(digits)) return undefined;
  const id = Number(digits);
  return Number.isSafeInteger(id) ? asTelegramId(id) : undefined;
}

type Translate = (key: string, variables?: Record<string, string | number>) => string;

/** What an erasure removed, as one text: the bot's answer and `npm run user:erase`'s summary. */
export function erasureReportText(t: Translate, report: ErasureReport, timeZone: string): string {
  const id = String(report.telegramId);
  const { removed, invites, sheet } = report;
  const parts = [t(report.found ? 'erase-report-done' : 'erase-report-nothing', { telegramId: id })];
  if (report.found || removed.conversationStates > 0) {
    parts.push(
      t('erase-report-database', {
        users: removed.users,
        sessions: removed.sessions,
        messages: removed.messages,
        evaluations: removed.evaluations,
        redemptions: removed.inviteRedemptions,
        states: removed.conversationStates,
        exports: removed.sheetExports,
      }),
    );
  }
  if (invites.detached > 0) parts.push(t('erase-report-invites', { detached: invites.detached, closed: invites.closed }));
  switch (sheet.kind) {
    case 'off':
      parts.push(t('erase-report-sheet-off'));
      break;
    case 'nothing':
      parts.push(t('erase-report-sheet-nothing'));
      break;
    case 'erased':
      parts.push(t('erase-report-sheet-erased', { rows: sheet.rowsDeleted }));
      if (sheet.recheckAt) parts.push(t('erase-report-sheet-recheck', { time: formatTeamDateTime(sheet.recheckAt, timeZone) }));
      break;
    case 'queued': {
      const reason =
        sheet.reason === 'google-refused' && sheet.problem
          ? sheetsProblemText(t, sheet.problem)
          : t(`erase-sheet-reason-${sheet.reason}`);
      parts.push(t('erase-report-sheet-queued', { reason }));
      break;
    }
    default: {
      const unreachable: never = sheet;
      throw new Error(`unknown sheet outcome ${JSON.stringify(unreachable)}`);
    }
  }
  return parts.join('\n\n');
}

export const eraseFeature = composer;
