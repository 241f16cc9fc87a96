/**
 * Bad input: every kind of update a private chat can send, to a trainee without a session and to one
 * in the middle of a role-play; then random interleavings of such updates for three trainees at once.
 * Whatever arrives, the trainee gets an answer, the bot keeps running and no turn is lost or doubled.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createI18n } from '../../src/bot/i18n.js';
import { loadScenarios } from '../../src/services/scenarios.js';
import { isJudgeRequest, judgeVerdict, lastTraineeLine, scriptedModel } from '../support/model-script.js';
import { transcriptOf, type RecordedRequest } from '../support/openai-fake.js';
import type { BotMessage, CallbackAnswer, FakeUser } from '../support/telegram-fake.js';
import { checkInvariants, count, startScenario, startWorld, waitForSheet, type World } from './harness.js';
import { recordCase, recordFigures } from './report.js';

type Json = Record<string, unknown>;

const idleId = 7301;
const playingId = 7302;
const crowdIds = [7311, 7312, 7313] as const;
const firstName = 'Анна';

/** How long a trainee may wait for the answer to one update. */
const answerWithinMs = 5_000;

const i18n = createI18n('ru');
const t = (key: string, variables?: Record<string, string | number>): string => i18n.t('ru', key, variables);

/** The scenario every button here names; the texts the trainee must see come from it. */
const coldCall = (await loadScenarios(path.resolve(import.meta.dirname, '../../scenarios'))).get('cold-call');

/** What the model stand-in says as the client: an echo, so each reply names the turn it answers. */
const clientLine = (traineeText: string): string => `Клиент отвечает на: ${traineeText}`;

let world: World;

/** A judge that quotes `quote` as the evidence for every criterion (its instructions ask for verbatim quotes). */
function judgeQuoting(quote: string) {
  return (request: RecordedRequest): string => {
    if (!isJudgeRequest(request)) return clientLine(lastTraineeLine(request));
    const verdict = JSON.parse(judgeVerdict(request)) as { criteria: Json[] };
    return JSON.stringify({ ...verdict, criteria: verdict.criteria.map((c) => ({ ...c, evidence: quote })) });
  };
}

// ---------------------------------------------------------------------------------------------
// What a trainee must get back

/** The answer one update deserves; `shown` is how the report describes it. */
interface Expected {
  readonly shown: string;
  /** Bot messages that must arrive in this chat, in this order. */
  readonly replies: readonly ((message: BotMessage) => boolean)[];
  /** For a button press: the text of its answer ('' for a silent answer that only stops the spinner). */
  readonly alert?: string;
}

const firstLine = (text: string): string => text.split('\n')[0]!;

function says(key: string, variables?: Record<string, string | number>): Expected {
  const text = t(key, variables);
  return { shown: `«${firstLine(text)}»`, replies: [(m) => m.visibleText === text] };
}

function alerts(key: string): Expected {
  return { shown: `an alert «${t(key)}»`, replies: [], alert: t(key) };
}

function clientAnswers(text: string): Expected {
  // The bot trims the reply and splits it at 4096 characters: its beginning is enough to recognise it.
  const beginning = clientLine(text).trim().slice(0, 100);
  return { shown: "the client's answer to it", replies: [(m) => m.visibleText.startsWith(beginning)] };
}

/** `first`, then the messages of `rest`, as one answer (the button answer is `first`'s). */
function then(first: Expected, ...rest: readonly Expected[]): Expected {
  return {
    shown: [first, ...rest].map((e) => e.shown).join(', then '),
    replies: [first, ...rest].flatMap((e) => e.replies),
    ...(first.alert !== undefined ? { alert: first.alert } : {}),
  };
}

