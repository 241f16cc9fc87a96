import { Composer } from 'grammy';
import type { BotContext } from '../context.js';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private');

feature.on('message:sticker', (ctx) => ctx.reply(ctx.t('unhandled-sticker')));
feature.on(['message:photo', 'message:video', 'message:animation', 'message:document'], (ctx) =>
  ctx.reply(ctx.t('unhandled-media')),
);
feature.on('message:text', (ctx) =>
  ctx.message.text.startsWith('/') ? ctx.reply(ctx.t('unhandled-command')) : ctx.reply(ctx.t('unhandled-other')),
);
feature.on('edited_message', (ctx) => ctx.reply(ctx.t('unhandled-edited')));
feature.on('message', (ctx) => ctx.reply(ctx.t('unhandled-other')));
// Buttons no feature knows (an old menu, forged data) — also those that come without a chat.
composer.on('callback_query', (ctx) => ctx.answerCallbackQuery({ text: ctx.t('menu-outdated'), show_alert: true }));

export const unhandledFeature = composer;
