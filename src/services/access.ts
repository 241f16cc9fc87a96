import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { TelegramId, UserId } from '../db/ids.js';
import {
  findGrant,
  grantAccess,
  findAccessRequest,
  inviterOfRequest,
  type AccessRequest,
  recordRefusal,
  revokeAccess,
  tellJoins,
  tellRefusal,
  type JoinNotice,
  type RefusalNotice,
} from '../db/queries/access.js';
import { redeemInvite, wasAdmittedByInvite, type RedeemResult } from '../db/queries/invites.js';
import {
  findUserByTelegramId,
  findUserByUsername,
  getOrCreateUser,
  getUser,
  placeInTeam,
  setUserRole,
  type TelegramProfile,
  type User,
  type UserRole,
} from '../db/queries/users.js';
import { retryTransient } from '../db/retry.js';
import type { Logger } from '../logger.js';

export type AccessDecision =
  | {
      readonly admitted: true;
      readonly user: User;
      /** This update's invite spent a use for them: they (and the inviter) are told. */
      readonly joinedByInvite?: boolean;
      /** Their role moved between trainee and manager/admin: their command menu changes with it. */
      readonly menuChanged?: boolean;
    }
  | {
      readonly admitted: false;
      readonly reason: 'not-allowed' | 'revoked' | 'needs-invite' | 'invite-unknown' | 'invite-expired' | 'invite-used-up';
    };

/** /allow: what happened, for the admin's answer. */
export type AllowResult =
  /** `request`: they had been refused (so they wrote to the bot, and can be told). */
  | { readonly kind: 'allowed'; readonly manager?: User; readonly request?: AccessRequest }
  | { readonly kind: 'already-allowed'; readonly manager?: User }
  | { readonly kind: 'manager-unknown' }
  | { readonly kind: 'not-a-manager'; readonly manager: User };

/** /revoke: what happened, for the admin's answer. */
export type RevokeResult =
  | { readonly kind: 'revoked'; readonly person?: User }
  | { readonly kind: 'admin' }
  | { readonly kind: 'already-revoked' }
  | { readonly kind: 'not-allowed' };

/** «Допустить»: who was let in (their request, to tell them in their language), or why not. */
export type AdmitRequestResult =
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'allowed' | 'already-allowed'; readonly manager?: User; readonly request?: AccessRequest };

export type { JoinNotice, RefusalNotice };

/** Who may use the bot: the access mode, the id lists, invites, and the roles that follow from them. */
export interface AccessService {
  /** Decides for the sender of an update; registers them when admitted. `inviteCode` comes from `/start <code>`. */
  admit(profile: TelegramProfile, inviteCode?: string): Promise<AccessDecision>;
  /**
   * Lets a person in (the PostgreSQL allowlist), optionally into a manager's team: `manager` is that
   * manager's Telegram id or @username. Takes effect at once.
   */
  grant(telegramId: TelegramId, by: User, manager?: string): Promise<AllowResult>;
  /** Shuts a person out at once, even when ALLOWED_USER_IDS lists them; never an ADMIN_USER_IDS admin. */
  revoke(telegramId: TelegramId, by: User): Promise<RevokeResult>;
  /**
   * «Допустить» under a refused person's notice: an admin, or the manager whose invite they followed,
   * lets them in (into that inviter's team, when the inviter leads one).
   */
  admitRequest(telegramId: TelegramId, by: User): Promise<AdmitRequestResult>;
  /** Tells of a refused person (at most once a day per person; see tellRefusal). */
  tellRefusal(telegramId: TelegramId, tell: (notice: RefusalNotice) => Promise<void>): Promise<boolean>;
  /** Tells inviters of people who joined and were not announced yet (one person's, or all). */
  tellJoins(tell: (notice: JoinNotice) => Promise<void>, only?: UserId): Promise<number>;
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

  const leads = (role: UserRole | undefined) => role === 'manager' || role === 'admin';

  async function decide(profile: TelegramProfile, inviteCode: string | undefined): Promise<AccessDecision> {
    const before = await findUserByTelegramId(db, profile.telegramId);
    const decision = await decideFor(profile, inviteCode, before);
    if (!decision.admitted) {
      // Revoked people were shut out on purpose: admins are not asked about them again.
      if (decision.reason !== 'revoked') {
        const followed = decision.reason === 'invite-expired' || decision.reason === 'invite-used-up' ? inviteCode : undefined;
        await recordRefusal(db, profile, followed);
      }
      return decision;
    }
    return leads(before?.role) === leads(decision.user.role) ? decision : { ...decision, menuChanged: true };
  }

