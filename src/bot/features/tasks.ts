import { Composer, InlineKeyboard } from 'grammy';
import { z } from 'zod';
import type { Difficulty } from '../../services/scenarios.js';
import type { BotContext } from '../context.js';
import { dateLocaleOf } from '../helpers/dates.js';
import { isAuthed } from '../middleware/access.js';
import { beginTraining } from './scenarios.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/** The start button of an open assignment (in /tasks and under its notices); the handler checks it is the presser's. */
export const taskCallback = (assignmentId: number) => `task:${assignmentId}`;
/** The digest's «Назначить задание»: /assign (assign.ts). */
export const assignCallback = 'assign:new';

const taskData = z
  .string()
  .regex(/^task:[1-9]\d{0,9}$/)
  .transform((data) => Number(data.slice('task:'.length)))
  .refine((id) => id <= 2_147_483_647);

feature.command('tasks', async (ctx) => {
  const { assignments, scenarios } = ctx.services;
  const open = await assignments.openFor(ctx.user.id);
  if (open.length === 0) {
    await ctx.reply(ctx.t('tasks-none'));
    return;
  }
  const format = new Intl.DateTimeFormat(await dateLocaleOf(ctx), {
    timeZone: ctx.config.teamTimeZone,
    dateStyle: 'short',
    timeStyle: 'short',
  });
  const now = Date.now();
  const keyboard = new InlineKeyboard();
  const lines = [ctx.t('tasks-title')];
  for (const assignment of open) {
    const scenario = scenarios.find(assignment.scenarioKey);
    const title = scenario?.title ?? assignment.scenarioKey;
    lines.push(
      ctx.t('tasks-line', {
        title,
        difficulty: scenario?.difficulties[assignment.difficulty as Difficulty]?.label ?? assignment.difficulty,
        mark: assignment.passMark,
        due: format.format(assignment.dueAt),
        overdue: assignment.dueAt.getTime() < now ? ctx.t('tasks-overdue-mark') : '',
      }),
    );
    if (scenario) keyboard.text(ctx.t('tasks-start-button', { title }), taskCallback(assignment.id)).row();
  }
  await ctx.reply(lines.join('\n'), { reply_markup: keyboard });
});

feature.on('callback_query:data', async (ctx, next) => {
  const parsed = taskData.safeParse(ctx.callbackQuery.data);
  if (!parsed.success) return next();
  const assignment = await ctx.services.assignments.find(parsed.data);
  if (!assignment || assignment.userId !== ctx.user.id || assignment.status !== 'open') {
    await ctx.answerCallbackQuery({ text: ctx.t('tasks-not-yours'), show_alert: true });
    return;
  }
  const scenario = ctx.services.scenarios.find(assignment.scenarioKey);
  if (!scenario) {
    await ctx.answerCallbackQuery({ text: ctx.t('tasks-scenario-gone'), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery();
  // The same start as the scenario menu's, at the assigned difficulty (a running training is asked about first).
  await beginTraining(ctx, scenario, assignment.difficulty as Difficulty);
});

export const tasksFeature = composer;
