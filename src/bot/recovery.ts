import type { AssignmentService } from '../services/assignments.js';
import type { I18n } from '@grammyjs/i18n';
import type { Api, InlineKeyboard } from 'grammy';
import type { Locale } from '../config.js';
import type { Logger } from '../logger.js';
import { JudgeUnavailableError } from '../services/judge.js';
import { ModelUnavailableError } from '../services/llm.js';
import {
  SpokenTurnNotTranscribedError,
  type AudioDownloader,
  type InterruptedWork,
  type TrainingService,
  type TurnResult,
} from '../services/training/index.js';
import { evaluationMessages } from './features/finish.js';
import { evaluationKeyboard, withKeyboardOnLast } from './helpers/evaluation-keyboard.js';
import { retryTranscriptionKeyboard, shortTranscript } from './features/voice.js';
import { splitMessage } from './helpers/split-message.js';
import { negotiateLocale } from './i18n.js';

export interface RecoverySummary {
  readonly turnsAnswered: number;
  readonly evaluationsShown: number;
  readonly failed: number;
}

export interface RecoveryRun {
  /** Chats with interrupted work; each one's new updates wait until its own work is done. */
  readonly chats: number;
  /** Resolves once every chat's work is done; never rejects (a failure is counted and logged). */
  readonly finished: Promise<RecoverySummary>;
  /** Starts no further chat; resolves once the chats being recovered are done. */
  stop(): Promise<void>;
}

export interface RecoveryDeps {
  readonly api: Api;
  readonly training: TrainingService;
  /** Whether a re-sent evaluation passed its assignment: shown as under /finish. */
  readonly assignments: Pick<AssignmentService, 'settle'>;
  readonly defaultLocale: Locale;
  readonly i18n: Pick<I18n, 't'>;
  readonly logger: Logger;
  /** Fetches a voice turn's audio again (telegramAudioDownloader): an interrupted transcription is retried. */
  readonly download: AudioDownloader;
  /**
   * Keeps the chat's updates waiting until the returned function is called: a trainee's new text
   * must not be answered before the reply the crash owed them.
   */
  readonly holdChat: (telegramId: number) => () => void;
  /** How many chats are recovered at once. */
  readonly concurrency?: number;
}

/** Chats recovered at once: enough to finish 50 interrupted turns in seconds, few enough to spare the model. */
const defaultConcurrency = 8;

/**
 * At start-up, beside polling: finishes what a crash interrupted. Unanswered turns get their reply,
 * an interrupted /finish is judged again, and evaluations stored but never shown are shown.
 * Chats are recovered side by side (at most `concurrency` at once), each chat's work in order.
 *
 * Resolves once the work is found and every chat concerned is held; polling may start then.
 */
export async function startRecovery(deps: RecoveryDeps): Promise<RecoveryRun> {
  const work = await deps.training.interruptedWork();
  const chats = [...workByChat(work, recoverySteps(deps)).entries()].map(([telegramId, steps]) => ({
    steps,
    release: deps.holdChat(telegramId),
  }));
  const summary = { turnsAnswered: 0, evaluationsShown: 0, failed: 0 };
  let next = 0;
  let stopping = false;
  const worker = async (): Promise<void> => {
    while (!stopping && next < chats.length) {
      const chat = chats[next++]!;
      try {
        for (const step of chat.steps) {
          const outcome = await step().catch((error: unknown) => {
            deps.logger.error({ err: error }, 'recovery: a step failed unexpectedly');
            return 'failed' as const;
          });
          if (outcome !== 'skipped') summary[outcome]++;
        }
      } finally {
        chat.release();
      }
    }
  };
  const workers = Array.from({ length: Math.min(deps.concurrency ?? defaultConcurrency, chats.length) }, worker);
  const finished = Promise.all(workers).then(() => ({ ...summary }));
  return {
    chats: chats.length,
    finished,
    stop: async () => {
      stopping = true;
      await finished;
    },
  };
}

type Outcome = keyof RecoverySummary | 'skipped';
type Step = () => Promise<Outcome>;
type Steps = ReturnType<typeof recoverySteps>;

/** Each chat's steps in the order a crash left them: the owed reply, then the verdict. */
function workByChat(work: InterruptedWork, steps: Steps): Map<number, Step[]> {
  const byChat = new Map<number, Step[]>();
  const add = (telegramId: number, step: Step) => {
    const steps = byChat.get(telegramId);
    if (steps) steps.push(step);
    else byChat.set(telegramId, [step]);
  };
  for (const item of work.unansweredTurns) add(item.telegramId, () => steps.answerTurn(item));
  for (const item of work.pendingFinishes) add(item.telegramId, () => steps.finish(item));
  for (const item of work.undeliveredEvaluations) add(item.telegramId, () => steps.showEvaluation(item));
  return byChat;
}

