import { autoRetry } from '@grammyjs/auto-retry';
import { conversations, createConversation } from '@grammyjs/conversations';
import type { I18n } from '@grammyjs/i18n';
import { sequentialize } from '@grammyjs/runner';
import { Bot, type Api, type ApiClientOptions } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { Locale } from '../config.js';
import type { ConversationStore } from '../db/queries/conversation-states.js';
import { botApiFetch } from './bot-api-fetch.js';
import { menuOf } from './command-menus.js';
import { contextConstructor, type BotContext, type BotDependencies, type ConversationContext } from './context.js';
import { afterEvaluationFeature } from './features/after-evaluation.js';
import { assignConversation, assignFeature, assignFlow } from './features/assign.js';
import { tasksFeature } from './features/tasks.js';
import { allowFeature } from './features/allow.js';
import { cancelFeature, cancelTraining, cancelTrainingConversation } from './features/cancel.js';
import { chatFeature } from './features/chat.js';
import { eraseFeature } from './features/erase.js';
import { finishFeature } from './features/finish.js';
import { hintFeature } from './features/hint.js';
import { historyFeature } from './features/history.js';
import { disputeEvaluation, disputeEvaluationConversation, disputeFeature } from './features/dispute.js';
import { reviewEvaluation, reviewEvaluationConversation, reviewFeature } from './features/review.js';
import { statsFeature } from './features/stats.js';
import { createInvite, createInviteConversation, inviteFeature } from './features/invite.js';
import { scenariosFeature, switchScenario, switchScenarioConversation } from './features/scenarios.js';
import { startFeature } from './features/start.js';
import { teamFeature } from './features/team.js';
import { unhandledFeature } from './features/unhandled.js';
import { voiceModeFeature } from './features/voice-mode.js';
import { voiceFeature } from './features/voice.js';
import { handleBotError, handleUpdateError } from './handlers/error.js';
import { chatKey } from './helpers/per-chat-queue.js';
import { DraftSupport } from './helpers/stream-reply.js';
import { accessGate } from './middleware/access.js';
import { logUpdates } from './middleware/logging.js';

export interface CreateBotOptions extends BotDependencies {
  /** Where multi-step flows keep their state between updates and restarts. */
  readonly conversationStore: ConversationStore<never>;
  /** The translations (createI18n), shared with the command menu and start-up recovery. */
  readonly i18n: I18n<BotContext>;
  /** Who the bot is, when known without asking Telegram (tests, benchmarks); otherwise `bot.init()` asks. */
  readonly botInfo?: UserFromGetMe;
  /**
   * How requests reach the Bot API; by default the network. Tests answer in-process here rather than
   * with an `api.config` transformer: calls made inside conversations go through an Api of the
   * plugin's own, built from these client options, which never sees `bot.api`'s transformers.
   */
  readonly fetch?: ApiClientOptions['fetch'];
}

/** Builds the bot: middleware in the order it runs, each feature from its own file. */
export function createBot(options: CreateBotOptions): Bot<BotContext> {
  const { config } = options;
  const bot = new Bot<BotContext>(config.botToken, {
    botInfo: options.botInfo,
    client: { apiRoot: config.telegramApiRoot, fetch: options.fetch ?? botApiFetch },
    ContextConstructor: contextConstructor(options, {
      drafts: new DraftSupport(),
      // grammY types its fetch as node-fetch's; for a file download both are the standard one.
      fetchFile: (options.fetch as typeof fetch | undefined) ?? fetch,
    }),
  });
  bot.api.config.use(autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 60 }));

  const { i18n } = options;

  // Updates of one chat run one after another; different chats run in parallel. Under polling the
  // chats' lines (bot/polling.ts) already keep this order by the same key; this keeps it for any
  // other caller of handleUpdate (tests, benchmarks).
  bot.use(sequentialize(chatKey));

  // Everything from here on is behind the error boundary: whatever fails ends in handleUpdateError.
  const guarded = bot.errorBoundary(handleUpdateError);
  guarded.use(logUpdates);
  guarded.use(i18n);
  guarded.use(accessGate);
  guarded.use(
    conversations<BotContext, ConversationContext>({
      // Version 2: the flows wait with filtered waits and take their user as an argument; a state
      // saved by version 1 would not replay, so it is dropped (its buttons then read as outdated).
      storage: { type: 'key', version: 2, adapter: options.conversationStore },
      plugins: [i18n.middleware() as never],
    }),
  );
  guarded.use(createConversation(switchScenario, switchScenarioConversation));
  guarded.use(createConversation(createInvite, createInviteConversation));
  guarded.use(createConversation(cancelTraining, cancelTrainingConversation));
  guarded.use(createConversation(reviewEvaluation, reviewEvaluationConversation));
  guarded.use(createConversation(disputeEvaluation, disputeEvaluationConversation));
  guarded.use(createConversation(assignFlow, assignConversation));

  guarded.use(startFeature);
  guarded.use(scenariosFeature);
  guarded.use(finishFeature);
  guarded.use(cancelFeature);
  guarded.use(afterEvaluationFeature);
  guarded.use(historyFeature);
  guarded.use(statsFeature);
  guarded.use(teamFeature);
  guarded.use(reviewFeature);
  guarded.use(disputeFeature);
  guarded.use(inviteFeature);
  guarded.use(assignFeature);
  guarded.use(tasksFeature);
  guarded.use(allowFeature);
  guarded.use(hintFeature);
  guarded.use(eraseFeature);
  guarded.use(voiceModeFeature);
  guarded.use(voiceFeature);
  guarded.use(chatFeature);
  guarded.use(unhandledFeature);

  // What escapes the boundary (sequentialize, or the boundary's own handler failing) ends here.
  bot.catch(handleBotError);
  return bot;
}

/**
 * The command menu in Russian and English, and in the default language for every other Telegram
 * language (the bot answers those users in the default language too).
 */
export async function registerCommands(api: Api, i18n: Pick<I18n, 't'>, defaultLocale: Locale): Promise<void> {
  const menu = (locale: Locale) => menuOf('trainee', locale, (l, key) => i18n.t(l, key));
  for (const locale of ['ru', 'en'] as const) await api.setMyCommands(menu(locale), { language_code: locale });
  await api.setMyCommands(menu(defaultLocale));
}