const silentAnswer: Expected = { shown: 'the button answered', replies: [], alert: '' };
const outdated = alerts('menu-outdated');
const evaluation: Expected = { shown: 'the evaluation «NN/100 …»', replies: [(m) => /^\d{1,3}\/100\n/.test(m.visibleText)] };
const difficultyMenu = says('menu-choose-difficulty', { title: coldCall.title, description: coldCall.description });
const sessionStarted = then(
  says('session-started', { title: coldCall.title, difficulty: coldCall.difficulties.easy.label }),
  { shown: 'the client card', replies: [(m) => m.visibleText.startsWith('🗂 Карточка клиента\n')] },
  {
    shown: 'the opening line',
    replies: [(m) => m.visibleText === coldCall.persona.openingLine.trim()],
  },
);
/** Long quotes are shortened, so even a judge quoting a 4096-character turn fits one message. */
const evaluationInFull: Expected = {
  shown: 'the whole evaluation in one message, long quotes shortened',
  replies: [(m) => /^\d{1,3}\/100\n/.test(m.visibleText) && m.visibleText.endsWith(t('evaluation-next'))],
};
const hint: Expected = {
  shown: '«⏳…», then a hint for the moment (or its passage)',
  replies: [
    (m) => m.visibleText === t('hint-thinking'),
    (m) => m.visibleText.startsWith('💡 ') || m.visibleText === t('hint-nothing'),
  ],
};

// ---------------------------------------------------------------------------------------------
// Updates, built as Telegram sends them where the fake has no method for them

/** What sending an update returns: the update id of a message, or the button press that must be answered. */
type Sent = number | { readonly callbackId: string };

const unixNow = (): number => Math.floor(Date.now() / 1000);
const privateChat = (user: FakeUser): Json => ({ id: user.id, type: 'private', first_name: user.info.first_name });
const file = (kind: string, extra: Json = {}): Json => ({
  file_id: `${kind}-file-id`,
  file_unique_id: `${kind}-unique-id`,
  ...extra,
});

/**
 * Message ids of a private chat are one sequence for both sides; taking the next one from the fake
 * keeps hand-built messages in it (the bot deduplicates turns by message id).
 */
function nextMessageId(user: FakeUser): number {
  return world.telegram.chat(user.id).nextMessageId++;
}

function messageFrom(user: FakeUser, messageId: number, content: Json): Json {
  return { message_id: messageId, from: user.info, chat: privateChat(user), date: unixNow(), ...content };
}

function sendMessageWith(user: FakeUser, content: Json): number {
  return user.sendUpdate({ message: messageFrom(user, nextMessageId(user), content) });
}

/** The trainee edits the last message they sent (or, before any, one the bot never saw). */
function editLastMessage(user: FakeUser, text: string): number {
  const messageId = user.lastSentMessageId ?? nextMessageId(user);
  return user.sendUpdate({ edited_message: messageFrom(user, messageId, { text, edit_date: unixNow() }) });
}

function botMessage(user: FakeUser, messageId: number, text: string, date = unixNow()): Json {
  const { id, is_bot, first_name, username } = world.telegram.botUser;
  return { message_id: messageId, from: { id, is_bot, first_name, username }, chat: privateChat(user), date, text };
}

/** The first menu the bot sent in this chat: its buttons are long out of date. */
function oldMenu(user: FakeUser): Json {
  const menu = user.messages().find((m) => m.reply_markup !== undefined);
  return botMessage(user, menu?.message_id ?? 1, menu?.visibleText ?? t('menu-title'), menu?.date);
}

/** A message the chat no longer holds (the trainee deleted it). */
const deletedMessage = (user: FakeUser): Json => botMessage(user, 999_999, t('menu-title'));

/** What Telegram attaches instead of a message older than 48 hours (InaccessibleMessage). */
const inaccessibleMessage = (user: FakeUser): Json => ({ chat: privateChat(user), message_id: 1, date: 0 });

/**
 * A button press the bot did not offer in this form. The query id is registered with the fake so
 * that the bot's answer to it is accepted, as Telegram accepts an answer to any fresh query.
 */
function pressButtonOn(user: FakeUser, data: string, message: Json): Sent {
  const callbackId = world.telegram.newCallbackId(user.id);
  user.sendUpdate({ callback_query: { id: callbackId, from: user.info, message, chat_instance: `instance-${user.id}`, data } });
  return { callbackId };
}

// ---------------------------------------------------------------------------------------------
// The inputs

