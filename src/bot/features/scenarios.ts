import type { Conversation } from '@grammyjs/conversations';
import { Composer, InlineKeyboard } from 'grammy';
import type { Chat } from 'grammy/types';
import type { UserId } from '../../db/ids.js';
import { ActiveSessionExistsError } from '../../db/queries/sessions.js';
import { difficultyLevels, type Difficulty, type Scenario, type ScenarioCatalog } from '../../services/scenarios.js';
import type { AuthedContext, BotContext, ConversationContext } from '../context.js';
import { decodeCallback, encodeCallback } from '../helpers/callback-data.js';
import { escapeHtml } from '../helpers/html.js';
import { removeButtons } from '../helpers/keyboard.js';
import { outside } from '../helpers/outside.js';
import { sendVoiceReply } from '../helpers/voice-reply.js';
import { isAuthed } from '../middleware/access.js';

export const switchScenarioConversation = 'switch-scenario';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

feature.command('scenarios', (ctx) => showScenarioMenu(ctx));

feature.on('callback_query:data', async (ctx, next) => {
  const action = decodeCallback(ctx.callbackQuery.data);
  if (!action) return next();
  switch (action.type) {
    case 'scenario': {
      const scenario = await pressedScenario(ctx, action.key);
      if (!scenario) return;
      await ctx.reply(await difficultyText(ctx, scenario), { reply_markup: difficultyKeyboard(scenario) });
      return;
    }
    case 'difficulty': {
      const scenario = await pressedScenario(ctx, action.key);
      if (scenario) await beginTraining(ctx, scenario, action.difficulty);
      return;
    }
    case 'retry-transcription':
    case 'voice-mode':
      // The voice feature's buttons.
      return next();
    case 'cancel-training':
    case 'repeat-training':
    case 'scenario-menu':
    case 'past-evaluation':
    case 'team-member':
    case 'team-session':
    case 'team-transcript':
    case 'review-evaluation':
    case 'dispute-evaluation':
      // The buttons of other features (leaving a training, under an evaluation, in the history, /team).
      return next();
    case 'switch-scenario':
    case 'invite-option':
      // The answer to a question that is no longer open (it was left, or already answered):
      // the catch-all says the buttons are outdated.
      return next();
    default: {
      const unreachable: never = action;
      throw new Error(`unhandled action ${JSON.stringify(unreachable)}`);
    }
  }
});

/** The scenario a pressed menu button names, the button answered; undefined (with an alert) when it is gone. */
async function pressedScenario(ctx: BotContext, key: string): Promise<Scenario | undefined> {
  const scenario = ctx.services.scenarios.find(key);
  if (!scenario) {
    await ctx.answerCallbackQuery({ text: ctx.t('menu-outdated'), show_alert: true });
    return undefined;
  }
  await ctx.answerCallbackQuery();
  return scenario;
}

/** The scenario menu: one button per scenario. Used by /start and /scenarios. */
export async function showScenarioMenu(ctx: BotContext): Promise<void> {
  const { scenarios } = ctx.services;
  if (scenarios.all.length === 0) {
    await ctx.reply(ctx.t('menu-empty'));
    return;
  }
  const note = await menuLanguageNote(ctx, scenarios.all);
  const text = note === undefined ? ctx.t('menu-title') : ctx.t('scenarios-menu-with-note', { note });
  await ctx.reply(text, { reply_markup: scenarioKeyboard(scenarios) });
}

/**
 * For a person whose interface language is not the scenarios' own: which scenarios are in which
 * language. Scenario content stays in its language (the client speaks it, the evaluation is written
 * in it); the person must know that before choosing.
 */
async function menuLanguageNote(ctx: BotContext, scenarios: readonly Scenario[]): Promise<string | undefined> {
  const locale = await ctx.i18n.getLocale();
  const foreign = new Map<string, Scenario[]>();
  for (const scenario of scenarios) {
    if (scenario.language !== locale) foreign.set(scenario.language, [...(foreign.get(scenario.language) ?? []), scenario]);
  }
  if (foreign.size === 0) return undefined;
  const notes = [...foreign].map(([language, inLanguage]) =>
    inLanguage.length === scenarios.length
      ? ctx.t('scenarios-language-all', { language: languageName(language, locale) })
      : ctx.t('scenarios-language-some', {
          language: languageName(language, locale),
          titles: inLanguage.map((scenario) => ctx.t('scenarios-title-quoted', { title: scenario.title })).join(', '),
        }),
  );
  return notes.join('\n');
}

async function difficultyText(ctx: BotContext, scenario: Scenario): Promise<string> {
  const variables = { title: scenario.title, description: scenario.description };
  const locale = await ctx.i18n.getLocale();
  if (scenario.language === locale) return ctx.t('menu-choose-difficulty', variables);
  const note = ctx.t('scenarios-language-one', { language: languageName(scenario.language, locale) });
  return ctx.t('scenarios-difficulty-with-note', { ...variables, note });
}

/** «Russian» for an English reader, «русский» for a Russian one; the code itself for an unknown language. */
function languageName(language: string, locale: string): string {
  return new Intl.DisplayNames([locale], { type: 'language', fallback: 'code' }).of(language) ?? language;
}

