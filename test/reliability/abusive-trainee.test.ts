import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastTraineeLine, scriptedModel } from '../support/model-script.js';
import type { FakeUser } from '../support/telegram-fake.js';
import { startScenario, startWorld, type World } from './harness.js';
import { recordCase, recordFigures } from './report.js';

// The numbers: one trainee sends 300 texts in 30 s while 20 others train.
const OTHERS = 20;
const FLOOD = 300;
const FLOOD_MS = 30_000;
/** Each of the others: this many turns, a person's pause between them (under the default 20 a minute). */
const TURNS = 16;
const THINK_MS = 3_500;
/**
 * The flood comes in two windows of 15 s (150 texts each, 10 a second) between quiet stretches, so
 * that a change in the machine's load (the suite shares two cores) falls on both kinds of turn alike.
 * A turn sent from a window's start to 2 s after its end counts as flooded.
 */
const WINDOWS = [
  { startMs: 16_000, ms: FLOOD_MS / 2 },
  { startMs: 48_000, ms: FLOOD_MS / 2 },
];
const AFTER_FLOOD_MS = 2_000;
/** The model answers in about a second: 700 ms, then four chunks 100 ms apart. */
const MODEL_DELAY_MS = 700;
const CHUNK_GAP_MS = 100;
const TOLERANCE = 0.1;

const abuserId = 7_601;
const otherIds = Array.from({ length: OTHERS }, (_, i) => 7_610 + i);
let world: World;

beforeAll(async () => {
  // The production limits (20 a minute, 5 at once), not the world's relaxed ones.
  world = await startWorld({
    trainees: [abuserId, ...otherIds],
    env: { TURN_RATE_PER_MINUTE: '20', TURN_BURST: '5', FINISH_RATE_PER_HOUR: '10' },
  });
});
afterAll(async () => {
  await world?.close();
});

const answerTo = (line: string) => `Клиент отвечает на: ${line}`;

interface Turn {
  /** When it was sent, ms after the run's start. */
  readonly sentAt: number;
  readonly waitMs: number;
}

/** One of the others trains: a turn, the answer, a pause. */
async function train(user: FakeUser, start: number): Promise<Turn[]> {
  const turns: Turn[] = [];
  // Not all in step: people do not type in unison.
  await sleep(Math.random() * THINK_MS);
  for (let turn = 0; turn < TURNS; turn++) {
    const line = `[${user.id}] реплика ${turn}`;
    const sent = Date.now();
    user.sendText(line);
    await user.waitForMessage((m) => m.text === answerTo(line), 30_000);
    turns.push({ sentAt: sent - start, waitMs: Date.now() - sent });
    await sleep(THINK_MS);
  }
  return turns;
}

const duringFlood = (turn: Turn) =>
  WINDOWS.some((w) => turn.sentAt >= w.startMs && turn.sentAt < w.startMs + w.ms + AFTER_FLOOD_MS);

