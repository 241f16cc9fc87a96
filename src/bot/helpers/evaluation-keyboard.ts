import { InlineKeyboard } from 'grammy';
import { difficultyLevels, type Difficulty } from '../../services/scenarios.js';
import { encodeCallback } from './callback-data.js';

type Translate = (key: string, variables?: Record<string, string | number>) => string;

/** Which training an evaluation was of: a session (or anything else naming its scenario and level). */
export interface EvaluatedAs {
  readonly scenarioKey: string;
  readonly difficulty: string;
}

/**
 * The buttons under an evaluation: «🔁 Повторить» (the same scenario and difficulty, at once) and
 * «📋 Другой сценарий» (the menu). A level the bot does not know (a row older than the levels) gets
 * no repeat button: the menu still leads on.
 */
export function evaluationKeyboard(t: Translate, training: EvaluatedAs): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  if (isDifficulty(training.difficulty)) {
    keyboard.text(
      t('after-evaluation-repeat'),
      encodeCallback({ type: 'repeat-training', key: training.scenarioKey, difficulty: training.difficulty }),
    );
  }
  return keyboard.text(t('after-evaluation-other'), encodeCallback({ type: 'scenario-menu' }));
}

/** The evaluation's messages as they are sent: HTML, with the buttons under the last one only. */
export function withKeyboardOnLast(
  parts: readonly string[],
  keyboard: InlineKeyboard,
): Array<{ readonly text: string; readonly other: { parse_mode: 'HTML'; reply_markup?: InlineKeyboard } }> {
  return parts.map((text, index) => ({
    text,
    other: index === parts.length - 1 ? { parse_mode: 'HTML', reply_markup: keyboard } : { parse_mode: 'HTML' },
  }));
}

/** A level as a session stores it (text) is one the scenarios know. */
export function isDifficulty(level: string): level is Difficulty {
  return (difficultyLevels as readonly string[]).includes(level);
}
