import { autoRetry } from '@grammyjs/auto-retry';
import { conversations, createConversation } from '@grammyjs/conversations';
import type { I18n } from '@grammyjs/i18n';
import { sequentialize } from '@grammyjs/runner';
import { Bot, type Api } from 'grammy';
import type { ConversationStore } from '../db/queries/conversation-states.js';
import { contextConstructor, type BotContext, type BotDependencies, type ConversationContext } from './context.js';
import { chatFeature } from './features/chat.js';
import { finishFeature } from './features/finish.js';
import { hintFeature } from './features/hint.js';
import { historyFeature } from './features/history.js';
import { createInvite, createInviteConversation, inviteFeature } from './features/invite.js';
import { scenariosFeature, switchScenario, switchScenarioConversation } from './features/scenarios.js';
import { startFeature } from './features/start.js';
import { teamFeature } from './features/team.js';
import { unhandledFeature } from './features/unhandled.js';
import { errorBoundary, handleBotError } from './handlers/error.js';
import { DraftSupport } from './helpers/stream-reply.js';
import { accessGate } from './middleware/access.js';
import { logUpdates } from './middleware/logging.js';

export interface CreateBotOptions extends BotDependencies {
  /** Where multi-step flows keep their state between updates and restarts. */
  readonly conversationStore: ConversationStore<never>;
  /** The translations (createI18n), shared with the command menu and start-up recovery. */
  readonly i18n: I18n<BotContext>;
}

/** Builds the bot: middleware in the order it runs, each feature from its own file. */
export function createBot(options: CreateBotOptions): Bot<BotContext> {
  const { config } = options;
  const bot = new Bot<BotContext>(config.botToken, {
    client: { apiRoot: config.telegramApiRoot },
    ContextConstructor: contextConstructor(options, { drafts: new DraftSupport() }),
  });
  bot.api.config.use(autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 60 }));

  const { i18n } = options;

  // Updates of one chat run one after another; different chats run in parallel.
  bot.use(sequentialize((ctx) => ctx.chat?.id.toString() ?? ctx.from?.id.toString()));
  bot.use(errorBoundary);
  bot.use(logUpdates);
  bot.use(i18n);
  bot.use(accessGate);
  bot.use(
    conversations<BotContext, ConversationContext>({
      storage: { type: 'key', version: 1, adapter: options.conversationStore },
      plugins: [i18n.middleware() as never],
    }),
  );
  bot.use(createConversation(switchScenario, switchScenarioConversation));
  bot.use(createConversation(createInvite, createInviteConversation));

  bot.use(startFeature);
  bot.use(scenariosFeature);
  bot.use(finishFeature);
  bot.use(historyFeature);
  bot.use(teamFeature);
  bot.use(inviteFeature);
  bot.use(hintFeature);
  bot.use(chatFeature);
  bot.use(unhandledFeature);

  bot.catch(handleBotError);
  return bot;
}

const commands = ['scenarios', 'finish', 'hint', 'history', 'stats', 'help'] as const;

/** The command menu in Russian (default) and English. */
export async function registerCommands(api: Api, i18n: Pick<I18n, 't'>): Promise<void> {
  for (const locale of ['ru', 'en'] as const) {
    const list = commands.map((command) => ({ command, description: i18n.t(locale, `command-${command}`) }));
    await api.setMyCommands(list, locale === 'ru' ? {} : { language_code: locale });
    if (locale === 'ru') await api.setMyCommands(list, { language_code: 'ru' });
  }
}
