import { Composer } from 'grammy';
import type { BotContext } from '../context.js';
import { decodeCallback } from '../helpers/callback-data.js';
import { isAuthed } from '../middleware/access.js';
import { beginTraining, showScenarioMenu } from './scenarios.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

/**
 * The buttons under an evaluation (helpers/evaluation-keyboard.ts). «Повторить» goes the way a pick
 * in the menu goes: with a training running, the trainee is asked first whether to abandon it.
 */
feature.on('callback_query:data', async (ctx, next) => {
  const action = decodeCallback(ctx.callbackQuery.data);
  if (action?.type === 'repeat-training') {
    const scenario = ctx.services.scenarios.find(action.key);
    if (!scenario) {
      await ctx.answerCallbackQuery({ text: ctx.t('after-evaluation-scenario-gone'), show_alert: true });
      return;
    }
    await ctx.answerCallbackQuery();
    await beginTraining(ctx, scenario, action.difficulty);
    return;
  }
  if (action?.type === 'scenario-menu') {
    await ctx.answerCallbackQuery();
    await showScenarioMenu(ctx);
    return;
  }
  return next();
});

export const afterEvaluationFeature = composer;
