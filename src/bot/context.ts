import type { ConversationFlavor } from '@grammyjs/conversations';
import type { I18nFlavor } from '@grammyjs/i18n';
import { Context, type Api } from 'grammy';
import type { Update, UserFromGetMe } from 'grammy/types';
import type { Config } from '../config.js';
import type { User } from '../db/queries/users.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { BotServices } from './services.js';
import type { DraftSupport } from './helpers/stream-reply.js';

/** What every handler may use: built once in main.ts, handed to createBot. */
export interface BotDependencies {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics?: Pick<Metrics, 'countError'>;
  readonly services: BotServices;
}

/** State the bot itself keeps while it runs (not domain data). */
export interface BotRuntime {
  readonly drafts: DraftSupport;
  /** Downloads files from the Bot API's file endpoint: the same fetch the API client uses. */
  readonly fetchFile: typeof fetch;
}

/** grammY's context plus our dependencies; `user` is set by the access gate. */
export class BaseContext extends Context {
  readonly config: Config;
  readonly services: BotServices;
  readonly runtime: BotRuntime;
  readonly metrics: Pick<Metrics, 'countError'> | undefined;
  logger: Logger;
  /** The admitted user; set by the access middleware before any feature runs. */
  user: User | undefined;

  constructor(update: Update, api: Api, me: UserFromGetMe, deps: BotDependencies, runtime: BotRuntime) {
    super(update, api, me);
    this.config = deps.config;
    this.services = deps.services;
    this.runtime = runtime;
    this.metrics = deps.metrics;
    this.logger = deps.logger.child({ updateId: update.update_id });
    this.user = undefined;
  }
}

export type BotContext = ConversationFlavor<BaseContext & I18nFlavor>;

/** Inside the access gate: `ctx.user` is always there. */
export type AuthedContext = BotContext & { user: User };

/** The context inside conversations: a fresh one per replay, with i18n installed as a plugin. */
export type ConversationContext = Context & I18nFlavor;

/** grammY builds one context per update with this; the flavors' fields are filled in by their middleware. */
export function contextConstructor(
  deps: BotDependencies,
  runtime: BotRuntime,
): new (update: Update, api: Api, me: UserFromGetMe) => BotContext {
  return class extends BaseContext {
    constructor(update: Update, api: Api, me: UserFromGetMe) {
      super(update, api, me, deps, runtime);
    }
  } as unknown as new (update: Update, api: Api, me: UserFromGetMe) => BotContext;
}
