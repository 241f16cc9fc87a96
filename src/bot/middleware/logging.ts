import type { NextFunction } from 'grammy';
import type { BotContext } from '../context.js';

/** One debug line per update with how long it took. */
export async function logUpdates(ctx: BotContext, next: NextFunction): Promise<void> {
  const started = performance.now();
  await next();
  ctx.logger.debug(
    { updateType: Object.keys(ctx.update).find((key) => key !== 'update_id'), ms: Math.round(performance.now() - started) },
    'update handled',
  );
}
