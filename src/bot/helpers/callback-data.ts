import { z } from 'zod';
import { difficultyLevels, type Difficulty } from '../../services/scenarios.js';

export const switchAnswers = ['yes', 'no'] as const;
/** To "abandon the running training and start the new one?": yes abandons, no keeps it. */
export type SwitchAnswer = (typeof switchAnswers)[number];

/** Every button the bot sends, as a typed value; the string form fits Telegram's 64 bytes. */
export type CallbackAction =
  | { readonly type: 'scenario'; readonly key: string }
  | { readonly type: 'difficulty'; readonly key: string; readonly difficulty: Difficulty }
  | { readonly type: 'switch-scenario'; readonly answer: SwitchAnswer }
  /** One option of the invite question on screen, by its position (an invite question has at most 10). */
  | { readonly type: 'invite-option'; readonly index: number };

// The string forms are the ones earlier versions sent: buttons already in chats keep meaning the same.
export function encodeCallback(action: CallbackAction): string {
  switch (action.type) {
    case 'scenario':
      return `sc:${action.key}`;
    case 'difficulty':
      return `sd:${action.key}:${action.difficulty}`;
    case 'switch-scenario':
      return `switch:${action.answer}`;
    case 'invite-option':
      return `invite:${action.index}`;
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

/** The data split at ':'; a tuple rejects missing and extra parts alike. */
const callbackSchema = z.union([
  z.tuple([z.literal('sc'), scenarioKey]).transform(([, key]): CallbackAction => ({ type: 'scenario', key })),
  z
    .tuple([z.literal('sd'), scenarioKey, difficulty])
    .transform(([, key, level]): CallbackAction => ({ type: 'difficulty', key, difficulty: level })),
  z.tuple([z.literal('switch'), z.enum(switchAnswers)]).transform(([, answer]): CallbackAction => ({ type: 'switch-scenario', answer })),
  z.tuple([z.literal('invite'), optionIndex]).transform(([, index]): CallbackAction => ({ type: 'invite-option', index })),
]);

/** Parses callback data; undefined for anything the bot did not send (forged, or from an old version). */
export function decodeCallback(data: string): CallbackAction | undefined {
  const parsed = callbackSchema.safeParse(data.split(':'));
  return parsed.success ? parsed.data : undefined;
}
