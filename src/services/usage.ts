import { AsyncLocalStorage } from 'node:async_hooks';
import type { Database } from '../db/client.js';
import type { UserId } from '../db/ids.js';
import { insertModelUsage, teamTokensSince, userTokensSince, type NewModelUsage } from '../db/queries/usage.js';
import type { User } from '../db/queries/users.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { ChatModel, ChatReply, ModelUsagePurpose, UsageTag } from './llm.js';
import { startOfDayInZone } from './sheets/sheet-layout.js';
import type { SpeechToText } from './speech-to-text.js';
import type { TextToSpeech } from './text-to-speech.js';

/** Daily token budgets (0: unlimited) and the prices the cost estimate uses (USD per 1000 tokens). */
export interface UsageLimits {
  readonly userDailyTokens: number;
  readonly teamDailyTokens: number;
  readonly pricePer1kInput: number;
  readonly pricePer1kOutput: number;
}

/** Whether a person may ask the model now; `resetsAt`: the next midnight in the team's zone. */
export type BudgetVerdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'user-spent'; readonly resetsAt: Date }
  | { readonly kind: 'team-spent'; readonly resetsAt: Date };

/** The person a budget is checked for: the team is the manager's (`managerId`), or their own when they are a manager. */
export type BudgetHolder = Pick<User, 'id' | 'managerId' | 'role'>;

export interface UsageLedgerDeps {
  readonly db: Database;
  readonly limits: UsageLimits;
  /** The day of the budgets is a calendar day here (TEAM_TIME_ZONE). */
  readonly timeZone: string;
  readonly logger: Logger;
  readonly metrics?: Pick<Metrics, 'countModelUsage'>;
  /** How long a recorded call waits to be written with the others (one INSERT for all). */
  readonly flushDelayMs?: number;
  readonly now?: () => Date;
}

const usageScope = new AsyncLocalStorage<UsageTag>();

/** Runs `work` with its model calls on `tag`'s bill (the judge and /hint reach the model through shared code). */
export function withUsage<T>(tag: UsageTag, work: () => Promise<T>): Promise<T> {
  return usageScope.run(tag, work);
}

/** Rows that could not be written are kept for the next attempt, up to this many (then the oldest go, logged). */
const maxBuffered = 5_000;

/**
 * Every model call's tokens and estimated cost, written to `model_usage` in batches (a turn never waits
 * for its own row), and each person's and team's tokens of the day, for the budgets. The day's totals are
 * read from the database once per person and team and then counted in memory.
 */
