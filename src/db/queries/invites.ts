import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { UserId } from '../ids.js';
import { storableOrNull } from '../text.js';
import { inviteRedemptions, invites } from '../schema.js';
import type { TelegramProfile, UserRole } from './users.js';

export type Invite = typeof invites.$inferSelect;

/** Creates an invite code that admits up to `maxUses` people until `expiresAt`. */
export async function createInvite(
  db: Database,
  input: { readonly createdBy: UserId; readonly role: UserRole; readonly maxUses: number; readonly expiresAt: Date },
): Promise<Invite> {
  const code = randomBytes(9).toString('base64url');
  const [invite] = await db
    .insert(invites)
    .values({ code, ...input })
    .returning();
  return invite!;
}

export type RedeemResult =
  /** `joined`: this call spent the use (false: they had redeemed this code before). */
  | { readonly ok: true; readonly role: UserRole; readonly joined: boolean }
  | { readonly ok: false; readonly reason: 'unknown' | 'expired' | 'used-up' };

/**
 * Spends one use of an invite for a person, registers them, gives them the invite's role, puts them
 * on the PostgreSQL allowlist and in the inviter's team (a manager's or an admin's invite),
 * atomically: two people racing for the last use cannot both get in, and a person whose code is
 * wrong, expired or used up is not written anywhere. A person redeeming the same code again does
 * not spend another use.
 */
export async function redeemInvite(
  db: Database,
  code: string,
  profile: TelegramProfile,
  now = new Date(),
): Promise<RedeemResult> {
  // One statement, not a transaction: see storeEvaluationAndFinish. The row lock the update takes
  // makes a second person racing for the last use re-check `uses < max_uses` and lose.
  const at = sql`${now.toISOString()}::timestamptz`;
  const [row] = await db.execute<{ already: UserRole | null; spent: UserRole | null; expired: boolean | null }>(sql`
    with existing as (
      select id from users where telegram_id = ${profile.telegramId}
    ), already as (
      select i.role from invite_redemptions r join invites i on i.code = r.code join existing e on e.id = r.user_id
      where r.code = ${code}
    ), spent as (
      update invites set uses = uses + 1
      where code = ${code} and expires_at > ${at} and uses < max_uses and not exists (select 1 from already)
      returning role, created_by
    ), inviter as (
      -- Whoever joins by a manager's (or an admin's) invite is in that person's team.
      select m.id from spent join users m on m.id = spent.created_by where m.role in ('manager', 'admin')
    ), created as (
      insert into users (telegram_id, username, first_name, last_name, language_code, role, manager_id)
      select ${profile.telegramId}, ${storableOrNull(profile.username)}, ${storableOrNull(profile.firstName)},
        ${storableOrNull(profile.lastName)}, ${storableOrNull(profile.languageCode)}, spent.role,
        (select id from inviter)
      from spent where not exists (select 1 from existing)
      returning id
    ), person as (
      select id from existing union all select id from created
    ), redeemed as (
      insert into invite_redemptions (code, user_id) select ${code}, person.id from spent, person
    ), granted as (
      -- Redeeming is an allowlist entry, in every access mode (a revoked person never gets this far).
      insert into access_grants (telegram_id, source, granted_by, invite_code)
      select ${profile.telegramId}, 'invite', spent.created_by, ${code} from spent
      on conflict (telegram_id) do update set revoked_at = null, revoked_by = null
    ), promoted as (
      update users set
        role = case when users.role = 'trainee' and spent.role <> 'trainee' then spent.role else users.role end,
        manager_id = coalesce((select id from inviter where id <> users.id), users.manager_id)
      from spent, existing
      where users.id = existing.id
    )
    select (select role from already) as already, (select role from spent) as spent,
      (select expires_at <= ${at} from invites where code = ${code}) as expired`);
  const role = row?.already ?? row?.spent;
  if (role) return { ok: true, role, joined: !row?.already };
  if (row?.expired == null) return { ok: false, reason: 'unknown' };
  return { ok: false, reason: row.expired ? 'expired' : 'used-up' };
}

/** Whether this user was ever admitted by an invite. */
export async function wasAdmittedByInvite(db: Database, userId: UserId): Promise<boolean> {
  const [row] = await db
    .select({ code: inviteRedemptions.code })
    .from(inviteRedemptions)
    .where(eq(inviteRedemptions.userId, userId))
    .limit(1);
  return row !== undefined;
}
