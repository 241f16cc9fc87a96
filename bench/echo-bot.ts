/**
 * The baseline of the real-path benchmark: a bare grammY bot (the bot's own grammY version, plain
 * long polling) that answers every text with the same text. Its own process, the same Bot API
 * stand-in. On the IPC message 'report' it sends back its event-loop delay since the last report.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Bot } from 'grammy';

const token = process.env.BOT_TOKEN ?? '';
const apiRoot = process.env.TELEGRAM_API_ROOT ?? '';
const bot = new Bot(token, { client: { apiRoot } });
bot.on('message:text', (ctx) => ctx.reply(ctx.message.text));
bot.catch((error) => console.error('echo bot failed', error.error));

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
process.on('message', (message) => {
  if (message !== 'report') return;
  process.send?.({ eventLoopP99Ms: loop.percentile(99) / 1e6 });
  loop.reset();
});

const stop = (): void => {
  void bot.stop().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
await bot.start({ onStart: () => console.log('echo bot is polling') });
