import { z } from 'zod';
import { asTelegramId, type SessionId, type TelegramId, type UserId } from '../../db/ids.js';
import { difficultyLevels, type Difficulty } from '../../services/scenarios.js';

export const switchAnswers = ['yes', 'no'] as const;
/** To "abandon the running training and start the new one?": yes abandons, no keeps it. */
export type SwitchAnswer = (typeof switchAnswers)[number];

export const eraseAnswers = ['yes', 'no'] as const;
/** To "erase everything about this person?": yes erases, no leaves everything as it is. */
export type EraseAnswer = (typeof eraseAnswers)[number];

export const cancelAnswers = ['yes', 'no'] as const;
/** To "stop the training without a score?": yes abandons it, no keeps it going. */
export type CancelAnswer = (typeof cancelAnswers)[number];

export const voiceModeChoices = ['on', 'off', 'auto'] as const;
/** /voice: the client speaks, writes, or does as each scenario says. */
export type VoiceModeChoice = (typeof voiceModeChoices)[number];

/**
 * The buttons of administrators' commands. Decoded apart (`decodeAdminCallback`), so that the
 * trainees' features, which switch over every `CallbackAction`, never see them.
 */
export type AdminCallbackAction = { readonly type: 'erase'; readonly telegramId: TelegramId; readonly answer: EraseAnswer };

/**
 * «Допустить» under a refused person's notice (to admins, and to the inviter whose invite they
 * followed). Decoded apart (`decodeAccessCallback`), like the administrators' buttons.
 */
export type AccessCallbackAction = { readonly type: 'admit'; readonly telegramId: TelegramId };

/** Every button the bot sends, as a typed value; the string form fits Telegram's 64 bytes. */
export type CallbackAction =
  | { readonly type: 'scenario'; readonly key: string }
  | { readonly type: 'difficulty'; readonly key: string; readonly difficulty: Difficulty }
  | { readonly type: 'switch-scenario'; readonly answer: SwitchAnswer }
  /** One option of the invite question on screen, by its position (an invite question has at most 10). */
  | { readonly type: 'invite-option'; readonly index: number }
  /** Transcribe a stored voice turn again (its first transcription failed): the message's id. */
  | { readonly type: 'retry-transcription'; readonly messageId: number }
  | { readonly type: 'voice-mode'; readonly choice: VoiceModeChoice }
  | { readonly type: 'cancel-training'; readonly answer: CancelAnswer }
  /** Under an evaluation: the same scenario and difficulty again, at once. */
  | { readonly type: 'repeat-training'; readonly key: string; readonly difficulty: Difficulty }
  /** Under an evaluation: the scenario menu. */
  | { readonly type: 'scenario-menu' }
  /** /history: show a past session's evaluation again (the handler checks whose session it is). */
  | { readonly type: 'past-evaluation'; readonly sessionId: SessionId }
  /** /team: a member's sessions (the handler checks the member is in the manager's team). */
  | { readonly type: 'team-member'; readonly userId: UserId }
  /** /team: one session of a member, its evaluation with the manager's review (checked as above). */
  | { readonly type: 'team-session'; readonly sessionId: SessionId }
  /** /team: a session's dialogue (checked as above). */
  | { readonly type: 'team-transcript'; readonly sessionId: SessionId }
  /** A manager's «Пересмотреть оценку» on a team session (checked as above). */
  | { readonly type: 'review-evaluation'; readonly sessionId: SessionId }
  /** A trainee's «Оспорить» under their evaluation (the handler checks whose session it is). */
  | { readonly type: 'dispute-evaluation'; readonly sessionId: SessionId };

// The string forms are the ones earlier versions sent: buttons already in chats keep meaning the same.
export function encodeCallback(action: CallbackAction | AdminCallbackAction | AccessCallbackAction): string {
  switch (action.type) {
    case 'scenario':
      return `sc:${action.key}`;
    case 'difficulty':
      return `sd:${action.key}:${action.difficulty}`;
    case 'switch-scenario':
      return `switch:${action.answer}`;
    case 'invite-option':
      return `invite:${action.index}`;
    case 'retry-transcription':
      return `vr:${action.messageId}`;
    case 'voice-mode':
      return `vm:${action.choice}`;
    case 'cancel-training':
      return `cancel:${action.answer}`;
    case 'repeat-training':
      return `rp:${action.key}:${action.difficulty}`;
    case 'scenario-menu':
      return 'menu';
    case 'past-evaluation':
      return `pe:${action.sessionId}`;
    case 'team-member':
      return `tm:${action.userId}`;
    case 'team-session':
      return `ts:${action.sessionId}`;
    case 'team-transcript':
      return `tt:${action.sessionId}`;
    case 'review-evaluation':
      return `rv:${action.sessionId}`;
    case 'dispute-evaluation':
      return `dp:${action.sessionId}`;
    case 'erase':
      return `erase:${action.answer}:${action.telegramId}`;
    case 'admit':
      return `admit:${action.telegramId}`;
    default: {
      const unreachable: never = action;
      throw new Error(`unknown action ${JSON.stringify(unreachable)}`);
    }
  }
}

