import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { TelegramId } from '../db/ids.js';
import { redeemInvite, wasAdmittedByInvite, type RedeemResult } from '../db/queries/invites.js';
import {
  findUserByTelegramId,
  getOrCreateUser,
  setUserRole,
  type TelegramProfile,
  type User,
  type UserRole,
} from '../db/queries/users.js';
import { retryTransient } from '../db/retry.js';
import type { Logger } from '../logger.js';

export type AccessDecision =
  | { readonly admitted: true; readonly user: User; readonly joinedByInvite?: boolean }
  | {
      readonly admitted: false;
      readonly reason: 'not-allowed' | 'needs-invite' | 'invite-unknown' | 'invite-expired' | 'invite-used-up';
    };

/** Who may use the bot: the access mode, the id lists, invites, and the roles that follow from them. */
export interface AccessService {
  /** Decides for the sender of an update; registers them when admitted. `inviteCode` comes from `/start <code>`. */
  admit(profile: TelegramProfile, inviteCode?: string): Promise<AccessDecision>;
}

/** The access service's cache of admitted users, for an erasure: a forgotten person is decided afresh. */
export interface AccessCache {
  forget(telegramId: TelegramId): void;
  /** Forgets everyone (erasures may have been missed while the bot could not hear of them). */
  forgetAll(): void;
}

/** How long an admitted user is trusted without asking the database again. */
const admittedCacheMs = 5 * 60_000;

export function createAccessService(db: Database, access: Config['access'], logger: Logger): AccessService & AccessCache {
  const admins = new Set<TelegramId>(access.adminUserIds);
  const allowed = new Set<TelegramId>([...access.allowedUserIds, ...access.adminUserIds]);
  // Every update passes the gate; a known user with an unchanged profile needs no database round trip.
  const admitted = new Map<TelegramId, { user: User; profileKey: string; until: number }>();
  const profileKeyOf = (p: TelegramProfile) => [p.username, p.firstName, p.lastName, p.languageCode].join('\u0000');

  /** ADMIN_USER_IDS is the source of truth for admins: granted on arrival, withdrawn when removed. */
  async function withConfiguredRole(user: User): Promise<User> {
    const shouldBeAdmin = admins.has(user.telegramId);
    if (shouldBeAdmin && user.role !== 'admin') {
      await setUserRole(db, user.id, 'admin');
      return { ...user, role: 'admin' };
    }
    if (!shouldBeAdmin && user.role === 'admin') {
      await setUserRole(db, user.id, 'trainee');
      return { ...user, role: 'trainee' };
    }
    return user;
  }

  async function register(profile: TelegramProfile, role: UserRole = 'trainee'): Promise<User> {
    return withConfiguredRole(await getOrCreateUser(db, profile, role));
  }

  async function admitByInvite(profile: TelegramProfile, inviteCode: string | undefined): Promise<AccessDecision> {
    const existing = await findUserByTelegramId(db, profile.telegramId);
    if (existing && (await wasAdmittedByInvite(db, existing.id))) {
      return { admitted: true, user: await register(profile) };
    }
    if (!inviteCode) return { admitted: false, reason: 'needs-invite' };
    // A stranger is registered by the redemption itself, and only when the code admits them.
    const result: RedeemResult = await redeemInvite(db, inviteCode, profile);
    if (!result.ok) return { admitted: false, reason: `invite-${result.reason}` };
    // The user exists by now, and redeeming gave them the invite's role: register reads it back.
    return { admitted: true, user: await register(profile), joinedByInvite: true };
  }

  async function decide(profile: TelegramProfile, inviteCode: string | undefined): Promise<AccessDecision> {
    if (admins.has(profile.telegramId)) return { admitted: true, user: await register(profile) };
    switch (access.mode) {
      case 'open':
        return { admitted: true, user: await register(profile) };
      case 'allowlist':
        return allowed.has(profile.telegramId)
          ? { admitted: true, user: await register(profile) }
          : { admitted: false, reason: 'not-allowed' };
      case 'invite':
        return admitByInvite(profile, inviteCode);
      default: {
        const unreachable: never = access.mode;
        throw new Error(`unknown access mode ${String(unreachable)}`);
      }
    }
  }

  return {
    async admit(profile, inviteCode) {
      const cached = admitted.get(profile.telegramId);
      if (cached && cached.until > Date.now() && cached.profileKey === profileKeyOf(profile) && !inviteCode) {
        return { admitted: true, user: cached.user };
      }
      // Every step of the decision is idempotent (an invite is spent once per person), so a short
      // PostgreSQL outage is waited out rather than turning the trainee away.
      const decision = await retryTransient(() => decide(profile, inviteCode), { logger, what: 'admit the user' });
      if (decision.admitted) {
        admitted.set(profile.telegramId, {
          user: decision.user,
          profileKey: profileKeyOf(profile),
          until: Date.now() + admittedCacheMs,
        });
      } else {
        admitted.delete(profile.telegramId);
      }
      return decision;
    },
    forget(telegramId) {
      admitted.delete(telegramId);
    },
    forgetAll() {
      admitted.clear();
    },
  };
}
