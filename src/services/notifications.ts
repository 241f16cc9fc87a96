import type { Database } from '../db/client.js';
import {
  claimDueNotifications,
  giveUpNotification,
  markNotificationSent,
  postponeNotification,
  type Notification,
} from '../db/queries/notifications.js';
import type { Logger } from '../logger.js';

/** Quiet hours in the team's time zone: `start` to `end` o'clock (21-9 wraps midnight; equal: none). */
export interface QuietHours {
  readonly start: number;
  readonly end: number;
}

interface LocalTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  /** 1 Monday … 7 Sunday. */
  readonly weekday: number;
}

const weekdays: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The wall clock in `timeZone` at `date`. */
export function localTime(date: Date, timeZone: string): LocalTime {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: weekdays[parts.weekday ?? 'Mon'] ?? 1,
  };
}

/** The instant when the wall clock in `timeZone` shows that date and time (a day may overflow: 32 → next month). */
export function zonedInstant(timeZone: string, year: number, month: number, day: number, hour: number, minute = 0): Date {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  const offsetAt = (instant: number) => {
    const local = localTime(new Date(instant), timeZone);
    return Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute) - instant;
  };
  const first = asUtc - offsetAt(asUtc);
  const second = asUtc - offsetAt(first);
  return new Date(second);
}

function isQuiet(hour: number, quiet: QuietHours): boolean {
  if (quiet.start === quiet.end) return false;
  return quiet.start > quiet.end ? hour >= quiet.start || hour < quiet.end : hour >= quiet.start && hour < quiet.end;
}

/** `date`, or the end of the quiet hours it falls in (the morning): nobody is woken by the bot. */
export function outsideQuietHours(date: Date, quiet: QuietHours, timeZone: string): Date {
  const local = localTime(date, timeZone);
  if (!isQuiet(local.hour, quiet)) return date;
  // Before midnight the morning is tomorrow's; after it, today's.
  const tomorrow = quiet.start > quiet.end && local.hour >= quiet.start;
  return zonedInstant(timeZone, local.year, local.month, local.day + (tomorrow ? 1 : 0), quiet.end);
}

/** Telegram will not deliver to this person (they blocked the bot, 403): the notice is not retried. */
export class RecipientUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecipientUnreachableError';
  }
}

/** What the bot did with a due notice: sent it, or found it no longer needed (the assignment was passed). */
export type DeliveryOutcome = 'sent' | 'obsolete';

export interface NotificationWorkerOptions {
  readonly db: Database;
  readonly logger: Logger;
  readonly quietHours: QuietHours;
  readonly timeZone: string;
  /** Sends a notice; throws RecipientUnreachableError for a 403, anything else is retried. */
  readonly deliver: (notification: Notification) => Promise<DeliveryOutcome>;
  /** Work before each round: scheduling the digests, renewing expired certifications. */
  readonly beforeRound?: (now: Date) => Promise<void>;
  readonly now?: () => Date;
  readonly pollMs?: number;
  readonly leaseMs?: number;
  readonly maxAttempts?: number;
}

/**
 * Sends the durable notices of PostgreSQL as they fall due. Several workers (processes) may run:
 * each claims its rows with a lease, so a notice is sent once; a send that fails is tried again
 * with a growing pause, a 403 is not.
 */
export class NotificationWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private again = false;
  private readonly now: () => Date;

  constructor(private readonly options: NotificationWorkerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Something was scheduled: look now rather than at the next poll. */
  notify(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  /** Stops polling and waits for the round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round: everything due now is sent (or postponed); returns how many were sent. */
  async runOnce(): Promise<number> {
    const now = this.now();
    await this.options.beforeRound?.(now);
    let sent = 0;
    for (;;) {
      const claimed = await claimDueNotifications(this.options.db, this.now(), 20, this.options.leaseMs ?? 120_000);
      if (claimed.length === 0) return sent;
      for (const notification of claimed) if (await this.handle(notification)) sent += 1;
    }
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        const rerun = this.again;
        this.again = false;
        this.schedule(rerun ? 0 : (this.options.pollMs ?? 30_000));
      });
    }, delayMs);
  }

  private async round(): Promise<void> {
    try {
      await this.runOnce();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'notifications: a round failed, trying again at the next poll');
    }
  }

  private async handle(notification: Notification): Promise<boolean> {
    const { db, logger, quietHours, timeZone } = this.options;
    const now = this.now();
    const allowed = outsideQuietHours(now, quietHours, timeZone);
    if (allowed.getTime() > now.getTime()) {
      await postponeNotification(db, notification.id, allowed, null);
      return false;
    }
    try {
      const outcome = await this.options.deliver(notification);
      await markNotificationSent(db, notification.id, this.now());
      return outcome === 'sent';
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof RecipientUnreachableError || notification.attempts >= (this.options.maxAttempts ?? 10)) {
        logger.warn({ err: error, notificationId: notification.id }, 'notifications: given up');
        await giveUpNotification(db, notification.id, this.now(), message);
        return false;
      }
      const pauseMs = Math.min(60 * 60_000, 30_000 * 2 ** (notification.attempts - 1));
      logger.warn({ err: error, notificationId: notification.id, pauseMs }, 'notifications: send failed, will retry');
      await postponeNotification(db, notification.id, new Date(this.now().getTime() + pauseMs), message);
      return false;
    }
  }
}