interface BadInput {
  readonly name: string;
  readonly send: (user: FakeUser) => Sent;
  readonly idle: Expected;
  readonly inSession: Expected;
  /** The text that becomes a role-play turn when it is sent during a session. */
  readonly turn?: string;
}

/** An update whose answer does not depend on whether a session is running. */
function anytime(name: string, send: (user: FakeUser) => Sent, expected: Expected): BadInput {
  return { name, send, idle: expected, inSession: expected };
}

/** A text: nothing to do without a session, a turn of the role-play within one. */
function text(name: string, content: string, send = (user: FakeUser): Sent => user.sendText(content)): BadInput {
  return { name, send, idle: says('chat-no-session'), inSession: clientAnswers(content), turn: content };
}

const voice = says('unhandled-voice');
/** A real voice note (Ogg Opus): in a session it is heard, shown back and answered like a text. */
const voiceNote = readFileSync(path.resolve(import.meta.dirname, '../fixtures/voice-turn.ogg'));
const spokenLine = transcriptOf(voiceNote);
/** A note whose file Telegram does not know: kept, with a button to try again. */
const undownloadable: Expected = { ...says('voice-download-failed') };
const media = says('unhandled-media');
const notUnderstood = says('unhandled-other');

const messageKinds: readonly BadInput[] = [
  anytime('an edited message', (u) => editLastMessage(u, 'Исправленная реплика'), says('unhandled-edited')),
  anytime('a sticker', (u) => u.sendSticker(), says('unhandled-sticker')),
  anytime('a photo with a caption', (u) => u.sendPhoto('Вот наш прайс'), media),
  anytime('a document', (u) => u.sendDocument('прайс.pdf'), media),
  {
    name: 'a voice message',
    send: (u) => u.sendVoice(voiceNote, 9),
    idle: voice,
    inSession: then(says('voice-heard', { transcript: spokenLine }), clientAnswers(spokenLine)),
    turn: spokenLine,
  },
  {
    name: 'a video note Telegram cannot hand over',
    send: (u) => sendMessageWith(u, { video_note: file('video-note', { length: 240, duration: 5 }) }),
    idle: voice,
    inSession: undownloadable,
  },
  {
    name: 'an audio file Telegram cannot hand over',
    send: (u) => sendMessageWith(u, { audio: file('audio', { duration: 120, title: 'Звонок' }) }),
    idle: voice,
    inSession: undownloadable,
  },
  anytime('a video', (u) => sendMessageWith(u, { video: file('video', { width: 640, height: 360, duration: 10 }) }), media),
  // Telegram sends an animation with a `document` copy of it, for old clients.
  anytime(
    'an animation (GIF)',
    (u) => sendMessageWith(u, { animation: file('gif', { width: 320, height: 240, duration: 2 }), document: file('gif') }),
    media,
  ),
  anytime('a location', (u) => u.sendLocation(), notUnderstood),
  anytime('a contact', (u) => u.sendContact(), notUnderstood),
  anytime(
    'a poll',
    (u) =>
      sendMessageWith(u, {
        poll: {
          id: 'poll-1',
          question: 'Берём?',
          options: [
            { text: 'Да', voter_count: 0 },
            { text: 'Нет', voter_count: 0 },
          ],
          total_voter_count: 0,
          is_closed: false,
          is_anonymous: true,
          type: 'regular',
          allows_multiple_answers: false,
        },
      }),
    notUnderstood,
  ),
  anytime('a dice', (u) => sendMessageWith(u, { dice: { emoji: '🎲', value: 4 } }), notUnderstood),
];

const junkCommands: readonly BadInput[] = [
  anytime('/scenarios ../../etc/passwd', (u) => u.sendText('/scenarios ../../etc/passwd'), says('menu-title')),
  anytime(
    '/start with a 200-character payload',
    (u) => u.sendText(`/start ${'payload-Ω'.repeat(23).slice(0, 200)}`),
    then(says('start-welcome', { name: firstName }), says('menu-title')),
  ),
  anytime('/unknowncommand', (u) => u.sendText('/unknowncommand'), says('unhandled-command')),
];

