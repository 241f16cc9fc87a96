import { eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { TelegramId, UserId } from '../ids.js';
import { users } from '../schema.js';
import { storableOrNull } from '../text.js';

export type User = typeof users.$inferSelect;
export type UserRole = User['role'];

export interface TelegramProfile {
  readonly telegramId: TelegramId;
  readonly username?: string | undefined;
  readonly firstName?: string | undefined;
  readonly lastName?: string | undefined;
  readonly languageCode?: string | undefined;
}

/** Finds the user by Telegram id or registers them; the profile (names, language) is kept current. */
export async function getOrCreateUser(db: Database, profile: TelegramProfile, role: UserRole = 'trainee'): Promise<User> {
  const values = {
    telegramId: profile.telegramId,
    username: storableOrNull(profile.username),
    firstName: storableOrNull(profile.firstName),
    lastName: storableOrNull(profile.lastName),
    languageCode: storableOrNull(profile.languageCode),
  };
  const [user] = await db
    .insert(users)
    .values({ ...values, role })
    .onConflictDoUpdate({
      target: users.telegramId,
      set: {
        username: sql`excluded.username`,
        firstName: sql`excluded.first_name`,
        lastName: sql`excluded.last_name`,
        languageCode: sql`excluded.language_code`,
      },
    })
    .returning();
  return user!;
}

export async function findUserByTelegramId(db: Database, telegramId: TelegramId): Promise<User | undefined> {
  const [user] = await db.select().from(users).where(eq(users.telegramId, telegramId)).limit(1);
  return user;
}

export async function getUser(db: Database, userId: UserId): Promise<User | undefined> {
  const [user] = await db.select().from(users).where(eq(users.id, userId)).limit(1);
  return user;
}

/** A person by @username (without the @), case-insensitive as Telegram's usernames are. */
export async function findUserByUsername(db: Database, username: string): Promise<User | undefined> {
  const [user] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.username}) = lower(${username})`)
    .limit(1);
  return user;
}

/**
 * Puts a person in a manager's team (null: in none). Someone who never wrote to the bot yet is
 * registered by their Telegram id alone; their names arrive with their first message.
 */
export async function placeInTeam(db: Database, telegramId: TelegramId, managerId: UserId | null): Promise<User> {
  const [user] = await db
    .insert(users)
    .values({ telegramId, managerId })
    .onConflictDoUpdate({ target: users.telegramId, set: { managerId } })
    .returning();
  return user!;
}

/** Managers and admins, for their command menus. */
export async function listLeaders(db: Database): Promise<Array<Pick<User, 'telegramId' | 'role' | 'languageCode'>>> {
  return db
    .select({ telegramId: users.telegramId, role: users.role, languageCode: users.languageCode })
    .from(users)
    .where(inArray(users.role, ['manager', 'admin']));
}

export async function setUserRole(db: Database, userId: UserId, role: UserRole): Promise<void> {
  await db.update(users).set({ role }).where(eq(users.id, userId));
}

/** How a person is named in lists and the managers' sheet. */
export function displayName(user: Pick<User, 'firstName' | 'lastName' | 'username' | 'telegramId'>): string {
  const full = [user.firstName, user.lastName].filter(Boolean).join(' ').trim();
  if (full) return full;
  return user.username ? `@${user.username}` : `id ${user.telegramId}`;
}

/** A trainee's /voice choice: 'on', 'off', or null to follow each scenario's default. */
export type VoicePreference = NonNullable<User['voiceReplies']> | null;

export async function getVoicePreference(db: Database, userId: UserId): Promise<VoicePreference> {
  const [row] = await db.select({ voiceReplies: users.voiceReplies }).from(users).where(eq(users.id, userId)).limit(1);
  return row?.voiceReplies ?? null;
}

export async function setVoicePreference(db: Database, userId: UserId, preference: VoicePreference): Promise<void> {
  await db.update(users).set({ voiceReplies: preference }).where(eq(users.id, userId));
}
