import { GrammyError } from 'grammy';
import type { Chat } from 'grammy/types';
import type { BotContext } from '../context.js';
import { splitMessage, telegramTextLimit } from './split-message.js';

/**
 * Which chats refused sendMessageDraft. Telegram allows drafts only in some chats; after the first
 * refusal a chat gets the typing indicator instead, without asking again.
 */
export class DraftSupport {
  private readonly refused = new Set<number>();
  allowed(chatId: number): boolean {
    return !this.refused.has(chatId);
  }
  refuse(chatId: number): void {
    this.refused.add(chatId);
  }
}

const typingEveryMs = 4_500;
const draftEveryMs = 350;

export interface StreamReplyOptions {
  /**
   * Sends the final text instead of plain messages (a voice note, say). The whole text is shown as
   * the draft first, and stays there while this runs.
   */
  readonly deliver?: (text: string) => Promise<void>;
}

/**
 * Shows the answer as it is generated — a live draft where the chat allows it, a typing indicator
 * otherwise — then sends the final text as plain messages (no parse mode: every character arrives as written).
 */
export async function streamReply(
  ctx: BotContext & { readonly chat: Chat },
  generate: (onText: (textSoFar: string) => void) => Promise<string | undefined>,
  options: StreamReplyOptions = {},
): Promise<void> {
  const chatId = ctx.chat.id;
  const drafts = ctx.runtime.drafts;
  const draftId = Math.floor(Math.random() * 2_000_000_000) + 1;
  let lastDraftAt = 0;
  let lastDraft = '';
  let draftInFlight: Promise<unknown> = Promise.resolve();

  // While a voice answer is made, the chat shows "recording a voice message" instead of "typing".
  let action: 'typing' | 'record_voice' = 'typing';
  const sendTyping = () =>
    ctx.api.sendChatAction(chatId, action).catch((error: unknown) => ctx.logger.debug({ err: error }, 'typing failed'));
  void sendTyping();
  const typing = setInterval(() => void sendTyping(), typingEveryMs);

  const showDraft = (textSoFar: string) => {
    lastDraft = textSoFar;
    draftInFlight = draftInFlight.then(() =>
      ctx.api.raw
        .sendMessageDraft({ chat_id: chatId, draft_id: draftId, text: textSoFar.slice(0, telegramTextLimit) })
        .catch((error: unknown) => {
          if (error instanceof GrammyError && error.error_code === 400) drafts.refuse(chatId);
          ctx.logger.debug({ err: error }, 'draft refused; using the typing indicator');
        }),
    );
  };
  const onText = (textSoFar: string) => {
    const now = Date.now();
    if (!drafts.allowed(chatId) || now - lastDraftAt < draftEveryMs) return;
    lastDraftAt = now;
    showDraft(textSoFar);
  };

  try {
    const text = await generate(onText);
    await draftInFlight;
    if (text === undefined) return;
    if (options.deliver) {
      if (drafts.allowed(chatId) && lastDraft !== text) showDraft(text);
      action = 'record_voice';
      await Promise.all([draftInFlight, sendTyping()]);
      await options.deliver(text);
      return;
    }
    for (const part of splitMessage(text)) await ctx.api.sendMessage(chatId, part);
  } finally {
    clearInterval(typing);
  }
}
