import { undeliveredEvaluations } from '../../db/queries/evaluations.js';
import { lastMessageOfSessions } from '../../db/queries/messages.js';
import { activeSessionsWithChat, type TrainingSession } from '../../db/queries/sessions.js';
import { getUser } from '../../db/queries/users.js';
import type { RunQuery } from '../../db/retry.js';
import type { ScenarioCatalog } from '../scenarios.js';
import type { InterruptedWork } from './types.js';

/** Turns, /finish calls and evaluations that a crash left half done, found at start-up. */
export async function findInterruptedWork(query: RunQuery, scenarios: ScenarioCatalog): Promise<InterruptedWork> {
  const withScenario = <T extends { session: TrainingSession }>(row: T) => {
    const scenario = scenarios.find(row.session.scenarioKey);
    return scenario ? [{ ...row, scenario }] : [];
  };
  const active = await query('find the active sessions', (db) => activeSessionsWithChat(db));
  const lastMessagesOfActive = await query('read the last messages', (db) =>
    lastMessageOfSessions(
      db,
      active.map((a) => a.session.id),
    ),
  );
  const last = new Map(lastMessagesOfActive.map((m) => [m.sessionId, m]));
  const pendingFinishes = active.filter((a) => a.session.finishRequestedAt !== null).flatMap(withScenario);
  const unansweredTurns = active
    .filter((a) => a.session.finishRequestedAt === null)
    .flatMap((a) => {
      const message = last.get(a.session.id);
      if (message?.role === 'user' && message.kind !== 'text' && message.transcribedAt === null) {
        return withScenario(a).map((row) => ({ ...row, untranscribed: message }));
      }
      // A spoken turn in which nothing was heard was answered already: with "say it again".
      if (message?.role === 'user' && message.content === '') return [];
      if (message?.role === 'user') return withScenario(a);
      if (message?.role === 'assistant' && message.deliveredAt === null && message.telegramMessageId === null) {
        const previous = message;
        return withScenario(a).map((row) => ({ ...row, undeliveredReply: previous }));
      }
      return [];
    });
  const chats = new Map(active.map((a) => [a.session.userId, a]));
  const evaluations = await query('find undelivered evaluations', (db) => undeliveredEvaluations(db));
  const undelivered = [];
  for (const row of evaluations) {
    const chat = chats.get(row.session.userId) ?? (await query('find the trainee', (db) => getUser(db, row.session.userId)));
    if (chat) undelivered.push(...withScenario({ ...row, telegramId: chat.telegramId, languageCode: chat.languageCode }));
  }
  return { unansweredTurns, pendingFinishes, undeliveredEvaluations: undelivered };
}
