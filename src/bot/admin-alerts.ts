import type { I18n } from '@grammyjs/i18n';
import type { Api } from 'grammy';
import type { Locale } from '../config.js';
import type { Database } from '../db/client.js';
import { asTelegramId } from '../db/ids.js';
import { findUserByTelegramId } from '../db/queries/users.js';
import type { Logger } from '../logger.js';
import type { SheetsAlert } from '../services/sheets/outage-monitor.js';
import { negotiateLocale } from './i18n.js';
import { sheetsAlertText } from './sheets-problem.js';

export interface AdminAlertDeps {
  readonly api: Api;
  readonly db: Database;
  readonly i18n: Pick<I18n, 'translate'>;
  readonly adminUserIds: readonly number[];
  readonly defaultLocale: Locale;
  readonly logger: Logger;
}

/**
 * Tells every admin about the sheet export, each in the language of their Telegram (as last seen
 * by the bot; the default language for an admin who never wrote to it). A failure is only logged.
 */
export async function alertAdmins(deps: AdminAlertDeps, alert: SheetsAlert): Promise<void> {
  for (const id of deps.adminUserIds) {
    const admin = await findUserByTelegramId(deps.db, asTelegramId(id)).catch(() => undefined);
    const locale = negotiateLocale(admin?.languageCode, deps.defaultLocale);
    const text = sheetsAlertText((key, variables) => deps.i18n.translate(locale, key, variables), alert);
    await deps.api
      .sendMessage(id, text)
      .catch((error: unknown) => deps.logger.warn({ err: error, adminId: id }, 'could not tell an admin'));
  }
}
