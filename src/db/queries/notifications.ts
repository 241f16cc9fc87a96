import { and, eq, sql } from 'drizzle-orm';
import { notifications } from '../assignments-schema.js';
import type { Database } from '../client.js';

export type Notification = typeof notifications.$inferSelect;
export type NewNotification = Pick<
  typeof notifications.$inferInsert,
  'kind' | 'recipientId' | 'assignmentId' | 'programKey' | 'cycle' | 'dedupeKey' | 'dueAt'
>;

/** Schedules notices; one whose dedupe key is already scheduled (or sent) is left as it is. */
export async function scheduleNotifications(db: Database, rows: readonly NewNotification[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db
    .insert(notifications)
    .values([...rows])
    .onConflictDoNothing()
    .returning({ id: notifications.id });
  return inserted.length;
}

/**
 * Claims up to `limit` due notices for `leaseMs`: rows another worker holds are skipped (SKIP LOCKED)
 * and a claimed row is not due for anyone else until its lease runs out (a worker that died mid-send).
 */
export async function claimDueNotifications(db: Database, now: Date, limit: number, leaseMs: number): Promise<Notification[]> {
  const leaseUntil = new Date(now.getTime() + leaseMs);
  const rows = await db.execute<{ id: number }>(sql`
    update ${notifications} set leased_until = ${leaseUntil.toISOString()}::timestamptz, attempts = attempts + 1
    where id in (
      select id from ${notifications}
      where sent_at is null and failed_at is null and due_at <= ${now.toISOString()}::timestamptz
        and (leased_until is null or leased_until <= ${now.toISOString()}::timestamptz)
      order by due_at, id
      limit ${limit}
      for update skip locked)
    returning id`);
  const ids = [...rows].map((row) => Number(row.id));
  if (ids.length === 0) return [];
  return db
    .select()
    .from(notifications)
    .where(sql`${notifications.id} in ${ids}`)
    .orderBy(notifications.dueAt, notifications.id);
}

/** Sent (or no longer needed): never sent again. Only the lease holder's claim is closed. */
export async function markNotificationSent(db: Database, id: number, now: Date): Promise<void> {
  await db.update(notifications).set({ sentAt: now, leasedUntil: null }).where(eq(notifications.id, id));
}

/** Tried again at `dueAt`: after a failed send (`error`), or out of quiet hours (no error: the claim is not counted as an attempt). */
export async function postponeNotification(db: Database, id: number, dueAt: Date, error: string | null): Promise<void> {
  await db
    .update(notifications)
    .set({
      dueAt,
      leasedUntil: null,
      lastError: error,
      ...(error === null ? { attempts: sql`${notifications.attempts} - 1` } : {}),
    })
    .where(eq(notifications.id, id));
}

/** Given up: the person blocked the bot, or it failed too many times. */
export async function giveUpNotification(db: Database, id: number, now: Date, error: string): Promise<void> {
  await db
    .update(notifications)
    .set({ failedAt: now, leasedUntil: null, lastError: error })
    .where(and(eq(notifications.id, id)));
}
