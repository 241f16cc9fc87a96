import type { UserId } from '../../db/ids.js';
import type { LimitKind, Metrics } from '../../metrics.js';
import type { BudgetHolder, BudgetVerdict } from '../../services/usage.js';

/** Allowed now, or not before `retryAfterMs` from now. */
export type RateVerdict = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

/**
 * A token bucket per key: `capacity` requests at once, refilled at `perMs` a token. Kept in memory,
 * so the limit holds per process; a key whose bucket is full again is forgotten.
 */
export class TokenBucket<K> {
  private readonly buckets = new Map<K, { tokens: number; at: number }>();

  constructor(
    private readonly capacity: number,
    private readonly msPerToken: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `key`, if there is one. */
  take(key: K): RateVerdict {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    const tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.at) / this.msPerToken);
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      // Rounded to microseconds first: 1 − 0.666… tokens is not exactly two thirds.
      return { ok: false, retryAfterMs: Math.ceil(Math.round((1 - tokens) * this.msPerToken * 1000) / 1000) };
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    if (this.buckets.size > 10_000) this.forgetFull(now);
    return { ok: true };
  }

  private forgetFull(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) / this.msPerToken >= this.capacity) this.buckets.delete(key);
    }
  }
}

export interface TurnLimitsConfig {
  readonly turnsPerMinute: number;
  readonly turnBurst: number;
  readonly finishesPerHour: number;
}

/** What the budget check needs of the usage ledger. */
export interface BudgetSource {
  budgetFor(person: BudgetHolder): Promise<BudgetVerdict>;
}

/**
 * Per-user limits: the rate of role-play turns and of /finish (token buckets, per process) and the
 * daily token budgets (the usage ledger). Every refusal is counted in `bot_limited_total`.
 */
export class TurnLimits {
  private readonly turns: TokenBucket<UserId>;
  private readonly finishes: TokenBucket<UserId>;
  /** People told they are over the turn rate, until a text of theirs is let through again. */
  private readonly told = new Set<UserId>();

  constructor(
    config: TurnLimitsConfig,
    private readonly budgets: BudgetSource,
    private readonly metrics?: Pick<Metrics, 'countLimited'>,
    now: () => number = Date.now,
  ) {
    this.turns = new TokenBucket(config.turnBurst, 60_000 / config.turnsPerMinute, now);
    this.finishes = new TokenBucket(config.finishesPerHour, 3_600_000 / config.finishesPerHour, now);
  }

  /** One role-play text. `quiet`: the person was already told, in this streak, that texts are not passed on. */
  takeTurn(userId: UserId): RateVerdict & { readonly quiet?: boolean } {
    const verdict = this.turns.take(userId);
    if (verdict.ok) {
      this.told.delete(userId);
      return verdict;
    }
    this.counted('turn-rate');
    if (this.told.has(userId)) return { ...verdict, quiet: true };
    this.told.add(userId);
    return verdict;
  }

  /** One /finish. */
  takeFinish(userId: UserId): RateVerdict {
    const verdict = this.finishes.take(userId);
    if (!verdict.ok) this.counted('finish-rate');
    return verdict;
  }

  /** The day's token budgets of the person and their team. */
  async budget(person: BudgetHolder): Promise<BudgetVerdict> {
    const verdict = await this.budgets.budgetFor(person);
    if (verdict.kind === 'user-spent') this.counted('user-budget');
    if (verdict.kind === 'team-spent') this.counted('team-budget');
    return verdict;
  }

  private counted(limit: LimitKind): void {
    this.metrics?.countLimited(limit);
  }
}
