import type { Conversation } from '@grammyjs/conversations';
import { Composer, InlineKeyboard } from 'grammy';
import { ActiveSessionExistsError } from '../../db/queries/sessions.js';
import { difficultyLevels, type Difficulty, type Scenario, type ScenarioCatalog } from '../../services/scenarios.js';
import type { AuthedContext, BotContext, ConversationContext } from '../context.js';
import { decodeCallback, encodeCallback } from '../helpers/callback-data.js';
import { isAuthed } from '../middleware/access.js';

export const switchScenarioConversation = 'switch-scenario';
const switchYes = 'switch:yes';
const switchNo = 'switch:no';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

feature.command('scenarios', (ctx) => showScenarioMenu(ctx));

feature.on('callback_query:data', async (ctx, next) => {
  const action = decodeCallback(ctx.callbackQuery.data);
  if (!action) return next();
  const scenario = ctx.services.scenarios.find(action.key);
  if (!scenario) {
    await ctx.answerCallbackQuery({ text: ctx.t('menu-outdated'), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery();
  switch (action.type) {
    case 'scenario':
      await ctx.reply(ctx.t('menu-choose-difficulty', { title: scenario.title, description: scenario.description }), {
        reply_markup: difficultyKeyboard(scenario),
      });
      return;
    case 'difficulty':
      await beginTraining(ctx, scenario, action.difficulty);
      return;
    default: {
      const unreachable: never = action;
      throw new Error(`unhandled action ${JSON.stringify(unreachable)}`);
    }
  }
});

/** The scenario menu: one button per scenario. Used by /start and /scenarios. */
export async function showScenarioMenu(ctx: BotContext): Promise<void> {
  const { scenarios } = ctx.services;
  if (scenarios.all.length === 0) {
    await ctx.reply(ctx.t('menu-empty'));
    return;
  }
  await ctx.reply(ctx.t('menu-title'), { reply_markup: scenarioKeyboard(scenarios) });
}

function scenarioKeyboard(scenarios: ScenarioCatalog): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  for (const scenario of scenarios.all) keyboard.text(scenario.title, encodeCallback({ type: 'scenario', key: scenario.key })).row();
  return keyboard;
}

function difficultyKeyboard(scenario: Scenario): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  for (const level of difficultyLevels) {
    keyboard.text(scenario.difficulties[level].label, encodeCallback({ type: 'difficulty', key: scenario.key, difficulty: level }));
  }
  return keyboard;
}

async function beginTraining(ctx: BotContext & Pick<AuthedContext, 'user'>, scenario: Scenario, difficulty: Difficulty): Promise<void> {
  const active = await ctx.services.training.active(ctx.user.id);
  if (active) {
    await ctx.conversation.enter(switchScenarioConversation, scenario.key, difficulty);
    return;
  }
  await startAndGreet(ctx, ctx.user.id, scenario, difficulty);
}

async function startAndGreet(
  ctx: BotContext | ConversationContext,
  userId: AuthedContext['user']['id'],
  scenario: Scenario,
  difficulty: Difficulty,
  training: BotContext['services']['training'] = (ctx as BotContext).services.training,
): Promise<void> {
  try {
    const started = await training.start(userId, scenario.key, difficulty);
    await ctx.reply(ctx.t('session-started', { title: scenario.title, difficulty: scenario.difficulties[difficulty].label }));
    await ctx.reply(started.openingLine);
    await training.markReplyDelivered(started.openingLineId);
  } catch (error) {
    if (!(error instanceof ActiveSessionExistsError)) throw error;
    await ctx.reply(ctx.t('session-already-active'));
  }
}

/**
 * Asked when a trainee picks a scenario while another is running: abandon it, or keep going.
 * Anything other than the two buttons leaves the question and is handled as usual.
 */
export async function switchScenario(
  conversation: Conversation<BotContext, ConversationContext>,
  ctx: ConversationContext,
  scenarioKey: string,
  difficulty: Difficulty,
): Promise<void> {
  const current = await conversation.external(async (outer) => {
    const active = await outer.services.training.active(outer.user!.id);
    return active ? { title: active.scenario.title } : undefined;
  });
  const next = await conversation.external((outer) => outer.services.scenarios.find(scenarioKey)?.title);
  if (!next) return;
  if (current) {
    await ctx.reply(ctx.t('session-switch-confirm', { title: current.title, newTitle: next }), {
      reply_markup: new InlineKeyboard().text(ctx.t('button-switch-yes'), switchYes).text(ctx.t('button-switch-no'), switchNo),
    });
    const answer = await conversation.wait();
    const data = answer.callbackQuery?.data;
    if (data !== switchYes && data !== switchNo) {
      await conversation.halt({ next: true });
      return;
    }
    await answer.answerCallbackQuery();
    await answer.editMessageReplyMarkup({ reply_markup: undefined }).catch(() => undefined);
    if (data === switchNo) {
      await answer.reply(ctx.t('session-switch-kept', { title: current.title }));
      return;
    }
    const abandoned = await conversation.external((outer) => outer.services.training.abandon(outer.user!.id));
    if (abandoned) await answer.reply(ctx.t('session-abandoned', { title: current.title }));
  }
  await conversation.external(async (outer) => {
    const scenario = outer.services.scenarios.get(scenarioKey);
    await startAndGreet(outer, outer.user!.id, scenario, difficulty);
  });
}

export const scenariosFeature = composer;