export class UsageLedger {
  private buffer: NewModelUsage[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private day = '';
  private readonly totals = new Map<string, number>();
  private readonly loading = new Map<string, Promise<number>>();
  /** Which team a person's calls count towards, learned when their budget is checked. */
  private readonly teamOf = new Map<UserId, UserId>();
  private readonly now: () => Date;

  constructor(private readonly deps: UsageLedgerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Estimated cost of one call, USD. */
  costOf(promptTokens: number, completionTokens: number): number {
    const { pricePer1kInput, pricePer1kOutput } = this.deps.limits;
    return (promptTokens * pricePer1kInput + completionTokens * pricePer1kOutput) / 1000;
  }

  /** Records one call; written with the next batch. */
  record(tag: UsageTag, model: string, promptTokens = 0, completionTokens = 0): void {
    const costUsd = this.costOf(promptTokens, completionTokens);
    this.deps.metrics?.countModelUsage(tag.purpose, promptTokens, completionTokens, costUsd);
    this.buffer.push({
      userId: tag.userId,
      sessionId: tag.sessionId ?? null,
      purpose: tag.purpose,
      model,
      promptTokens,
      completionTokens,
      costUsd,
      createdAt: this.now(),
    });
    this.count(tag.userId, promptTokens + completionTokens);
    this.timer ??= setTimeout(() => void this.flush(), this.deps.flushDelayMs ?? 200);
    this.timer.unref();
  }

  /** Writes what is buffered; a failure is logged and the rows wait for the next attempt. Never throws. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(async () => {
      const rows = this.buffer;
      if (rows.length === 0) return;
      this.buffer = [];
      try {
        await insertModelUsage(this.deps.db, rows);
      } catch (error) {
        const kept = [...rows, ...this.buffer];
        const dropped = Math.max(0, kept.length - maxBuffered);
        this.buffer = kept.slice(dropped);
        this.deps.logger.error({ err: error, rows: rows.length, dropped }, 'could not record model usage; will try again');
        this.timer ??= setTimeout(() => void this.flush(), 5_000);
        this.timer.unref();
      }
    });
    return this.flushing;
  }

  /** Whether the person (and their team) still have tokens today. */
  async budgetFor(person: BudgetHolder): Promise<BudgetVerdict> {
    const { userDailyTokens, teamDailyTokens } = this.deps.limits;
    if (userDailyTokens === 0 && teamDailyTokens === 0) return { kind: 'ok' };
    const team = person.managerId ?? (person.role === 'manager' ? person.id : null);
    if (team !== null) this.teamOf.set(person.id, team);
    if (userDailyTokens > 0 && (await this.today(`user:${person.id}`)) >= userDailyTokens)
      return { kind: 'user-spent', resetsAt: this.nextMidnight() };
    if (teamDailyTokens > 0 && team !== null && (await this.today(`team:${team}`)) >= teamDailyTokens)
      return { kind: 'team-spent', resetsAt: this.nextMidnight() };
    return { kind: 'ok' };
  }

  /** The same model, with every answer's tokens recorded on the call's tag (or the current `withUsage` scope). */
  recording(model: ChatModel): ChatModel {
    const recorded = async (request: { model: string; usage?: UsageTag }, ask: () => Promise<ChatReply>) => {
      const reply = await ask();
      const tag = request.usage ?? usageScope.getStore();
      if (tag) {
        this.record(tag, request.model, reply.promptTokens, reply.completionTokens);
        // The evaluation goes to the sheet right after the judge: its tokens must be there by then.
        if (tag.purpose === 'judge') await this.flush();
      }
      return reply;
    };
    return {
      streamChat: (request) => recorded(request, () => model.streamChat(request)),
      completeJson: (request) => recorded(request, () => model.completeJson(request)),
    };
  }

  /**
   * The same speech-to-text, each transcription recorded on the current `withUsage` scope. With no
   * tokens: the endpoints bill audio seconds, which the row's model and time let one look up.
   */
  recordingSpeechToText(stt: SpeechToText, model: string): SpeechToText {
    return {
      transcribe: async (audio) => {
        const text = await stt.transcribe(audio);
        this.recordInScope('transcription', model);
        return text;
      },
    };
  }

  /** The same text-to-speech, each synthesis recorded on the current `withUsage` scope (billed by characters, so no tokens). */
  recordingTextToSpeech(tts: TextToSpeech, model: string): TextToSpeech {
    return {
      synthesize: async (text) => {
        const audio = await tts.synthesize(text);
        this.recordInScope('speech', model);
        return audio;
      },
    };
  }

  private recordInScope(purpose: ModelUsagePurpose, model: string): void {
    const scope = usageScope.getStore();
    if (scope) this.record({ ...scope, purpose }, model);
  }

  /** Writes the rest; for shutdown. */
  async stop(): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private count(userId: UserId, tokens: number): void {
    this.rollDay();
    const add = (key: string) => {
      const total = this.totals.get(key);
      if (total !== undefined) this.totals.set(key, total + tokens);
    };
    add(`user:${userId}`);
    const team = this.teamOf.get(userId);
    if (team !== undefined) add(`team:${team}`);
  }

  private async today(key: string): Promise<number> {
    this.rollDay();
    const known = this.totals.get(key);
    if (known !== undefined) return known;
    let load = this.loading.get(key);
    if (!load) {
      const day = this.day;
      load = (async () => {
        await this.flush();
        const since = startOfDayInZone(day, this.deps.timeZone);
        const [kind, id] = key.split(':') as ['user' | 'team', string];
        const tokens =
          kind === 'user'
            ? await userTokensSince(this.deps.db, Number(id) as UserId, since)
            : await teamTokensSince(this.deps.db, Number(id) as UserId, since);
        if (this.day === day) this.totals.set(key, tokens);
        return tokens;
      })().finally(() => this.loading.delete(key));
      this.loading.set(key, load);
    }
    return load;
  }

  private rollDay(): void {
    const day = dayIn(this.now(), this.deps.timeZone);
    if (day === this.day) return;
    this.day = day;
    this.totals.clear();
  }

  private nextMidnight(): Date {
    const today = startOfDayInZone(dayIn(this.now(), this.deps.timeZone), this.deps.timeZone);
    // 26 hours on covers a DST day; that day's date, in the zone, is tomorrow.
    return startOfDayInZone(dayIn(new Date(today.getTime() + 26 * 3_600_000), this.deps.timeZone), this.deps.timeZone);
  }
}

/** One formatter per zone: a turn asks for the day twice, and building a formatter costs more than the turn's own code. */
const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (YYYY-MM-DD) of an instant in `timeZone`. */
export function dayIn(date: Date, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  return format.format(date);
}

export type { ModelUsagePurpose };
