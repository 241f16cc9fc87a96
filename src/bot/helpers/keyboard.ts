import { GrammyError, type Context } from 'grammy';

/** Takes the buttons off the message whose button was pressed, so that it cannot be answered twice. */
export async function removeButtons(ctx: Context): Promise<void> {
  try {
    await ctx.editMessageReplyMarkup({ reply_markup: undefined });
  } catch (error) {
    // Telegram refuses to edit a message that is too old or already without buttons; the answer counts anyway.
    if (!(error instanceof GrammyError)) throw error;
  }
}
