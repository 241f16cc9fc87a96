import { InlineKeyboard, type Api } from 'grammy';
import type { Locale } from '../config.js';
import type { TelegramId, UserId } from '../db/ids.js';
import { displayName } from '../db/queries/users.js';
import type { Logger } from '../logger.js';
import type { AccessService, JoinNotice, RefusalNotice } from '../services/access.js';
import { isolated } from './helpers/bidi.js';
import { encodeCallback } from './helpers/callback-data.js';
import { negotiateLocale } from './i18n.js';

export interface AccessNoticeDeps {
  readonly api: Api;
  readonly access: Pick<AccessService, 'tellJoins' | 'tellRefusal'>;
  readonly translate: (locale: Locale, key: string, variables?: Record<string, string | number>) => string;
  readonly defaultLocale: Locale;
  readonly logger: Logger;
}

type Person = Parameters<typeof displayName>[0];

/** «Анна Петрова (@anna)» or «Анна Петрова», in the recipient's language. */
function personText(deps: AccessNoticeDeps, locale: Locale, person: Person): string {
  const name = isolated(displayName(person));
  return person.username
    ? deps.translate(locale, 'access-person-with-username', { name, username: person.username })
    : deps.translate(locale, 'access-person', { name });
}

/**
 * Tells inviters who joined by their invite (one person's joining, or everyone not told yet — at
 * start-up, after a crash between the redemption and the message). Once each: see tellJoins.
 */
export async function tellJoins(deps: AccessNoticeDeps, only?: UserId): Promise<number> {
  return deps.access.tellJoins(async (notice: JoinNotice) => {
    const locale = negotiateLocale(notice.inviter.languageCode, deps.defaultLocale);
    await deps.api.sendMessage(
      notice.inviter.telegramId,
      deps.translate(locale, 'access-joined-notice', {
        person: personText(deps, locale, notice.person),
        telegramId: String(notice.person.telegramId),
      }),
    );
  }, only);
}

/**
 * Tells admins (and the inviter whose invite no longer works) of a refused person, with a
 * «Допустить» button; at most once a day per person. When nobody could be reached, it stays untold
 * for the person's next try.
 */
export async function tellRefusal(deps: AccessNoticeDeps, telegramId: TelegramId): Promise<boolean> {
  return deps.access.tellRefusal(telegramId, async (notice: RefusalNotice) => {
    if (notice.recipients.length === 0) {
      deps.logger.warn({ telegramId }, 'a refused person has nobody to be told to (no admin has started the bot)');
      return;
    }
    let reached = 0;
    let lastError: unknown;
    for (const recipient of notice.recipients) {
      const locale = negotiateLocale(recipient.languageCode, deps.defaultLocale);
      try {
        await deps.api.sendMessage(
          recipient.telegramId,
          deps.translate(locale, 'access-request-notice', {
            person: personText(deps, locale, notice.person),
            telegramId: String(notice.person.telegramId),
          }),
          {
            reply_markup: new InlineKeyboard().text(
              deps.translate(locale, 'access-admit-button'),
              encodeCallback({ type: 'admit', telegramId: notice.person.telegramId }),
            ),
          },
        );
        reached++;
      } catch (error) {
        lastError = error;
        deps.logger.warn({ err: error, telegramId }, 'a recipient could not be told of a refused person');
      }
    }
    if (reached === 0) throw lastError instanceof Error ? lastError : new Error('nobody was told of the refused person');
  });
}
