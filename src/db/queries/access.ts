import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { TelegramId, UserId } from '../ids.js';
import { accessGrants, accessRequests, inviteRedemptions, invites, users } from '../schema.js';
import { storableOrNull } from '../text.js';
import type { TelegramProfile } from './users.js';

export type AccessGrant = typeof accessGrants.$inferSelect;
export type AccessRequest = typeof accessRequests.$inferSelect;

/** Someone to tell, in their own language. */
export interface NoticeRecipient {
  readonly telegramId: TelegramId;
  readonly languageCode: string | null;
}

export async function findGrant(db: Database, telegramId: TelegramId): Promise<AccessGrant | undefined> {
  const [grant] = await db.select().from(accessGrants).where(eq(accessGrants.telegramId, telegramId)).limit(1);
  return grant;
}

/**
 * Puts a person on the PostgreSQL allowlist (a revoked entry is restored) and drops their refused
 * request: they are no longer waiting. Returns false when they were on it already.
 */
export async function grantAccess(
  db: Database,
  input: { readonly telegramId: TelegramId; readonly grantedBy: UserId; readonly source: 'admin' | 'invite' },
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(accessGrants).where(eq(accessGrants.telegramId, input.telegramId)).for('update');
    await tx.delete(accessRequests).where(eq(accessRequests.telegramId, input.telegramId));
    if (before && before.revokedAt === null) return false;
    await tx
      .insert(accessGrants)
      .values({ telegramId: input.telegramId, source: input.source, grantedBy: input.grantedBy })
      .onConflictDoUpdate({
        target: accessGrants.telegramId,
        set: { source: input.source, grantedBy: input.grantedBy, grantedAt: sql`now()`, revokedAt: null, revokedBy: null },
      });
    return true;
  });
}

/**
 * Shuts a person out: the entry stays, revoked, so that ALLOWED_USER_IDS or an old invite does not
 * let them back in. Returns false when they were revoked already.
 */
export async function revokeAccess(db: Database, telegramId: TelegramId, revokedBy: UserId): Promise<boolean> {
  const [row] = await db
    .insert(accessGrants)
    .values({ telegramId, source: 'admin', grantedBy: null, revokedAt: sql`now()`, revokedBy })
    .onConflictDoUpdate({
      target: accessGrants.telegramId,
      set: { revokedAt: sql`now()`, revokedBy },
      where: isNull(accessGrants.revokedAt),
    })
    .returning({ telegramId: accessGrants.telegramId });
  return row !== undefined;
}

/** A refused person, with when admins (or the inviter) may be told of them next. */
export async function recordRefusal(db: Database, profile: TelegramProfile, inviteCode: string | undefined): Promise<void> {
  const values = {
    telegramId: profile.telegramId,
    username: storableOrNull(profile.username),
    firstName: storableOrNull(profile.firstName),
    lastName: storableOrNull(profile.lastName),
    languageCode: storableOrNull(profile.languageCode),
  };
  // The invite's code is kept only when it exists (the column is a foreign key to invites); a later
  // message without a code keeps the one they followed, so that its inviter is still told.
  await db
    .insert(accessRequests)
    .values({ ...values, inviteCode: inviteCode ? sql`(select code from ${invites} where code = ${inviteCode})` : null })
    .onConflictDoUpdate({
      target: accessRequests.telegramId,
      set: {
        username: sql`excluded.username`,
        firstName: sql`excluded.first_name`,
        lastName: sql`excluded.last_name`,
        languageCode: sql`excluded.language_code`,
        inviteCode: inviteCode ? sql`excluded.invite_code` : sql`${accessRequests.inviteCode}`,
        lastRefusedAt: sql`now()`,
      },
    });
}

/** What admins and the inviter are told of a refused person. */
export interface RefusalNotice {
  readonly person: Pick<AccessRequest, 'telegramId' | 'username' | 'firstName' | 'lastName'>;
  readonly recipients: readonly NoticeRecipient[];
}

/** How often admins hear of the same refused person. */
const refusalNoticeEveryMs = 24 * 60 * 60_000;

/**
 * Tells of a refused person at most once a day, never twice across two processes or a restart: the
 * request is locked while `tell` sends and marked told in the same transaction; a `tell` that throws
 * leaves it untold for the next refusal.
 */