const scenarioKey = z.string().regex(/^[a-z0-9-]{1,50}$/);
const difficulty = z.enum(difficultyLevels);
const optionIndex = z
  .string()
  .regex(/^\d$/)
  .transform((digit) => Number(digit));

const messageId = z
  .string()
  .regex(/^[1-9]\d{0,15}$/)
  .transform((digits) => Number(digits))
  .refine((id) => Number.isSafeInteger(id));

const sessionId = z
  .string()
  .regex(/^[1-9]\d{0,9}$/)
  .transform((digits) => Number(digits))
  // sessions.id is a PostgreSQL serial (int4): anything larger was never sent by the bot.
  .refine((id) => id <= 2_147_483_647)
  .transform((id) => id as SessionId);

/** users.id, a serial (int4) like sessions.id. */
const userId = z
  .string()
  .regex(/^[1-9]\d{0,9}$/)
  .transform((digits) => Number(digits))
  .refine((id) => id <= 2_147_483_647)
  .transform((id) => id as UserId);

/** The data split at ':'; a tuple rejects missing and extra parts alike. */
const callbackSchema = z.union([
  z.tuple([z.literal('sc'), scenarioKey]).transform(([, key]): CallbackAction => ({ type: 'scenario', key })),
  z
    .tuple([z.literal('sd'), scenarioKey, difficulty])
    .transform(([, key, level]): CallbackAction => ({ type: 'difficulty', key, difficulty: level })),
  z
    .tuple([z.literal('switch'), z.enum(switchAnswers)])
    .transform(([, answer]): CallbackAction => ({ type: 'switch-scenario', answer })),
  z.tuple([z.literal('invite'), optionIndex]).transform(([, index]): CallbackAction => ({ type: 'invite-option', index })),
  z.tuple([z.literal('vr'), messageId]).transform(([, id]): CallbackAction => ({ type: 'retry-transcription', messageId: id })),
  z
    .tuple([z.literal('vm'), z.enum(voiceModeChoices)])
    .transform(([, choice]): CallbackAction => ({ type: 'voice-mode', choice })),
  z
    .tuple([z.literal('cancel'), z.enum(cancelAnswers)])
    .transform(([, answer]): CallbackAction => ({ type: 'cancel-training', answer })),
  z
    .tuple([z.literal('rp'), scenarioKey, difficulty])
    .transform(([, key, level]): CallbackAction => ({ type: 'repeat-training', key, difficulty: level })),
  z.tuple([z.literal('menu')]).transform((): CallbackAction => ({ type: 'scenario-menu' })),
  z.tuple([z.literal('pe'), sessionId]).transform(([, id]): CallbackAction => ({ type: 'past-evaluation', sessionId: id })),
  z.tuple([z.literal('tm'), userId]).transform(([, id]): CallbackAction => ({ type: 'team-member', userId: id })),
  z.tuple([z.literal('ts'), sessionId]).transform(([, id]): CallbackAction => ({ type: 'team-session', sessionId: id })),
  z.tuple([z.literal('tt'), sessionId]).transform(([, id]): CallbackAction => ({ type: 'team-transcript', sessionId: id })),
  z.tuple([z.literal('rv'), sessionId]).transform(([, id]): CallbackAction => ({ type: 'review-evaluation', sessionId: id })),
  z.tuple([z.literal('dp'), sessionId]).transform(([, id]): CallbackAction => ({ type: 'dispute-evaluation', sessionId: id })),
]);

/** Parses callback data; undefined for anything the bot did not send (forged, or from an old version). */
export function decodeCallback(data: string): CallbackAction | undefined {
  const parsed = callbackSchema.safeParse(data.split(':'));
  return parsed.success ? parsed.data : undefined;
}

/** A Telegram user id as a button carries it: digits, a safe integer. */
const telegramId = z
  .string()
  .regex(/^[1-9]\d{0,15}$/)
  .transform((digits) => Number(digits))
  .refine((id) => Number.isSafeInteger(id))
  .transform((id) => asTelegramId(id));

const adminCallbackSchema = z
  .tuple([z.literal('erase'), z.enum(eraseAnswers), telegramId])
  .transform(([, answer, id]): AdminCallbackAction => ({ type: 'erase', answer, telegramId: id }));

/** Parses the data of an administrator's button; undefined for anything else. */
export function decodeAdminCallback(data: string): AdminCallbackAction | undefined {
  const parsed = adminCallbackSchema.safeParse(data.split(':'));
  return parsed.success ? parsed.data : undefined;
}

const accessCallbackSchema = z
  .tuple([z.literal('admit'), telegramId])
  .transform(([, id]): AccessCallbackAction => ({ type: 'admit', telegramId: id }));

/** Parses the data of a «Допустить» button; undefined for anything else. */
export function decodeAccessCallback(data: string): AccessCallbackAction | undefined {
  const parsed = accessCallbackSchema.safeParse(data.split(':'));
  return parsed.success ? parsed.data : undefined;
}
