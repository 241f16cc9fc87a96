import { z } from 'zod';
import { difficultyLevels, type Difficulty } from '../../services/scenarios.js';

/** Every button the bot sends, as a typed value; the string form fits Telegram's 64 bytes. */
export type CallbackAction =
  | { readonly type: 'scenario'; readonly key: string }
  | { readonly type: 'difficulty'; readonly key: string; readonly difficulty: Difficulty };

const scenarioKey = z.string().regex(/^[a-z0-9-]{1,50}$/);
const difficulty = z.enum(difficultyLevels);

export function encodeCallback(action: CallbackAction): string {
  switch (action.type) {
    case 'scenario':
      return `sc:${action.key}`;
    case 'difficulty':
      return `sd:${action.key}:${action.difficulty}`;
    default: {
      const unreachable: never = action;
      throw new Error(`unknown action ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Parses callback data; undefined for anything the bot did not send (forged, or from an old version). */
export function decodeCallback(data: string): CallbackAction | undefined {
  const [type, key, level, ...rest] = data.split(':');
  if (rest.length > 0 || !scenarioKey.safeParse(key).success) return undefined;
  if (type === 'sc' && level === undefined) return { type: 'scenario', key: key! };
  if (type === 'sd') {
    const parsed = difficulty.safeParse(level);
    if (parsed.success) return { type: 'difficulty', key: key!, difficulty: parsed.data };
  }
  return undefined;
}