const forgedButtons: readonly BadInput[] = [
  anytime('button «sc:nope» on an old menu', (u) => pressButtonOn(u, 'sc:nope', oldMenu(u)), outdated),
  anytime(
    'button «sd:cold-call:impossible» on an old menu',
    (u) => pressButtonOn(u, 'sd:cold-call:impossible', oldMenu(u)),
    outdated,
  ),
  anytime(
    'button with random bytes as data',
    (u) => pressButtonOn(u, '\u0000\u001b\u007f\u00c3\u0028\u00fe\u00ff', oldMenu(u)),
    outdated,
  ),
  anytime('button with 64 characters of data', (u) => pressButtonOn(u, `sc:${'a'.repeat(61)}`, oldMenu(u)), outdated),
  anytime(
    'button «sc:cold-call» on a deleted message',
    (u) => pressButtonOn(u, 'sc:cold-call', deletedMessage(u)),
    then(silentAnswer, difficultyMenu),
  ),
  anytime(
    'button «sc:cold-call» on a message older than 48 hours',
    (u) => pressButtonOn(u, 'sc:cold-call', inaccessibleMessage(u)),
    then(silentAnswer, difficultyMenu),
  ),
];

const longText = 'Добрый день! Я звоню по поводу вашей системы учёта заявок. '.repeat(70).slice(0, 4096);
const forwarded = 'Пересланное: а скидка будет?';
const oddTexts: readonly BadInput[] = [
  text('a text of exactly 4096 characters', longText),
  text('only zero-width characters', '\u200b\u200c\u200d\u2060'),
  text('right-to-left text with a direction override', '\u202eалам оньлетивтсйед\u202c مرحبا، كم السعر؟'),
  text('emoji only', '🙂👍🔥👨‍👩‍👧‍👦🏳️‍🌈'),
  text('only whitespace and newlines', ' \n\n\t \n '),
  text('control characters', 'Цена\u0001\u0008\u001b\u007f\ufffe\uffffзавтра'),
  text('a forwarded text', forwarded, (u) =>
    sendMessageWith(u, {
      text: forwarded,
      forward_origin: { type: 'hidden_user', sender_user_name: 'Коллега', date: unixNow() - 3600 },
    }),
  ),
];

/** PostgreSQL refuses U+0000 in text: until the bot drops it before storing, this turn is lost and its test fails. */
/** PostgreSQL cannot hold U+0000: the turn is stored and answered without it. */
const nulText: BadInput = {
  ...text('a NUL character inside a text', 'Добрый день', (user) => user.sendText('Добрый\u0000 день')),
};

const finishWithJunk: BadInput = {
  name: '/finish lol',
  send: (u) => u.sendText('/finish lol'),
  idle: says('finish-no-session'),
  inSession: then(says('finish-judging'), evaluation),
};

// ---------------------------------------------------------------------------------------------
// Checks

/** Everything one test (or one property run) sent, to check afterwards that nothing broke. */
interface Round {
  readonly logOffset: number;
  readonly lastMessageIdBefore: number;
  /** The texts sent as role-play turns, each while its sender had an active session. */
  readonly turns: string[];
}

async function beginRound(): Promise<Round> {
  const lastMessageIdBefore = await count(world.database, 'select coalesce(max(id), 0)::int as n from messages');
  return { logOffset: world.allOutput().length, lastMessageIdBefore, turns: [] };
}

/** Sends the input; a text sent in a session is a turn of this round. Returns the answer it deserves. */
function send(round: Round, user: FakeUser, input: BadInput, inSession: boolean): { sent: Sent; expected: Expected } {
  const sent = input.send(user);
  if (inSession && input.turn !== undefined) round.turns.push(input.turn);
  return { sent, expected: inSession ? input.inSession : input.idle };
}

async function callbackAnswer(user: FakeUser, callbackId: string): Promise<CallbackAnswer> {
  return world.telegram.waitUntil(
    () => user.callbackAnswers().find((a) => a.callback_query_id === callbackId),
    answerWithinMs,
    () => `the button press ${callbackId} in chat ${user.id} was never answered`,
  );
}