function scenarioKeyboard(scenarios: ScenarioCatalog): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  for (const scenario of scenarios.all)
    keyboard.text(scenario.title, encodeCallback({ type: 'scenario', key: scenario.key })).row();
  return keyboard;
}

function difficultyKeyboard(scenario: Scenario): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  for (const level of difficultyLevels) {
    keyboard.text(
      scenario.difficulties[level].label,
      encodeCallback({ type: 'difficulty', key: scenario.key, difficulty: level }),
    );
  }
  return keyboard;
}

/** Starts the scenario, or first asks whether to abandon the training that is running. */
export async function beginTraining(
  ctx: BotContext & Pick<AuthedContext, 'user'>,
  scenario: Scenario,
  difficulty: Difficulty,
): Promise<void> {
  const request: SwitchScenarioRequest = { userId: ctx.user.id, scenarioKey: scenario.key, difficulty };
  const active = await ctx.services.training.active(ctx.user.id);
  if (active) {
    await ctx.conversation.enter(switchScenarioConversation, request);
    return;
  }
  await startAndGreet(ctx, request);
}

async function startAndGreet(ctx: BotContext, { userId, scenarioKey, difficulty }: SwitchScenarioRequest): Promise<void> {
  const { training, scenarios, voiceMode } = ctx.services;
  const scenario = scenarios.get(scenarioKey);
  try {
    const started = await training.start(userId, scenario.key, difficulty);
    await ctx.reply(ctx.t('session-started', { title: scenario.title, difficulty: scenario.difficulties[difficulty].label }));
    await ctx.reply(clientCard(ctx, scenario), { parse_mode: 'HTML' });
    // In voice mode the client picks up the phone by voice too, not only from the second line on.
    if (inChat(ctx) && (await voiceMode.repliesByVoice(userId, scenario))) await sendVoiceReply(ctx, started.openingLine);
    else await ctx.reply(started.openingLine);
    await training.markReplyDelivered(started.openingLineId);
  } catch (error) {
    if (!(error instanceof ActiveSessionExistsError)) throw error;
    await ctx.reply(ctx.t('session-already-active'));
  }
}

/**
 * The client card, shown before the client's first line: who is on the line and what the trainee
 * knows, as a real employee would have it in front of them. Labels in the person's language, the
 * facts in the scenario's.
 */
function clientCard(ctx: BotContext, scenario: Scenario): string {
  const { brief } = scenario;
  const variables = {
    who: escapeHtml(brief.who),
    company: escapeHtml(brief.company),
    known: brief.known.map((fact) => ctx.t('scenarios-brief-fact', { fact: escapeHtml(fact) })).join('\n'),
  };
  if (brief.goal === undefined) return ctx.t('scenarios-brief', variables);
  return ctx.t('scenarios-brief-with-goal', { ...variables, goal: escapeHtml(brief.goal) });
}

function inChat(ctx: BotContext): ctx is BotContext & { readonly chat: Chat } {
  return ctx.chat !== undefined;
}

/** Who picked which scenario: the conversation's argument, fixed when it is entered (it must be JSON). */
export interface SwitchScenarioRequest {
  readonly userId: UserId;
  readonly scenarioKey: string;
  readonly difficulty: Difficulty;
}

/**
 * Asked when a trainee picks a scenario while another is running: abandon it, or keep going.
 * Anything other than the two buttons leaves the question and is handled as usual.
 */
export async function switchScenario(
  conversation: Conversation<BotContext, ConversationContext>,
  ctx: ConversationContext,
  request: SwitchScenarioRequest,
): Promise<void> {
  const titles = await outside(conversation, async (outer) => {
    const active = await outer.services.training.active(request.userId);
    return { current: active?.scenario.title, next: outer.services.scenarios.find(request.scenarioKey)?.title };
  });
  if (!titles.next) return;
  if (titles.current) {
    const current = titles.current;
    const abandon = encodeCallback({ type: 'switch-scenario', answer: 'yes' });
    const keep = encodeCallback({ type: 'switch-scenario', answer: 'no' });
    await ctx.reply(ctx.t('session-switch-confirm', { title: current, newTitle: titles.next }), {
      reply_markup: new InlineKeyboard().text(ctx.t('button-switch-yes'), abandon).text(ctx.t('button-switch-no'), keep),
    });
    const answer = await conversation.waitForCallbackQuery([abandon, keep], {
      // A text is a turn of the running training, a command runs, another button does what it does.
      otherwise: () => conversation.halt({ next: true }),
    });
    await answer.answerCallbackQuery();
    await removeButtons(answer);
    if (answer.callbackQuery.data === keep) {
      await answer.reply(ctx.t('session-switch-kept', { title: current }));
      return;
    }
    const abandoned = await outside(conversation, (outer) => outer.services.training.abandon(request.userId));
    if (abandoned) await answer.reply(ctx.t('session-abandoned', { title: current }));
  }
  await outside(conversation, (outer) => startAndGreet(outer, request));
}

export const scenariosFeature = composer;
