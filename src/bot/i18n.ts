import { fileURLToPath } from 'node:url';
import { I18n } from '@grammyjs/i18n';
import type { Context } from 'grammy';
import type { Locale } from '../config.js';

const localesDir = fileURLToPath(new URL('./locales', import.meta.url));

/** Fluent translations from src/bot/locales; the locale follows the user's Telegram language. */
export function createI18n<C extends Context>(defaultLocale: Locale): I18n<C> {
  return new I18n<C>({
    defaultLocale,
    directory: localesDir,
    useSession: false,
    // No Unicode isolation marks around variables: they would travel into Telegram messages.
    fluentBundleOptions: { useIsolating: false },
    localeNegotiator: (ctx) => negotiateLocale(ctx.from?.language_code, defaultLocale),
  });
}

/** ru or en from a Telegram language code; anything else gets the default. */
export function negotiateLocale(languageCode: string | null | undefined, fallback: Locale): Locale {
  const language = languageCode?.toLowerCase().split('-')[0];
  return language === 'ru' || language === 'en' ? language : fallback;
}
