import type { Api } from 'grammy';
import type { Locale } from '../config.js';
import type { TelegramId } from '../db/ids.js';
import type { UserRole } from '../db/queries/users.js';
import type { Logger } from '../logger.js';
import { negotiateLocale } from './i18n.js';

/**
 * The command menus, per role: every list in one place, so that a new command is one line here (and
 * its `command-<name>` description in the locales). Trainees see the default menu; managers and
 * admins get a menu of their own in their chat (a per-chat scope), the trainee's commands first.
 */
export const traineeCommands = ['scenarios', 'tasks', 'finish', 'cancel', 'hint', 'voice', 'history', 'stats', 'help'] as const;
export const managerCommands = [...traineeCommands, 'team', 'assign', 'invite'] as const;
export const adminCommands = [...managerCommands, 'allow', 'revoke', 'erase'] as const;

export type MenuCommand = (typeof adminCommands)[number];

/** The commands a role sees in its menu. */
export function commandsOf(role: UserRole): readonly MenuCommand[] {
  switch (role) {
    case 'trainee':
      return traineeCommands;
    case 'manager':
      return managerCommands;
    case 'admin':
      return adminCommands;
    default: {
      const unreachable: never = role;
      throw new Error(`unknown role ${String(unreachable)}`);
    }
  }
}

type Translate = (locale: Locale, key: string) => string;

export function menuOf(role: UserRole, locale: Locale, translate: Translate): Array<{ command: string; description: string }> {
  return commandsOf(role).map((command) => ({ command, description: translate(locale, `command-${command}`) }));
}

export interface MenuHolder {
  readonly telegramId: TelegramId;
  readonly role: UserRole;
  readonly languageCode: string | null;
}

/**
 * Sets a person's own menu for their role: managers and admins get theirs in their chat; a trainee's
 * chat menu is deleted, so the default one shows again (a demoted manager loses the extra commands).
 */
export async function setRoleMenu(api: Api, translate: Translate, defaultLocale: Locale, person: MenuHolder): Promise<void> {
  const scope = { type: 'chat', chat_id: person.telegramId } as const;
  if (person.role === 'trainee') {
    await api.deleteMyCommands({ scope });
    return;
  }
  // A chat scope has one menu for every language: the person's own language is the one they read.
  const locale = negotiateLocale(person.languageCode, defaultLocale);
  await api.setMyCommands(menuOf(person.role, locale, translate), { scope });
}

/**
 * At start-up: every manager's and admin's menu (their roles may have changed while the bot was
 * down, and people who led before menus existed get theirs). A failure is logged, never fatal.
 */
export async function setRoleMenus(
  api: Api,
  translate: Translate,
  defaultLocale: Locale,
  people: readonly MenuHolder[],
  logger: Logger,
): Promise<void> {
  for (const person of people) {
    await setRoleMenu(api, translate, defaultLocale, person).catch((error: unknown) =>
      logger.warn({ err: error, telegramId: person.telegramId }, 'could not set a command menu'),
    );
  }
}