/** The flooder: 10 texts a second through each window. */
async function flood(user: FakeUser, start: number): Promise<void> {
  let sent = 0;
  for (const window of WINDOWS) {
    await sleep(Math.max(0, start + window.startMs - Date.now()));
    const windowStart = Date.now();
    const count = (FLOOD * window.ms) / FLOOD_MS;
    for (let i = 0; i < count; i++) {
      user.sendText(`Спам ${sent++}`);
      await sleep(Math.max(0, windowStart + ((i + 1) * window.ms) / count - Date.now()));
    }
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('one abusive trainee', () => {
  it('300 texts in 30 s leave the other 20 trainees’ latency unchanged within 10%', { timeout: 240_000 }, async (context) => {
    recordCase(context, {
      area: 'load',
      case: 'one trainee floods 300 texts in 30 s beside 20 training',
      action:
        'one trainee sends 300 texts in 30 s (10 a second, in two 15 s windows) while 20 others train ' +
        '(a turn every ~4.5 s, model ~1 s); their turns in the windows are compared with those outside',
      traineeSaw:
        'the others: answers as fast as without the flood; the flooder: one notice that texts over the rate are not passed on',
      checked: 'the others’ p50/p95 wait within 10%; the flooder’s model calls held to the turn rate',
    });
    const { telegram, openai, database } = world;
    openai.respondWith(
      scriptedModel((request) => ({
        content: answerTo(lastTraineeLine(request)),
        delayMs: MODEL_DELAY_MS,
        chunkDelayMs: CHUNK_GAP_MS,
      })),
    );
    const abuser = telegram.user(abuserId);
    const others = otherIds.map((id) => telegram.user(id));
    await Promise.all([abuser, ...others].map((user) => startScenario(user)));
    // Warm-up: one turn each, so that neither phase pays the first requests' costs.
    await Promise.all(
      others.map(async (user) => {
        user.sendText(`[${user.id}] разминка`);
        await user.waitForMessage((m) => m.text === answerTo(`[${user.id}] разминка`), 30_000);
      }),
    );

    const opened = abuser.messages().length;
    const start = Date.now();
    const [turns] = await Promise.all([
      Promise.all(others.map((user) => train(user, start))).then((all) => all.flat()),
      flood(abuser, start),
    ]);
    await sleep(2_000); // the flooder's last answered turn lands
    const quiet = turns.filter((turn) => !duringFlood(turn)).map((turn) => turn.waitMs);
    const flooded = turns.filter(duringFlood).map((turn) => turn.waitMs);

    const figures = {
      quietP50: percentile(quiet, 50),
      quietP95: percentile(quiet, 95),
      floodP50: percentile(flooded, 50),
      floodP95: percentile(flooded, 95),
    };
    const abuserSaw = abuser.messages().slice(opened);
    const answered = abuserSaw.filter((m) => m.text.startsWith('Клиент отвечает на: Спам'));
    const notices = abuserSaw.filter((m) => m.text.startsWith('⏸ Слишком много сообщений подряд'));
    const storedSpam = Number(
      (
        await database.db.execute<{ n: number }>(
          `select count(*)::int as n from messages m join sessions s on s.id = m.session_id join users u on u.id = s.user_id
           where u.telegram_id = ${abuserId} and m.role = 'user' and m.content like 'Спам %'`,
        )
      )[0]!.n,
    );
    console.log(
      `others' wait p50/p95: ${figures.quietP50}/${figures.quietP95} ms without the flood, ` +
        `${figures.floodP50}/${figures.floodP95} ms with it; the flooder: ${answered.length} answered, ` +
        `${notices.length} notices, ${storedSpam} stored of ${FLOOD}`,
    );
    recordFigures(context, {
      'others p50 ms (no flood / flood)': `${figures.quietP50} / ${figures.floodP50}`,
      'others p95 ms (no flood / flood)': `${figures.quietP95} / ${figures.floodP95}`,
      'flooder answered / notices / of': `${answered.length} / ${notices.length} / ${FLOOD}`,
    });

    expect(turns).toHaveLength(OTHERS * TURNS);
    expect(Math.min(quiet.length, flooded.length)).toBeGreaterThan(100);
    expect(figures.floodP50).toBeLessThanOrEqual(figures.quietP50 * (1 + TOLERANCE));
    expect(figures.floodP95).toBeLessThanOrEqual(figures.quietP95 * (1 + TOLERANCE));
    // The burst of 5, then 20 a minute over the 30 s: about 15, never the 300.
    expect(answered.length).toBeGreaterThanOrEqual(5);
    // Each window: a fresh burst of 5 (the bucket refills in between), then 20 a minute.
    expect(answered.length).toBeLessThanOrEqual(WINDOWS.length * (5 + Math.ceil((FLOOD_MS / 2 + AFTER_FLOOD_MS) / 3_000)));
    // Only what was answered was stored: a refused text never reaches the dialogue (nor the judge).
    expect(storedSpam).toBe(answered.length);
    expect(notices.length).toBeGreaterThanOrEqual(1);
    expect(notices.length).toBeLessThanOrEqual(answered.length + 1);
  });
});
