import type { Chat } from 'grammy/types';
import type { TurnResult } from '../../services/training/index.js';
import type { AuthedContext } from '../context.js';
import { streamReply } from './stream-reply.js';
import { sendVoiceReply } from './voice-reply.js';

/**
 * Plays one turn (typed or spoken) and shows the client's answer: streamed as a draft, then sent as
 * text, or as a voice note for a trainee in voice mode. Returns what became of the turn; the answers
 * every turn shares (no session, nothing heard, the client hung up) are given here.
 */
export async function answerTurn(
  ctx: AuthedContext & { readonly chat: Chat },
  play: (onText: (textSoFar: string) => void) => Promise<TurnResult>,
): Promise<TurnResult['kind']> {
  const { training, voiceMode } = ctx.services;
  const active = await training.active(ctx.user.id);
  // Nobody on the line: not even «typing…». (The service refuses such a turn too.)
  if (active?.session.clientHungUpAt) {
    await ctx.reply(ctx.t('role-play-call-over'));
    return 'hung-up';
  }
  const byVoice = active !== undefined && (await voiceMode.repliesByVoice(ctx.user.id, active.scenario));
  // Assigned inside the callback: typed wide, or the compiler narrows it to its first value.
  let outcome = 'no-session' as TurnResult['kind'];
  let replyId: number | undefined;
  let hungUp = false;
  await streamReply(
    ctx,
    async (onText) => {
      const result = await play(onText);
      outcome = result.kind;
      switch (result.kind) {
        case 'answered':
          replyId = result.replyId;
          hungUp = result.clientHungUp;
          return result.reply;
        case 'already-answered':
        case 'no-session':
        case 'not-heard':
        case 'moved-on':
        case 'hung-up':
          return undefined;
        default: {
          const unreachable: never = result;
          throw new Error(`unhandled turn ${JSON.stringify(unreachable)}`);
        }
      }
    },
    byVoice ? { deliver: (text) => sendVoiceReply(ctx, text) } : {},
  );
  if (replyId !== undefined) await training.markReplyDelivered(replyId);
  if (hungUp) await ctx.reply(ctx.t('role-play-client-hung-up'));
  if (outcome === 'no-session') await ctx.reply(ctx.t('chat-no-session'));
  if (outcome === 'not-heard') await ctx.reply(ctx.t('voice-not-heard'));
  if (outcome === 'hung-up') await ctx.reply(ctx.t('role-play-call-over'));
  return outcome;
}
