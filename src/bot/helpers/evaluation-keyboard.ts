import { InlineKeyboard } from 'grammy';
import type { SessionId } from '../../db/ids.js';
import { difficultyLevels, type Difficulty } from '../../services/scenarios.js';
import { encodeCallback } from './callback-data.js';

type Translate = (key: string, variables?: Record<string, string | number>) => string;

/** Which training an evaluation was of: a session (or anything else naming its scenario and level). */
export interface EvaluatedAs {
  readonly scenarioKey: string;
  readonly difficulty: string;
  /** The session, when the trainee may dispute its evaluation («⚖️ Оспорить оценку»). */
  readonly id?: SessionId;
}

/**
 * The buttons under an evaluation: «🔁 Повторить» (the same scenario and difficulty, at once) and
 * «📋 Другой сценарий» (the menu). A level the bot does not know (a row older than the levels) gets
 * no repeat button: the menu still leads on. With the session's id, «⚖️ Оспорить оценку» below
 * (`disputable: false` once it is disputed).
 */
export function evaluationKeyboard(t: Translate, training: EvaluatedAs, options: { disputable?: boolean } = {}): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  if (isDifficulty(training.difficulty)) {
    keyboard.text(
      t('after-evaluation-repeat'),
      encodeCallback({ type: 'repeat-training', key: training.scenarioKey, difficulty: training.difficulty }),
    );
  }
  keyboard.text(t('after-evaluation-other'), encodeCallback({ type: 'scenario-menu' }));
  if (training.id !== undefined && options.disputable !== false) {
    keyboard.row().text(t('dispute-button'), encodeCallback({ type: 'dispute-evaluation', sessionId: training.id }));
  }
  return keyboard;
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