export async function tellRefusal(
  db: Database,
  telegramId: TelegramId,
  tell: (notice: RefusalNotice) => Promise<void>,
  now = new Date(),
): Promise<boolean> {
  const since = new Date(now.getTime() - refusalNoticeEveryMs);
  return db.transaction(async (tx) => {
    const [request] = await tx
      .select()
      .from(accessRequests)
      .where(
        and(
          eq(accessRequests.telegramId, telegramId),
          or(isNull(accessRequests.notifiedAt), sql`${accessRequests.notifiedAt} <= ${since.toISOString()}::timestamptz`),
        ),
      )
      .for('update', { skipLocked: true });
    if (!request) return false;
    const inviter = request.inviteCode
      ? await tx.select({ id: invites.createdBy }).from(invites).where(eq(invites.code, request.inviteCode))
      : [];
    const inviterId = inviter[0]?.id ?? null;
    const recipients = await tx
      .select({ telegramId: users.telegramId, languageCode: users.languageCode })
      .from(users)
      .where(inviterId === null ? eq(users.role, 'admin') : or(eq(users.role, 'admin'), eq(users.id, inviterId)));
    await tell({ person: request, recipients });
    await tx.update(accessRequests).set({ notifiedAt: now }).where(eq(accessRequests.telegramId, telegramId));
    return true;
  });
}

/** Whoever a button under a refusal notice may admit: the request, if they are still waiting. */
export async function findAccessRequest(db: Database, telegramId: TelegramId): Promise<AccessRequest | undefined> {
  const [request] = await db.select().from(accessRequests).where(eq(accessRequests.telegramId, telegramId)).limit(1);
  return request;
}

/** The creator of the invite a refused person followed (they may admit them too). */
export async function inviterOfRequest(db: Database, telegramId: TelegramId): Promise<UserId | undefined> {
  const [row] = await db
    .select({ createdBy: invites.createdBy })
    .from(accessRequests)
    .innerJoin(invites, eq(invites.code, accessRequests.inviteCode))
    .where(eq(accessRequests.telegramId, telegramId));
  return row?.createdBy ?? undefined;
}

/** A person who joined by an invite, for the invite's creator. */
export interface JoinNotice {
  readonly person: {
    readonly telegramId: TelegramId;
    readonly username: string | null;
    readonly firstName: string | null;
    readonly lastName: string | null;
  };
  readonly inviter: NoticeRecipient;
}

/**
 * Tells each inviter of the people who joined by their invite and were not announced yet (all, or one
 * person's), once: the redemption is locked while `tell` sends and marked in the same transaction,
 * so two processes never both send; a crash before the mark leaves it for the next start.
 * Redemptions whose inviter was erased are marked without a message.
 */
export async function tellJoins(db: Database, tell: (notice: JoinNotice) => Promise<void>, only?: UserId): Promise<number> {
  let told = 0;
  for (;;) {
    const done = await db.transaction(async (tx) => {
      const [row] = await tx
        .select({
          code: inviteRedemptions.code,
          userId: inviteRedemptions.userId,
          createdBy: invites.createdBy,
        })
        .from(inviteRedemptions)
        .innerJoin(invites, eq(invites.code, inviteRedemptions.code))
        .where(
          and(isNull(inviteRedemptions.inviterNotifiedAt), only === undefined ? undefined : eq(inviteRedemptions.userId, only)),
        )
        .orderBy(inviteRedemptions.createdAt)
        .limit(1)
        .for('update', { of: inviteRedemptions, skipLocked: true });
      if (!row) return false;
      const people = await tx
        .select({
          id: users.id,
          telegramId: users.telegramId,
          username: users.username,
          firstName: users.firstName,
          lastName: users.lastName,
          languageCode: users.languageCode,
        })
        .from(users)
        .where(inArray(users.id, row.createdBy === null ? [row.userId] : [row.userId, row.createdBy]));
      const person = people.find((p) => p.id === row.userId);
      const inviter = people.find((p) => p.id === row.createdBy);
      if (person && inviter && inviter.id !== person.id) {
        const { telegramId, username, firstName, lastName } = person;
        await tell({
          person: { telegramId, username, firstName, lastName },
          inviter: { telegramId: inviter.telegramId, languageCode: inviter.languageCode },
        });
        told++;
      }
      await tx
        .update(inviteRedemptions)
        .set({ inviterNotifiedAt: new Date() })
        .where(and(eq(inviteRedemptions.code, row.code), eq(inviteRedemptions.userId, row.userId)));
      return true;
    });
    if (!done) return told;
  }
}
