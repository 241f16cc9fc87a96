import type { Database } from '../db/client.js';
import type { UserId } from '../db/ids.js';
import { getVoicePreference, setVoicePreference, type VoicePreference } from '../db/queries/users.js';
import { resilientQueries } from '../db/retry.js';
import type { Logger } from '../logger.js';
import { repliesByVoiceByDefault, type Scenario } from './scenarios.js';

/** Whether the client answers a trainee with voice notes (/voice), kept in the users table across restarts. */
export interface VoiceModeService {
  preference(userId: UserId): Promise<VoicePreference>;
  setPreference(userId: UserId, preference: VoicePreference): Promise<void>;
  /** The trainee's choice, or the scenario's default when they made none. */
  repliesByVoice(userId: UserId, scenario: Pick<Scenario, 'voice'>): Promise<boolean>;
}

/** How many trainees' choices are remembered between their turns. */
const cacheSize = 10_000;

/**
 * Reads each trainee's choice once, then from memory (written through on every change): one process
 * polls Telegram. User ids are never reused, so an erased person's entry is simply never asked again.
 */
export function createVoiceModeService(db: Database, logger: Logger): VoiceModeService {
  const query = resilientQueries(db, logger);
  const cache = new Map<UserId, VoicePreference>();
  const remember = (userId: UserId, preference: VoicePreference) => {
    cache.delete(userId);
    cache.set(userId, preference);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
  };
  const service: VoiceModeService = {
    async preference(userId) {
      if (cache.has(userId)) return cache.get(userId)!;
      const preference = await query('read the voice mode', (db) => getVoicePreference(db, userId));
      remember(userId, preference);
      return preference;
    },
    async setPreference(userId, preference) {
      cache.delete(userId);
      await query('store the voice mode', (db) => setVoicePreference(db, userId, preference));
      remember(userId, preference);
    },
    async repliesByVoice(userId, scenario) {
      const preference = await service.preference(userId);
      return preference === null ? repliesByVoiceByDefault(scenario) : preference === 'on';
    },
  };
  return service;
}