  async function decideFor(
    profile: TelegramProfile,
    inviteCode: string | undefined,
    existing: User | undefined,
  ): Promise<AccessDecision> {
    if (admins.has(profile.telegramId)) {
      if (inviteCode) await redeemInvite(db, inviteCode, profile);
      return { admitted: true, user: await register(profile) };
    }
    const grant = await findGrant(db, profile.telegramId);
    if (grant?.revokedAt) return { admitted: false, reason: 'revoked' };
    if (inviteCode) {
      // An invite works in every mode: redeeming it is an allowlist entry and a place in the inviter's team.
      const result: RedeemResult = await redeemInvite(db, inviteCode, profile);
      if (result.ok) return { admitted: true, user: await register(profile), joinedByInvite: result.joined };
      if (!(await admittedWithoutInvite(profile.telegramId, grant !== undefined, existing))) {
        return { admitted: false, reason: `invite-${result.reason}` };
      }
      return { admitted: true, user: await register(profile) };
    }
    if (await admittedWithoutInvite(profile.telegramId, grant !== undefined, existing)) {
      return { admitted: true, user: await register(profile) };
    }
    return { admitted: false, reason: access.mode === 'invite' ? 'needs-invite' : 'not-allowed' };
  }

  /** The mode's own rule: everyone (open), the lists and grants (allowlist), grants and past invites (invite). */
  async function admittedWithoutInvite(telegramId: TelegramId, granted: boolean, existing: User | undefined): Promise<boolean> {
    switch (access.mode) {
      case 'open':
        return true;
      case 'allowlist':
        return granted || allowed.has(telegramId);
      case 'invite':
        return granted || (existing !== undefined && (await wasAdmittedByInvite(db, existing.id)));
      default: {
        const unreachable: never = access.mode;
        throw new Error(`unknown access mode ${String(unreachable)}`);
      }
    }
  }

  async function findManager(reference: string): Promise<User | undefined> {
    const trimmed = reference.trim();
    if (/^\d{1,16}$/.test(trimmed)) return findUserByTelegramId(db, Number(trimmed) as TelegramId);
    const username = /^@?([A-Za-z0-9_]{3,32})$/.exec(trimmed)?.[1];
    return username ? findUserByUsername(db, username) : undefined;
  }

  async function allow(telegramId: TelegramId, by: User, managerReference: string | undefined): Promise<AllowResult> {
    let manager: User | undefined;
    if (managerReference !== undefined) {
      manager = await findManager(managerReference);
      if (!manager) return { kind: 'manager-unknown' };
      if (!leads(manager.role)) return { kind: 'not-a-manager', manager };
    }
    const grant = await findGrant(db, telegramId);
    const alreadyIn = admins.has(telegramId) || grant?.revokedAt === null || (grant === undefined && allowed.has(telegramId));
    const request = await findAccessRequest(db, telegramId);
    const granted = alreadyIn ? false : await grantAccess(db, { telegramId, grantedBy: by.id, source: 'admin' });
    if (manager) await placeInTeam(db, telegramId, manager.id);
    admitted.delete(telegramId);
    if (!granted) return { kind: 'already-allowed', manager };
    return { kind: 'allowed', manager, request };
  }

  async function revoke(telegramId: TelegramId, by: User): Promise<RevokeResult> {
    if (admins.has(telegramId)) return { kind: 'admin' };
    const grant = await findGrant(db, telegramId);
    if (grant?.revokedAt) return { kind: 'already-revoked' };
    const person = await findUserByTelegramId(db, telegramId);
    if (!grant && !allowed.has(telegramId) && !person) return { kind: 'not-allowed' };
    await revokeAccess(db, telegramId, by.id);
    // At once in this process: the cache would otherwise let them in for minutes more.
    admitted.delete(telegramId);
    return { kind: 'revoked', person };
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
    grant: (telegramId, by, manager) => allow(telegramId, by, manager),
    revoke: (telegramId, by) => revoke(telegramId, by),
    async admitRequest(telegramId, by) {
      const request = await findAccessRequest(db, telegramId);
      const inviterId = request ? await inviterOfRequest(db, telegramId) : undefined;
      const isInviter = inviterId !== undefined && inviterId === by.id && leads(by.role);
      if (!admins.has(by.telegramId) && !isInviter) return { kind: 'forbidden' };
      const inviter = inviterId === undefined ? undefined : await getUser(db, inviterId);
      const result = await allow(telegramId, by, inviter && leads(inviter.role) ? String(inviter.telegramId) : undefined);
      if (result.kind !== 'allowed') return { kind: 'already-allowed' };
      return { kind: 'allowed', manager: result.manager, request };
    },
    tellRefusal: (telegramId, tell) => tellRefusal(db, telegramId, tell),
    tellJoins: (tell, only) => tellJoins(db, tell, only),
    forget(telegramId) {
      admitted.delete(telegramId);
    },
    forgetAll() {
      admitted.clear();
    },
  };
}
