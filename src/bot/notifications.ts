import type { I18n } from '@grammyjs/i18n';
import { GrammyError, InlineKeyboard, type Api } from 'grammy';
import type { Locale } from '../config.js';
import type { Assignment } from '../db/queries/assignments.js';
import type { Notification } from '../db/queries/notifications.js';
import { displayName, type User } from '../db/queries/users.js';
import type { AssignmentService, NoticeContent } from '../services/assignments.js';
import { RecipientUnreachableError, type DeliveryOutcome } from '../services/notifications.js';
import type { ScenarioCatalog } from '../services/scenarios.js';
import type { BotContext } from './context.js';
import { encodeCallback } from './helpers/callback-data.js';
import { negotiateLocale } from './i18n.js';
import { assignCallback, taskCallback } from './features/tasks.js';

type Translate = (key: string, variables?: Record<string, string | number>) => string;

export interface NoticeDeliveryDeps {
  readonly api: Api;
  readonly i18n: Pick<I18n<BotContext>, 't'>;
  readonly defaultLocale: Locale;
  readonly timeZone: string;
  readonly assignments: Pick<AssignmentService, 'noticeContent'>;
  readonly scenarios: ScenarioCatalog;
}

/** What one notice says, and its button. */
export interface RenderedNotice {
  readonly text: string;
  readonly keyboard: InlineKeyboard | undefined;
}

/** Sends a due notice in its recipient's language, read as things are now; a 403 is RecipientUnreachableError. */
export function noticeDelivery(deps: NoticeDeliveryDeps): (notification: Notification) => Promise<DeliveryOutcome> {
  return async (notification) => {
    const content = await deps.assignments.noticeContent(notification);
    if (content.kind === 'obsolete') return 'obsolete';
    const rendered = renderNotice(deps, content);
    try {
      await deps.api.sendMessage(
        content.recipient.telegramId,
        rendered.text,
        rendered.keyboard ? { reply_markup: rendered.keyboard } : {},
      );
    } catch (error) {
      if (error instanceof GrammyError && error.error_code === 403) throw new RecipientUnreachableError(error.description);
      throw error;
    }
    return 'sent';
  };
}

/** The text and button of a notice for its recipient. */
export function renderNotice(
  deps: Omit<NoticeDeliveryDeps, 'api' | 'assignments'>,
  content: Exclude<NoticeContent, { kind: 'obsolete' }>,
): RenderedNotice {
  const locale = negotiateLocale(content.recipient.languageCode, deps.defaultLocale);
  const t: Translate = (key, variables) => deps.i18n.t(locale, key, variables);
  const dateFormat = new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'ru-RU', {
    timeZone: deps.timeZone,
    dateStyle: 'short',
  });
  const dueFormat = new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'ru-RU', {
    timeZone: deps.timeZone,
    dateStyle: 'short',
    timeStyle: 'short',
  });
  const task = (assignment: Assignment) => {
    const scenario = deps.scenarios.find(assignment.scenarioKey);
    return {
      title: scenario?.title ?? assignment.scenarioKey,
      difficulty: scenario?.difficulties[assignment.difficulty as 'easy']?.label ?? assignment.difficulty,
      mark: assignment.passMark,
      due: dueFormat.format(assignment.dueAt),
    };
  };
  switch (content.kind) {
    case 'assigned':
    case 'reminder':
    case 'overdue': {
      const lines = [t(`notify-${content.kind}`, task(content.assignment))];
      if (content.inTraining) lines.push(t('notify-in-training'));
      return {
        text: lines.join('\n\n'),
        keyboard: new InlineKeyboard().text(t('notify-start-button'), taskCallback(content.assignment.id)),
      };
    }
    case 'manager-overdue':
      return {
        text: t('notify-manager-overdue', { ...task(content.assignment), name: displayName(content.trainee) }),
        keyboard: new InlineKeyboard().text(
          t('notify-manager-open-button'),
          encodeCallback({ type: 'team-member', userId: content.trainee.id }),
        ),
      };
    case 'certified': {
      const title = content.program?.title ?? content.programKey;
      const date = dateFormat.format(content.certification.certifiedAt);
      if (content.certification.userId !== content.recipient.id) {
        return {
          text: t('notify-certified-manager', { title, date, name: displayName(traineeOf(content)) }),
          keyboard: new InlineKeyboard().text(
            t('notify-manager-open-button'),
            encodeCallback({ type: 'team-member', userId: content.certification.userId }),
          ),
        };
      }
      const lines = [t('notify-certified', { title, date })];
      if (content.certification.expiresAt) {
        lines.push(t('notify-certified-expires', { date: dateFormat.format(content.certification.expiresAt) }));
      }
      return {
        text: lines.join('\n'),
        keyboard: new InlineKeyboard().text(t('notify-certified-button'), encodeCallback({ type: 'scenario-menu' })),
      };
    }
    case 'digest': {
      const { digest, people } = content;
      const name = (id: User['id']) => {
        const person = people.get(id);
        return person ? displayName(person) : `#${id}`;
      };
      const title = (key: string) => deps.scenarios.find(key)?.title ?? key;
      const lines = [t('notify-digest-title'), ''];
      lines.push(
        digest.trained.length > 0
          ? t('notify-digest-trained', { list: digest.trained.map((row) => `${name(row.userId)} (${row.sessions})`).join(', ') })
          : t('notify-digest-trained-none'),
      );
      lines.push(
        digest.passed.length > 0
          ? t('notify-digest-passed', {
              list: digest.passed.map((row) => `${name(row.userId)} — «${title(row.scenarioKey)}»`).join(', '),
            })
          : t('notify-digest-passed-none'),
      );
      if (digest.notStarted.length > 0) {
        const list = digest.notStarted
          .map((row) => `${name(row.userId)} — «${title(row.scenarioKey)}» (${dateFormat.format(row.dueAt)})`)
          .join(', ');
        lines.push(t('notify-digest-not-started', { list }));
      }
      if (digest.weakest) lines.push(t('notify-digest-weakest', digest.weakest));
      return { text: lines.join('\n'), keyboard: new InlineKeyboard().text(t('notify-digest-assign-button'), assignCallback) };
    }
    default: {
      const unreachable: never = content;
      throw new Error(`unknown notice ${JSON.stringify(unreachable)}`);
    }
  }
}

function traineeOf(
  content: Extract<NoticeContent, { kind: 'certified' }>,
): Pick<User, 'firstName' | 'lastName' | 'username' | 'telegramId'> {
  return content.trainee ?? { firstName: null, lastName: null, username: null, telegramId: 0 as User['telegramId'] };
}