async function expectAnswer(user: FakeUser, { sent, expected }: { sent: Sent; expected: Expected }): Promise<void> {
  const messages = async (): Promise<void> => {
    for (const reply of expected.replies) await user.waitForMessage(reply, answerWithinMs);
  };
  const buttonAnswer = async (): Promise<void> => {
    if (typeof sent === 'number') return;
    expect((await callbackAnswer(user, sent.callbackId)).text ?? '').toBe(expected.alert ?? '');
  };
  await Promise.all([messages(), buttonAnswer()]);
}

async function hasActiveSession(user: FakeUser): Promise<boolean> {
  const active = await count(
    world.database,
    `select count(*)::int as n from sessions s join users u on u.id = s.user_id where u.telegram_id = ${user.id} and s.status = 'active'`,
  );
  return active > 0;
}

/** Error-level lines (pino level 50 and up) the bot printed since `offset`. */
function errorLinesSince(offset: number): string[] {
  // Read from the line's start: the last line may still be half written.
  const levelOf = (line: string): number => Number(/^\{"level":(\d+)/.exec(line)?.[1] ?? 0);
  return world
    .allOutput()
    .slice(offset)
    .split('\n')
    .filter((line) => levelOf(line) >= 50);
}

/**
 * The bot is alive and logged no error; the round's turns, and nothing else, were stored once each;
 * every evaluation has one sheet row.
 */
async function expectNothingBroken(round: Round): Promise<void> {
  expect(world.bot.child.exitCode, 'the bot process exited').toBeNull();
  expect(errorLinesSince(round.logOffset)).toEqual([]);
  // A voice note Telegram would not hand over is kept without words, for a retry: not a turn yet.
  const stored = await world.database.db.execute<{ content: string }>(
    `select content from messages where role = 'user' and content <> '' and id > ${round.lastMessageIdBefore}`,
  );
  expect(stored.map((m) => m.content).sort()).toEqual([...round.turns].sort());
  await waitForSheet(world);
  // Turns are checked per round above (stricter, and a lost turn fails only its own test).
  expect(await checkInvariants(world, [])).toEqual([]);
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  world = await startWorld({ trainees: [idleId, playingId, ...crowdIds] });
  world.openai.respondWith(scriptedModel((request) => clientLine(lastTraineeLine(request))));
});

afterAll(async () => {
  await world?.close();
});

describe('every kind of update a private chat can send', () => {
  let idle: FakeUser;
  let playing: FakeUser;
  let probes = 0;

  /** A normal turn still gets its answer, and a text without a session its pointer to /scenarios. */
  async function expectStillAnswering(round: Round): Promise<void> {
    probes += 1;
    const probe = text('probe', `Проверка связи №${probes}`);
    await Promise.all([
      expectAnswer(idle, send(round, idle, probe, false)),
      expectAnswer(playing, send(round, playing, probe, true)),
    ]);
  }

  beforeAll(async () => {
    idle = world.telegram.user(idleId, { firstName, languageCode: 'ru' });
    playing = world.telegram.user(playingId, { firstName, languageCode: 'ru' });
    await startScenario(playing);
    await expectStillAnswering(await beginRound());
  });

  for (const input of [...messageKinds, ...junkCommands, finishWithJunk, ...forgedButtons, ...oddTexts, nulText]) {
    it(input.name, async (context) => {
      recordCase(context, {
        area: 'bad input',
        case: input.name,
        action: `${input.name} — from a trainee without a session and from one in the middle of a role-play`,
        traineeSaw:
          input.idle === input.inSession
            ? input.idle.shown
            : `without a session ${input.idle.shown}; in a session ${input.inSession.shown}`,
        checked: `answered within ${answerWithinMs / 1000} s in both chats, then a normal turn answered; bot alive; no error logged; every turn stored once, nothing else stored`,
      });
      const round = await beginRound();
      await Promise.all([
        expectAnswer(idle, send(round, idle, input, false)),
        expectAnswer(playing, send(round, playing, input, true)),
      ]);
      // /finish ends the role-play; the next input must again meet a trainee in the middle of one.
      if (!(await hasActiveSession(playing))) await startScenario(playing);
      await expectStillAnswering(round);
      await expectNothingBroken(round);
    });
  }

  // The evaluation is HTML; split at 4096 characters it must not break inside a tag.
  it('a 4096-character turn that the judge quotes in full', async (context) => {
    recordCase(context, {
      area: 'bad input',
      case: 'a 4096-character turn quoted by the judge',
      action:
        'a trainee in a role-play sends 4096 characters of sentences, then /finish; the judge quotes the turn verbatim as evidence for every criterion, as its instructions ask',
      traineeSaw: 'the whole evaluation, split into several messages',
      checked:
        'every part of the evaluation arrives (its first line NN/100, its last the pointer to /scenarios); no error logged; the turn stored once',
    });
    const round = await beginRound();
    const longTurn = text('a long turn', longText.replaceAll('Добрый день!', 'Здравствуйте!'));
    await expectAnswer(playing, send(round, playing, longTurn, true));
    world.openai.respondWith(judgeQuoting(longTurn.turn!));
    try {
      await expectAnswer(playing, {
        sent: playing.sendText('/finish'),
        expected: then(says('finish-judging'), evaluationInFull),
      });
    } finally {
      world.openai.respondWith(scriptedModel((request) => clientLine(lastTraineeLine(request))));
    }
    await startScenario(playing);
    await expectStillAnswering(round);
    await expectNothingBroken(round);
  });
});