function recoverySteps(
  deps: Pick<RecoveryDeps, 'api' | 'training' | 'assignments' | 'defaultLocale' | 'i18n' | 'logger' | 'download'>,
) {
  const { api, training, assignments, logger, i18n } = deps;
  const translate = (languageCode: string | null) => {
    const locale = negotiateLocale(languageCode, deps.defaultLocale);
    return (key: string, variables?: Record<string, string | number>) => i18n.t(locale, key, variables);
  };
  const sendText = async (chatId: number, text: string) => {
    for (const part of splitMessage(text)) await api.sendMessage(chatId, part);
  };
  const sendEvaluation = async (chatId: number, parts: readonly string[], keyboard: InlineKeyboard) => {
    for (const { text, other } of withKeyboardOnLast(parts, keyboard)) await api.sendMessage(chatId, text, other);
  };

  return {
    async answerTurn(item: InterruptedWork['unansweredTurns'][number]): Promise<Outcome> {
      const t = translate(item.languageCode);
      try {
        let result: TurnResult;
        if (item.undeliveredReply) {
          result = {
            kind: 'answered',
            reply: item.undeliveredReply.content,
            replyId: item.undeliveredReply.id,
            // The goodbye is the session's last reply: the session says whether the client hung up with it.
            clientHungUp: item.session.clientHungUpAt !== null,
          };
        } else if (item.untranscribed) {
          // A voice turn the crash (or a failed transcription) left without words: heard now, then answered.
          result = await training.resumeSpokenTurn(item, item.untranscribed, {
            download: deps.download,
            onTranscript: async (transcript) => {
              await api.sendMessage(item.telegramId, t('voice-heard', { transcript: shortTranscript(transcript) }));
            },
          });
          if (result.kind === 'not-heard') await api.sendMessage(item.telegramId, t('voice-not-heard'));
        } else {
          result = await training.answer(item);
        }
        if (result.kind !== 'answered') return 'skipped';
        await sendText(item.telegramId, result.reply);
        await training.markReplyDelivered(result.replyId);
        if (result.clientHungUp) await api.sendMessage(item.telegramId, t('role-play-client-hung-up'));
        return 'turnsAnswered';
      } catch (error) {
        logger.warn({ err: error, sessionId: item.session.id }, 'recovery: could not answer an interrupted turn');
        // Without audio on the endpoint the trainee was told already, when they sent the note.
        if (error instanceof SpokenTurnNotTranscribedError && error.failure !== 'no-audio') {
          const key = error.failure === 'download' ? 'voice-download-failed' : 'voice-transcription-failed';
          await api
            .sendMessage(item.telegramId, t(key), {
              reply_markup: retryTranscriptionKeyboard(t('voice-retry-button'), error.messageId),
            })
            .catch(() => undefined);
        }
        if (error instanceof ModelUnavailableError) {
          await api.sendMessage(item.telegramId, t('chat-model-unavailable')).catch(() => undefined);
        }
        return 'failed';
      }
    },

    async finish(item: InterruptedWork['pendingFinishes'][number]): Promise<Outcome> {
      const t = translate(item.languageCode);
      try {
        const result = await training.finish(item.session.userId);
        if (result.kind !== 'finished') return 'skipped';
        const verdict = await assignments.settle(item.session.id);
        await sendEvaluation(
          item.telegramId,
          evaluationMessages(t, result.training, result.evaluation, verdict),
          evaluationKeyboard(t, result.training.session),
        );
        await training.markEvaluationDelivered(item.session.id);
        return 'evaluationsShown';
      } catch (error) {
        logger.warn({ err: error, sessionId: item.session.id }, 'recovery: could not finish an interrupted /finish');
        if (error instanceof JudgeUnavailableError) {
          await api.sendMessage(item.telegramId, t('finish-judge-unavailable')).catch(() => undefined);
        }
        return 'failed';
      }
    },

    async showEvaluation(item: InterruptedWork['undeliveredEvaluations'][number]): Promise<Outcome> {
      try {
        const t = translate(item.languageCode);
        const verdict = await assignments.settle(item.session.id);
        await sendEvaluation(
          item.telegramId,
          evaluationMessages(t, item, item.evaluation, verdict),
          evaluationKeyboard(t, item.session),
        );
        await training.markEvaluationDelivered(item.session.id);
        return 'evaluationsShown';
      } catch (error) {
        logger.warn({ err: error, sessionId: item.session.id }, 'recovery: could not show a stored evaluation');
        return 'failed';
      }
    },
  };
}
