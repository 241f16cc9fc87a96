import { GrammyError, HttpError, type BotError, type InlineKeyboard } from 'grammy';
import { isTransientDatabaseError } from '../../db/retry.js';
import { JudgeUnavailableError } from '../../services/judge.js';
import { ModelUnavailableError } from '../../services/llm.js';
import { ScenarioNotFoundError } from '../../services/scenarios.js';
import { SpokenTurnNotTranscribedError } from '../../services/training/index.js';
import type { ErrorKind } from '../../metrics.js';
import type { BotContext } from '../context.js';
import { retryTranscriptionKeyboard } from '../features/voice.js';

/**
 * The handler of the bot's error boundary (`bot.errorBoundary` in index.ts), where every error from
 * the middleware and features ends: one precise log line and a short message in the user's
 * language. The update is done with; the bot keeps running.
 */
export async function handleUpdateError(error: BotError<BotContext>): Promise<void> {
  await reportError(error.ctx, error.error);
}

/** For `bot.catch`: errors that escape the boundary (it failed itself). The runner must never stop. */
export function handleBotError(error: BotError<BotContext>): void {
  error.ctx.logger.error({ err: error.error }, 'unhandled error outside the error boundary');
}

async function reportError(ctx: BotContext, error: unknown): Promise<void> {
  const { key, level } = classify(error);
  // Model, judge and speech-to-text failures are counted where they happen (metrics.ts wrappers).
  if (
    !(error instanceof ModelUnavailableError) &&
    !(error instanceof SpokenTurnNotTranscribedError && error.failure !== 'download')
  ) {
    ctx.metrics?.countError(errorKindOf(error));
  }
  ctx.logger[level]({ err: error, updateType: updateTypeOf(ctx), userId: ctx.user?.id }, describe(error));
  if (!ctx.chat || !key) return;
  try {
    // Only stops the button's spinner (it stops by itself after a while); the apology matters more.
    if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(() => undefined);
    const keyboard = retryKeyboardFor(ctx, error);
    await ctx.reply(ctx.t(key), keyboard ? { reply_markup: keyboard } : {});
  } catch (replyError) {
    ctx.logger.error({ err: replyError }, 'could not tell the user about the error');
  }
}

/** A stored voice turn that can be transcribed later gets a button to try again. */
function retryKeyboardFor(ctx: BotContext, error: unknown): InlineKeyboard | undefined {
  if (!(error instanceof SpokenTurnNotTranscribedError) || error.failure === 'no-audio') return undefined;
  return retryTranscriptionKeyboard(ctx.t('voice-retry-button'), error.messageId);
}

function classify(error: unknown): { key: string | undefined; level: 'debug' | 'warn' | 'error' } {
  if (error instanceof JudgeUnavailableError) return { key: 'finish-judge-unavailable', level: 'warn' };
  if (error instanceof SpokenTurnNotTranscribedError) {
    switch (error.failure) {
      // The operator was told once, by the speech-to-text service; one line per voice note would bury it.
      case 'no-audio':
        return { key: 'voice-not-supported', level: 'debug' };
      case 'download':
        return { key: 'voice-download-failed', level: 'warn' };
      case 'rejected':
      case 'timeout':
      case 'unavailable':
        return { key: 'voice-transcription-failed', level: 'warn' };
      default: {
        const unreachable: never = error.failure;
        throw new Error(`unknown transcription failure ${String(unreachable)}`);
      }
    }
  }
  if (error instanceof ModelUnavailableError) {
    return { key: error.failure === 'timeout' ? 'chat-model-timeout' : 'chat-model-unavailable', level: 'warn' };
  }
  if (error instanceof ScenarioNotFoundError) return { key: 'chat-scenario-missing', level: 'warn' };
  if (isTransientDatabaseError(error)) return { key: 'error-database-unavailable', level: 'error' };
  // Telegram refused our own request: telling the user through the same API rarely helps.
  if (error instanceof GrammyError || error instanceof HttpError) return { key: undefined, level: 'error' };
  return { key: 'error-generic', level: 'error' };
}

function describe(error: unknown): string {
  if (error instanceof JudgeUnavailableError) return 'judge failed; the session stays open';
  if (error instanceof ModelUnavailableError) return `model ${error.failure}; the trainee's message is stored`;
  if (error instanceof ScenarioNotFoundError) return 'session names a scenario that no longer exists';
  if (error instanceof SpokenTurnNotTranscribedError)
    return `voice turn not transcribed (${error.failure}); it is stored for a retry`;
  if (error instanceof GrammyError) return `Telegram refused ${error.method}`;
  if (isTransientDatabaseError(error)) return 'database unavailable longer than the retries wait';
  return 'handler failed';
}

function errorKindOf(error: unknown): ErrorKind {
  if (error instanceof GrammyError || error instanceof HttpError) return 'telegram';
  if (isTransientDatabaseError(error)) return 'database';
  return 'other';
}

function updateTypeOf(ctx: BotContext): string {
  return Object.keys(ctx.update).find((key) => key !== 'update_id') ?? 'unknown';
}
