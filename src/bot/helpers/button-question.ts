import type { Conversation } from '@grammyjs/conversations';
import { InlineKeyboard } from 'grammy';
import type { BotContext, ConversationContext } from '../context.js';
import { removeButtons } from './keyboard.js';

/** How a multi-step flow asks with buttons: the callback data of each option, its layout, and its texts. */
export interface ButtonQuestionStyle {
  /** The callback data of the option at `index` (unique within the flow's flavour of buttons). */
  readonly dataOf: (index: number) => string;
  /** One button per row (longer labels), or all in one row. */
  readonly layout: 'column' | 'row';
  /** Locale keys: what /cancel answers, and the reminder for anything that is not a button. */
  readonly cancelledKey: string;
  readonly chooseButtonKey: string;
}

/**
 * Asks with one button per option and returns the chosen value. Anything else: /cancel ends the
 * flow, another command leaves it and runs as usual, and the rest gets a reminder while the
 * question stays (the conversations plugin drops that update).
 */
export async function askWithButtons<T>(
  conversation: Conversation<BotContext, ConversationContext>,
  ctx: ConversationContext,
  question: string,
  options: ReadonlyArray<readonly [label: string, value: T]>,
  style: ButtonQuestionStyle,
): Promise<T> {
  const offered = options.map(([label, value], index) => ({ label, value, data: style.dataOf(index) }));
  const keyboard = new InlineKeyboard();
  for (const { label, data } of offered) {
    keyboard.text(label, data);
    if (style.layout === 'column') keyboard.row();
  }
  await ctx.reply(question, { reply_markup: keyboard });
  const answer = await conversation.waitForCallbackQuery(
    offered.map(({ data }) => data),
    { otherwise: (other) => leaveOrRemind(conversation, other, style.cancelledKey, style.chooseButtonKey) },
  );
  await answer.answerCallbackQuery();
  await removeButtons(answer);
  const chosen = offered.find(({ data }) => data === answer.callbackQuery.data);
  if (!chosen) throw new Error(`the wait let through a button it was not waiting for: ${answer.callbackQuery.data}`);
  return chosen.value;
}

/**
 * An update that is not the answer a flow waits for: /cancel ends the flow (with `cancelledKey`),
 * another command leaves it and runs as usual, anything else gets `remindKey` and the question stays.
 */
export async function leaveOrRemind(
  conversation: Conversation<BotContext, ConversationContext>,
  other: ConversationContext,
  cancelledKey: string,
  remindKey: string,
): Promise<void> {
  if (other.hasCommand('cancel')) {
    await other.reply(other.t(cancelledKey));
    await conversation.halt();
  }
  if (other.message?.text?.startsWith('/')) await conversation.halt({ next: true });
  if (other.callbackQuery) await other.answerCallbackQuery();
  await other.reply(other.t(remindKey));
}
