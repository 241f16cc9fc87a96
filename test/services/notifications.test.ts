import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifications } from '../../src/db/assignments-schema.js';
import { asTelegramId, type UserId } from '../../src/db/ids.js';
import { claimDueNotifications, scheduleNotifications, type Notification } from '../../src/db/queries/notifications.js';
import { getOrCreateUser } from '../../src/db/queries/users.js';
import {
  NotificationWorker,
  outsideQuietHours,
  RecipientUnreachableError,
  type DeliveryOutcome,
} from '../../src/services/notifications.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let recipient: UserId;
beforeAll(async () => {
  database = await createTestDatabase();
  recipient = (await getOrCreateUser(database.db, { telegramId: asTelegramId(7_200_000_001), firstName: 'Иван' })).id;
});
afterAll(async () => {
  await database.drop();
});

const quiet = { start: 21, end: 9 };
const zone = 'Europe/Moscow';
// 12:00 in Moscow.
const noon = new Date('2026-12-02T09:00:00Z');

function worker(deliver: (n: Notification) => Promise<DeliveryOutcome>, now: () => Date = () => noon) {
  return new NotificationWorker({ db: database.db, logger: silentLogger, quietHours: quiet, timeZone: zone, deliver, now });
}

let nextKey = 0;
async function scheduleMany(count: number, dueAt = new Date(noon.getTime() - 60_000)): Promise<string[]> {
  const keys = Array.from({ length: count }, () => `test:${nextKey++}`);
  await scheduleNotifications(
    database.db,
    keys.map((dedupeKey) => ({ kind: 'assigned' as const, recipientId: recipient, dedupeKey, dueAt })),
  );
  return keys;
}

async function row(dedupeKey: string): Promise<Notification> {
  const [found] = await database.db.select().from(notifications).where(eq(notifications.dedupeKey, dedupeKey));
  return found!;
}

describe('quiet hours', () => {
  it('moves a notice in the evening to the next morning, one after midnight to the same morning', () => {
    expect(outsideQuietHours(new Date('2026-12-02T19:30:00Z'), quiet, zone).toISOString()).toBe('2026-12-03T06:00:00.000Z');
    expect(outsideQuietHours(new Date('2026-12-02T23:00:00Z'), quiet, zone).toISOString()).toBe('2026-12-03T06:00:00.000Z');
    expect(outsideQuietHours(noon, quiet, zone)).toBe(noon);
    expect(outsideQuietHours(new Date('2026-12-02T19:30:00Z'), { start: 0, end: 0 }, zone).toISOString()).toBe(
      '2026-12-02T19:30:00.000Z',
    );
  });

  it('a notice that falls due in quiet hours waits for the morning', async () => {
    const [key] = await scheduleMany(1, new Date('2026-12-02T18:00:00Z'));
    const sent: string[] = [];
    const night = new Date('2026-12-02T19:00:00Z');
    expect(
      await worker(
        async (n) => (sent.push(n.dedupeKey), 'sent'),
        () => night,
      ).runOnce(),
    ).toBe(0);
    expect(sent).toEqual([]);
    expect((await row(key!)).dueAt.toISOString()).toBe('2026-12-03T06:00:00.000Z');
  });
});

describe('sending', () => {
  it('the same notice is scheduled once, however often it is asked for', async () => {
    const [key] = await scheduleMany(1);
    const again = await scheduleNotifications(database.db, [
      { kind: 'assigned', recipientId: recipient, dedupeKey: key!, dueAt: noon },
    ]);
    expect(again).toBe(0);
  });

  it('two workers racing send each notice once', async () => {
    const keys = await scheduleMany(40);
    const sent: string[] = [];
    const deliver = async (n: Notification): Promise<DeliveryOutcome> => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      sent.push(n.dedupeKey);
      return 'sent';
    };
    const [a, b] = await Promise.all([worker(deliver).runOnce(), worker(deliver).runOnce()]);
    const ours = sent.filter((key) => keys.includes(key));
    expect(ours.sort()).toEqual([...keys].sort());
    expect(new Set(ours).size).toBe(keys.length);
    expect(a + b).toBeGreaterThanOrEqual(keys.length);
  });

  it('a worker that died mid-send leaves its notice to the next start, after its lease, and it is sent once', async () => {
    const [key] = await scheduleMany(1);
    // The first process claims it and dies before sending.
    const claimed = await claimDueNotifications(database.db, noon, 100, 120_000);
    expect(claimed.map((n) => n.dedupeKey)).toContain(key);
    const sent: string[] = [];
    const deliver = async (n: Notification): Promise<DeliveryOutcome> => (sent.push(n.dedupeKey), 'sent');
    // Restarted at once: the lease still holds.
    await worker(deliver).runOnce();
    expect(sent).not.toContain(key);
    // After the lease: sent, then never again.
    const later = new Date(noon.getTime() + 121_000);
    await worker(deliver, () => later).runOnce();
    await worker(deliver, () => later).runOnce();
    expect(sent.filter((k) => k === key)).toEqual([key]);
    expect((await row(key!)).sentAt).not.toBeNull();
  });

  it('a failed send is tried again after a pause; a person who blocked the bot is not retried', async () => {
    const [flaky, blocked] = await scheduleMany(2);
    let failures = 0;
    const deliver = async (n: Notification): Promise<DeliveryOutcome> => {
      if (n.dedupeKey === blocked) throw new RecipientUnreachableError('Forbidden: bot was blocked by the user');
      if (n.dedupeKey === flaky && failures++ === 0) throw new Error('Telegram is down');
      return 'sent';
    };
    await worker(deliver).runOnce();
    const afterFirst = await row(flaky!);
    expect(afterFirst.sentAt).toBeNull();
    expect(afterFirst.dueAt.getTime()).toBe(noon.getTime() + 30_000);
    expect((await row(blocked!)).failedAt).not.toBeNull();
    await worker(deliver, () => new Date(noon.getTime() + 31_000)).runOnce();
    expect((await row(flaky!)).sentAt).not.toBeNull();
    expect((await row(blocked!)).sentAt).toBeNull();
  });

  it('starts, sends what is due, and stops cleanly', async () => {
    const [key] = await scheduleMany(1);
    const sent: string[] = [];
    const running = new NotificationWorker({
      db: database.db,
      logger: silentLogger,
      quietHours: { start: 0, end: 0 },
      timeZone: zone,
      deliver: async (n) => (sent.push(n.dedupeKey), 'sent'),
      pollMs: 20,
    });
    running.start();
    await expect.poll(() => sent.includes(key!), { timeout: 5_000 }).toBe(true);
    await running.stop();
  });
});
