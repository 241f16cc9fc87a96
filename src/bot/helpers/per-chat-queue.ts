import type { Context } from 'grammy';

/** Which chat an update belongs to (the chat, else the sender): a chat's updates run one after another. */
export function chatKey(ctx: Pick<Context, 'chat' | 'from'>): string | undefined {
  return ctx.chat?.id.toString() ?? ctx.from?.id.toString();
}

interface ChatLine<T> {
  /** The chat's work in arrival order; the first one is running when `running` is set. */
  readonly items: T[];
  running: boolean;
  /** While above zero the chat's work waits (its start-up recovery runs). */
  holds: number;
  /** Listed in `ready`. */
  waiting: boolean;
}

export interface PerChatQueueOptions<T> {
  /** Does one item's work; a rejection goes to `onError` and the chat goes on with its next item. */
  readonly run: (item: T) => Promise<void>;
  readonly onError: (error: unknown, item: T) => void;
  /** How many chats have work running at once. */
  readonly chatsAtOnce: number;
}

/**
 * Work queued per chat: within a chat one item at a time, in order; across chats side by side, at
 * most `chatsAtOnce` of them, taking turns. A chat with a backlog goes to the back of the line after
 * each item, so one chat's 650 texts delay nobody else's next turn by more than one item of theirs.
 *
 * This replaces the runner's window of updates in flight as the place where updates wait: there,
 * the backlog of one chat filled the window and the next chat's update was not even fetched.
 */
export class PerChatQueue<T> {
  private readonly chats = new Map<string, ChatLine<T>>();
  /** Chats that have work, nothing running and no hold, oldest first: they wait for a slot. */
  private readonly ready: string[] = [];
  private running = 0;
  private queued = 0;
  private readonly roomWaiters: Array<{ readonly limit: number; readonly resolve: (room: number) => void }> = [];
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly options: PerChatQueueOptions<T>) {}

  /** Adds work at the end of the chat's line. */
  push(key: string, item: T): void {
    const line = this.line(key);
    line.items.push(item);
    this.queued++;
    this.makeReady(key, line);
    this.pump();
  }

  /**
   * Keeps the chat's work (what is queued now and what comes later) waiting until the returned
   * function is called; work already running is not stopped. Releasing twice releases once.
   */
  hold(key: string): () => void {
    const line = this.line(key);
    line.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      line.holds--;
      this.makeReady(key, line);
      this.forgetIfDone(key, line);
      this.pump();
    };
  }

  /** Items queued or running, all chats together. */
  size(): number {
    return this.queued;
  }

  /** Every item queued or running, chat by chat in their order. */
  items(): T[] {
    return [...this.chats.values()].flatMap((line) => line.items);
  }

  /** Resolves, with `limit − size()`, once fewer than `limit` items are queued. */
  roomBelow(limit: number): Promise<number> {
    if (this.queued < limit) return Promise.resolve(limit - this.queued);
    return new Promise((resolve) => this.roomWaiters.push({ limit, resolve }));
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private line(key: string): ChatLine<T> {
    let line = this.chats.get(key);
    if (!line) {
      line = { items: [], running: false, holds: 0, waiting: false };
      this.chats.set(key, line);
    }
    return line;
  }

  private makeReady(key: string, line: ChatLine<T>): void {
    if (line.waiting || line.running || line.holds > 0 || line.items.length === 0) return;
    line.waiting = true;
    this.ready.push(key);
  }

  private pump(): void {
    while (this.running < this.options.chatsAtOnce && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const line = this.chats.get(key)!;
      line.waiting = false;
      // A hold taken while the chat waited for its slot keeps it waiting; the release lists it again.
      if (line.holds === 0) this.start(key, line);
    }
  }

  private start(key: string, line: ChatLine<T>): void {
    const item = line.items[0]!;
    line.running = true;
    this.running++;
    const done = () => this.finish(key, line);
    // The queue supervises its work: every outcome ends in `done`, a failure in onError first.
    void this.options.run(item).then(done, (error: unknown) => {
      try {
        this.options.onError(error, item);
      } finally {
        done();
      }
    });
  }

  private finish(key: string, line: ChatLine<T>): void {
    line.items.shift();
    line.running = false;
    this.running--;
    this.queued--;
    this.makeReady(key, line);
    this.forgetIfDone(key, line);
    this.pump();
    this.notify();
  }

  private forgetIfDone(key: string, line: ChatLine<T>): void {
    if (line.items.length === 0 && !line.running && line.holds === 0) this.chats.delete(key);
  }

  private notify(): void {
    for (let i = this.roomWaiters.length - 1; i >= 0; i--) {
      const waiter = this.roomWaiters[i]!;
      if (this.queued < waiter.limit) {
        this.roomWaiters.splice(i, 1);
        waiter.resolve(waiter.limit - this.queued);
      }
    }
    if (this.queued === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
