import type { Sql } from 'postgres';
import { z } from 'zod';
import type { Logger } from '../../logger.js';
import type { Database } from '../client.js';
import { openDedicatedConnection } from '../dedicated-connection.js';
import type { TelegramId, UserId } from '../ids.js';
import { personErasedChannel } from './erasures.js';

/** An erased person as announced on `person_erased` (see deletePersonRows). */
export interface ErasureNotice {
  readonly telegramId: TelegramId;
  readonly userId: UserId;
}

export interface ErasureListenerHandlers {
  /** A person was erased (by this process or another). */
  readonly onErased: (notice: ErasureNotice) => void;
  /**
   * Notices may have been missed (sent while not listening, or unreadable), so whatever is cached
   * about people may be stale. Called at every LISTEN, the first one too.
   */
  readonly onMissedNotices: () => void;
}

const noticeSchema = z.object({
  telegramId: z.number().int().positive(),
  userId: z.number().int().positive(),
});

/**
 * LISTEN on `person_erased` on a connection of its own (a LISTEN belongs to one session; the pool's
 * connections come and go). When the connection drops (a PostgreSQL restart) it listens again,
 * every `retryMs` until PostgreSQL answers; postgres.js' own `listen()` gives up if that first
 * attempt fails, which is why this does not use it.
 */
export class ErasureListener {
  private stopped = false;
  /** Since the connection dropped: one warning per outage, not one per retry. */
  private failing = false;
  private timer: NodeJS.Timeout | undefined;
  private listening: Promise<void> | undefined;

  private constructor(
    private readonly client: Sql,
    private readonly handlers: ErasureListenerHandlers,
    private readonly logger: Logger,
    private readonly retryMs: number,
  ) {}

  /** Starts listening; resolves once the first LISTEN is in place (or failed, and is being retried). */
  static async start(
    pool: Database,
    handlers: ErasureListenerHandlers,
    logger: Logger,
    retryMs = 1_000,
  ): Promise<ErasureListener> {
    const holder: { listener?: ErasureListener } = {};
    const client = openDedicatedConnection(pool, 'erasure listener', {
      onnotify: (channel, payload) => holder.listener?.received(channel, payload),
      onclose: () => holder.listener?.connectionClosed(),
    });
    const listener = new ErasureListener(client, handlers, logger, retryMs);
    holder.listener = listener;
    await listener.listen();
    return listener;
  }

  /** Stops listening and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.listening;
    await this.client.end({ timeout: 1 });
  }

  private listen(): Promise<void> {
    this.listening = (async () => {
      try {
        await this.client.unsafe(`listen "${personErasedChannel}"`);
      } catch (error) {
        if (this.stopped) return;
        if (!this.failing) this.logger.warn({ err: error }, 'cannot listen for erasures; trying again every second');
        this.failing = true;
        this.schedule();
        return;
      }
      if (this.failing) this.logger.info('listening for erasures again; cached people forgotten');
      this.failing = false;
      this.handlers.onMissedNotices();
    })();
    return this.listening;
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.listen(), this.retryMs);
    this.timer.unref();
  }

  private connectionClosed(): void {
    if (this.stopped) return;
    this.logger.debug('the erasure listener lost its connection; listening again');
    this.schedule();
  }

  private received(channel: string, payload: string): void {
    if (channel !== personErasedChannel) return;
    let parsed: z.infer<typeof noticeSchema>;
    try {
      parsed = noticeSchema.parse(JSON.parse(payload));
    } catch (error) {
      this.logger.error({ err: error }, 'an erasure notice could not be read; forgetting every cached person');
      this.handlers.onMissedNotices();
      return;
    }
    this.handlers.onErased({ telegramId: parsed.telegramId as TelegramId, userId: parsed.userId as UserId });
  }
}
