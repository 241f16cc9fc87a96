import { randomBytes } from 'node:crypto';
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { UserId } from '../ids.js';
import { inviteRedemptions, invites } from '../schema.js';
import type { UserRole } from './users.js';

export type Invite = typeof invites.$inferSelect;

/** Creates an invite code that admits up to `maxUses` people until `expiresAt`. */
export async function createInvite(
  db: Database,
  input: { readonly createdBy: UserId; readonly role: UserRole; readonly maxUses: number; readonly expiresAt: Date },
): Promise<Invite> {
  const code = randomBytes(9).toString('base64url');
  const [invite] = await db.insert(invites).values({ code, ...input }).returning();
  return invite!;
}

export type RedeemResult =
  | { readonly ok: true; readonly role: UserRole }
  | { readonly ok: false; readonly reason: 'unknown' | 'expired' | 'used-up' };

/**
 * Spends one use of an invite for a person, atomically: two people racing for the last use
 * cannot both get in. A person redeeming the same code again does not spend another use.
 */
export async function redeemInvite(db: Database, code: string, userId: UserId, now = new Date()): Promise<RedeemResult> {
  return db.transaction(async (tx) => {
    const [already] = await tx
      .select({ role: invites.role })
      .from(inviteRedemptions)
      .innerJoin(invites, eq(invites.code, inviteRedemptions.code))
      .where(and(eq(inviteRedemptions.code, code), eq(inviteRedemptions.userId, userId)));
    if (already) return { ok: true, role: already.role };

    const [spent] = await tx
      .update(invites)
      .set({ uses: sql`${invites.uses} + 1` })
      .where(and(eq(invites.code, code), gt(invites.expiresAt, now), lt(invites.uses, invites.maxUses)))
      .returning({ role: invites.role });
    if (spent) {
      await tx.insert(inviteRedemptions).values({ code, userId });
      return { ok: true, role: spent.role };
    }
    const [invite] = await tx.select().from(invites).where(eq(invites.code, code));
    if (!invite) return { ok: false, reason: 'unknown' };
    return { ok: false, reason: invite.expiresAt <= now ? 'expired' : 'used-up' };
  });
}

/** Whether this user was ever admitted by an invite. */
export async function wasAdmittedByInvite(db: Database, userId: UserId): Promise<boolean> {
  const [row] = await db.select({ code: inviteRedemptions.code }).from(inviteRedemptions).where(eq(inviteRedemptions.userId, userId)).limit(1);
  return row !== undefined;
}