// ---------------------------------------------------------------------------------------------
// Random interleavings

/** One thing a trainee of the crowd does. Texts and odd updates are inputs; the rest change the session. */
type Move =
  | { readonly kind: 'input'; readonly input: BadInput }
  | { readonly kind: 'finish'; readonly command: string }
  | { readonly kind: 'hint' }
  /** An old difficulty button: starts a session, or asks whether to abandon the running one. */
  | { readonly kind: 'pick-difficulty' }
  | { readonly kind: 'answer-switch'; readonly data: 'switch:yes' | 'switch:no' };

interface Step {
  readonly trainee: number;
  readonly move: Move;
}

/** What a crowd trainee's chat should be like; the model the property checks the bot against. */
interface TraineeState {
  readonly user: FakeUser;
  inSession: boolean;
  turnsInSession: number;
  askedToSwitch: boolean;
}

/** Sends the move and returns the answer it deserves, moving the trainee's state along. */
function play(round: Round, trainee: TraineeState, move: Move): { sent: Sent; expected: Expected } {
  const { user, inSession } = trainee;
  // The switch question waits for its buttons; anything else leaves it and is handled as usual.
  const asked = trainee.askedToSwitch;
  trainee.askedToSwitch = false;
  switch (move.kind) {
    case 'input':
      if (inSession && move.input.turn !== undefined) trainee.turnsInSession += 1;
      return send(round, user, move.input, inSession);
    case 'finish': {
      const sent = user.sendText(move.command);
      if (!inSession) return { sent, expected: says('finish-no-session') };
      if (trainee.turnsInSession === 0) return { sent, expected: says('finish-nothing-said', { title: coldCall.title }) };
      trainee.inSession = false;
      trainee.turnsInSession = 0;
      return { sent, expected: then(says('finish-judging'), evaluation) };
    }
    case 'hint':
      return { sent: user.sendText('/hint'), expected: inSession ? hint : says('hint-no-session') };
    case 'pick-difficulty': {
      const sent = pressButtonOn(user, 'sd:cold-call:easy', oldMenu(user));
      if (!inSession) {
        trainee.inSession = true;
        trainee.turnsInSession = 0;
        return { sent, expected: then(silentAnswer, sessionStarted) };
      }
      trainee.askedToSwitch = true;
      return {
        sent,
        expected: then(silentAnswer, says('session-switch-confirm', { title: coldCall.title, newTitle: coldCall.title })),
      };
    }
    case 'answer-switch': {
      const sent = pressButtonOn(user, move.data, deletedMessage(user));
      if (!asked) return { sent, expected: outdated };
      if (move.data === 'switch:no')
        return { sent, expected: then(silentAnswer, says('session-switch-kept', { title: coldCall.title })) };
      trainee.turnsInSession = 0;
      return { sent, expected: then(silentAnswer, says('session-abandoned', { title: coldCall.title }), sessionStarted) };
    }
    default: {
      const unreachable: never = move;
      throw new Error(`unknown move ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Names a move in fast-check's counterexamples instead of dumping its functions. */
function named<T extends object>(move: T, name: string): T {
  return Object.assign(move, { [fc.toStringMethod]: () => name });
}

const plainLines = [
  'Добрый день! Удобно говорить?',
  'Сколько у вас продавцов?',
  'Покажу демо в четверг?',
  'Понимаю, дорого. Сколько заявок вы теряете?',
];
const input = (bad: BadInput): Move => named({ kind: 'input', input: bad }, bad.name);
const moves: fc.Arbitrary<Move> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(...plainLines), fc.nat(999))
      .map(([line, n]) => input(text(`«${line} ${n}»`, `${line} ${n}`))),
  },
  { weight: 3, arbitrary: fc.constantFrom(...oddTexts).map(input) },
  { weight: 4, arbitrary: fc.constantFrom(...messageKinds, ...junkCommands, ...forgedButtons).map(input) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('/finish', '/finish lol').map((command) => named<Move>({ kind: 'finish', command }, command)),
  },
  { weight: 1, arbitrary: fc.constant(named<Move>({ kind: 'hint' }, '/hint')) },
  { weight: 3, arbitrary: fc.constant(named<Move>({ kind: 'pick-difficulty' }, 'sd:cold-call:easy')) },
  // Heavier than it would be in life: the switch question is answered only when the same trainee's next update is one of these.
  {
    weight: 4,
    arbitrary: fc.constantFrom('switch:yes', 'switch:no').map((data) => named<Move>({ kind: 'answer-switch', data }, data)),
  },
);
const sequences = fc.array(fc.record({ trainee: fc.nat({ max: crowdIds.length - 1 }), move: moves }), {
  minLength: 5,
  maxLength: 15,
});

describe('random sequences of such updates for three trainees at once', () => {
  const runs = 200;
  // fast-check prints the seed of a failing run; BAD_INPUT_SEED replays it.
  const seed = Number(process.env.BAD_INPUT_SEED ?? Math.floor(Math.random() * 2 ** 31));

  it('every update answered, in order, for each trainee; bot alive; every turn stored once (fast-check)', async (context) => {
    recordCase(context, {
      area: 'bad input',
      case: 'random interleaved sequences (fast-check)',
      action: `${runs} random sequences of 5–15 updates for 3 trainees at once, sent without waiting: the updates above, normal texts, /finish, /hint, old difficulty and switch buttons`,
      traineeSaw: 'for each update, in order, the answer a model of the trainee’s session predicts',
      checked:
        'each answer within 5 s; bot alive; no error logged; turns sent in a session stored once each, nothing else; one evaluation per finished session and one sheet row each',
    });
    const crowd: TraineeState[] = crowdIds.map((id) => ({
      user: world.telegram.user(id, { firstName, languageCode: 'ru' }),
      inSession: false,
      turnsInSession: 0,
      askedToSwitch: false,
    }));
    let updates = 0;
    const started = Date.now();

    await fc.assert(
      fc.asyncProperty(sequences, async (steps: readonly Step[]) => {
        const round = await beginRound();
        // All updates go out at once, interleaved; each chat's answers are then awaited in order.
        const pending = steps.map(({ trainee, move }) => ({ trainee: crowd[trainee]!, ...play(round, crowd[trainee]!, move) }));
        updates += steps.length;
        await Promise.all(
          crowd.map(async (trainee) => {
            for (const answer of pending.filter((p) => p.trainee === trainee)) await expectAnswer(trainee.user, answer);
          }),
        );
        await expectNothingBroken(round);
      }),
      // The world keeps its state from run to run, so a shrunk sequence would replay against another
      // world: stop at the first failure and report it as it happened.
      { numRuns: runs, seed, endOnFailure: true },
    );
    recordFigures(context, { seed, runs, updates, seconds: Math.round((Date.now() - started) / 1000) });
  });
});
