import type { I18n } from '@grammyjs/i18n';
import type { Api } from 'grammy';
import type { Locale } from '../config.js';
import type { Logger } from '../logger.js';
import { JudgeUnavailableError } from '../services/judge.js';
import { ModelUnavailableError } from '../services/llm.js';
import type { TrainingService } from '../services/training.js';
import { evaluationMessages } from './features/finish.js';
import { splitMessage } from './helpers/split-message.js';
import { negotiateLocale } from './i18n.js';

export interface RecoverySummary {
  readonly turnsAnswered: number;
  readonly evaluationsShown: number;
  readonly failed: number;
}

/**
 * At start-up, before polling: finishes what a crash interrupted. Unanswered turns get their reply,
 * an interrupted /finish is judged again, and evaluations stored but never shown are shown.
 */
export async function recoverInterruptedWork(deps: {
  readonly api: Api;
  readonly training: TrainingService;
  readonly defaultLocale: Locale;
  readonly i18n: Pick<I18n, 't'>;
  readonly logger: Logger;
}): Promise<RecoverySummary> {
  const { api, training, logger, i18n } = deps;
  const work = await training.interruptedWork();
  let turnsAnswered = 0;
  let evaluationsShown = 0;
  let failed = 0;
  const translate = (languageCode: string | null) => {
    const locale = negotiateLocale(languageCode, deps.defaultLocale);
    return (key: string, variables?: Record<string, string | number>) => i18n.t(locale, key, variables);
  };
  const sendText = async (chatId: number, text: string) => {
    for (const part of splitMessage(text)) await api.sendMessage(chatId, part);
  };
  const sendHtml = async (chatId: number, parts: readonly string[]) => {
    for (const part of parts) await api.sendMessage(chatId, part, { parse_mode: 'HTML' });
  };

  for (const item of work.unansweredTurns) {
    try {
      const result = item.undeliveredReply
        ? { kind: 'answered' as const, reply: item.undeliveredReply.content, replyId: item.undeliveredReply.id }
        : await training.answer(item);
      if (result.kind !== 'answered') continue;
      await sendText(item.telegramId, result.reply);
      await training.markReplyDelivered(result.replyId);
      turnsAnswered++;
    } catch (error) {
      failed++;
      logger.warn({ err: error, sessionId: item.session.id }, 'recovery: could not answer an interrupted turn');
      if (error instanceof ModelUnavailableError) {
        await api.sendMessage(item.telegramId, translate(item.languageCode)('chat-model-unavailable')).catch(() => undefined);
      }
    }
  }

  for (const item of work.pendingFinishes) {
    const t = translate(item.languageCode);
    try {
      const result = await training.finish(item.session.userId);
      if (result.kind !== 'finished') continue;
      await sendHtml(item.telegramId, evaluationMessages(t, result.training, result.evaluation));
      await training.markEvaluationDelivered(item.session.id);
      evaluationsShown++;
    } catch (error) {
      failed++;
      logger.warn({ err: error, sessionId: item.session.id }, 'recovery: could not finish an interrupted /finish');
      if (error instanceof JudgeUnavailableError) {
        await api.sendMessage(item.telegramId, t('finish-judge-unavailable')).catch(() => undefined);
      }
    }
  }

  for (const item of work.undeliveredEvaluations) {
    try {
      await sendHtml(item.telegramId, evaluationMessages(translate(item.languageCode), item, item.evaluation));
      await training.markEvaluationDelivered(item.session.id);
      evaluationsShown++;
    } catch (error) {
      failed++;
      logger.warn({ err: error, sessionId: item.session.id }, 'recovery: could not show a stored evaluation');
    }
  }
  return { turnsAnswered, evaluationsShown, failed };
}
