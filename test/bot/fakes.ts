import type { BotServices, BotTraining } from '../../src/bot/services.js';
import type { SessionId, TelegramId, UserId } from '../../src/db/ids.js';
import type { StoredEvaluation } from '../../src/db/queries/evaluations.js';
import type { Invite } from '../../src/db/queries/invites.js';
import { ActiveSessionExistsError, type SessionSummary, type TrainingSession } from '../../src/db/queries/sessions.js';
import type { StoredDispute, StoredReview } from '../../src/db/queries/reviews.js';
import { ChartRenderer } from '../../src/services/charts/index.js';
import { silentLogger } from '../support/database.js';
import type { TelegramProfile, User, UserRole } from '../../src/db/queries/users.js';
import type { AccessDecision, AccessService, AdmitRequestResult, AllowResult, RevokeResult } from '../../src/services/access.js';
import type { ErasurePreview, ErasureReport, PersonErasure } from '../../src/services/erase-person.js';
import type { Hint, HintRequest, HintService } from '../../src/services/hints.js';
import { ScenarioNotFoundError, type Difficulty, type Scenario, type ScenarioCatalog } from '../../src/services/scenarios.js';
import type {
  ScoredSession,
  TeamOverview,
  TeamScope,
  TeamService,
  TeamSession,
  TraineeStats,
  TranscriptLine,
} from '../../src/services/team.js';
import type { AudioFile } from '../../src/services/speech-to-text.js';
import { SpeechSynthesisError, type TextToSpeech } from '../../src/services/text-to-speech.js';
import {
  SpokenTurnNotTranscribedError,
  type ActiveTraining,
  type FinishResult,
  type PastEvaluation,
  type SpokenTurnHooks,
  type TurnResult,
} from '../../src/services/training/index.js';
import type { VoiceModeService } from '../../src/services/voice-mode.js';
import type { ChatMessage, SpokenAudio } from '../../src/db/queries/messages.js';
import type { VoicePreference } from '../../src/db/queries/users.js';
import { repliesByVoiceByDefault } from '../../src/services/scenarios.js';
import { TurnLimits, type BudgetSource } from '../../src/bot/helpers/turn-limits.js';
import type { BudgetHolder, BudgetVerdict } from '../../src/services/usage.js';

/** One call a fake received, in order, for assertions. */
export interface Call<M extends string = string> {
  readonly method: M;
  readonly args: readonly unknown[];
}

// ——— Scenarios ———

function scenario(key: string, title: string, description: string, openingLine: string): Scenario {
  const level = (label: string) => ({ label, behaviour: `${label} клиент` });
  return {
    key,
    title,
    description,
    language: 'ru',
    brief: { who: 'Игорь, директор', company: 'Сеть салонов', known: ['Заявку не оставлял'] },
    persona: {
      name: 'Игорь',
      role: 'директор',
      company: 'Сеть салонов',
      situation: 'выбирает CRM',
      mood: 'занят',
      goals: ['сэкономить время'],
      hiddenNeeds: ['отчёты для владельца'],
      objections: ['дорого'],
      agreeWhen: ['покажут выгоду'],
      speechStyle: 'коротко',
      openingLine,
    },
    difficulties: { easy: level('Лёгкий'), medium: level('Средний'), hard: level('Сложный') },
    rubric: [
      { key: 'contact', title: 'Установление контакта', weight: 50, good: 'представился' },
      { key: 'needs', title: 'Выявление потребностей', weight: 50, good: 'задал вопросы' },
    ],
  };
}

export const coldCall = scenario(
  'cold-call',
  'Холодный звонок',
  'Первый звонок директору сети салонов.',
  'Алло, слушаю. Кто это?',
);
export const upsell = scenario(
  'upsell',
  'Расширение тарифа',
  'Клиент на базовом тарифе, ему тесно.',
  'Здравствуйте, у нас вопрос по тарифу.',
);

export function scenarioCatalog(scenarios: readonly Scenario[] = [coldCall, upsell]): ScenarioCatalog {
  const byKey = new Map(scenarios.map((s) => [s.key, s]));
  return {
    all: scenarios,
    find: (key) => byKey.get(key),
    get: (key) => {
      const found = byKey.get(key);
      if (!found) throw new ScenarioNotFoundError(key);
      return found;
    },
  };
}

// ——— Access ———

/** Admits the users it was told about (and newcomers with a known invite code); refuses everyone else. */
export class FakeAccess implements AccessService {
  readonly calls: Array<Call<'admit'>> = [];
  /** What a stranger is told. */
  refusal: Extract<AccessDecision, { admitted: false }>['reason'] = 'not-allowed';
  /** Invite codes that admit a newcomer, with the role they give. */
  readonly invites = new Map<string, UserRole>();
  private failure: Error | undefined;
  private readonly users = new Map<TelegramId, User>();
  private nextId = 1;

  /** Registers a user the gate admits. */
  allow(telegramId: number, options: { role?: UserRole; firstName?: string } = {}): User {
    const user: User = {
      id: this.nextId++ as UserId,
      telegramId: telegramId as TelegramId,
      username: null,
      firstName: options.firstName ?? null,
      lastName: null,
      languageCode: 'ru',
      role: options.role ?? 'trainee',
      voiceReplies: null,
      managerId: null,
      createdAt: new Date('2030-01-01T00:00:00Z'),
    };
    this.users.set(user.telegramId, user);
    return user;
  }

  /** The next admit fails with `error` (the database is down, say). */
  failNext(error: Error): void {
    this.failure = error;
  }

  /** What /allow and /revoke answer, and who may press «Допустить» (by Telegram id). */
  grantResult: AllowResult = { kind: 'allowed' };
  revokeResult: RevokeResult = { kind: 'revoked' };
  admitResult: AdmitRequestResult = { kind: 'allowed' };
  readonly accessCalls: Array<Call<'grant' | 'revoke' | 'admitRequest'>> = [];

  async grant(telegramId: TelegramId, by: User, manager?: string): Promise<AllowResult> {
    this.accessCalls.push({ method: 'grant', args: [telegramId, by.telegramId, manager] });
    return this.grantResult;
  }

  async revoke(telegramId: TelegramId, by: User): Promise<RevokeResult> {
    this.accessCalls.push({ method: 'revoke', args: [telegramId, by.telegramId] });
    return this.revokeResult;
  }

  async admitRequest(telegramId: TelegramId, by: User): Promise<AdmitRequestResult> {
    this.accessCalls.push({ method: 'admitRequest', args: [telegramId, by.telegramId] });
    return this.admitResult;
  }

  /** Whom the gate asked to tell admins about (the real service decides whether, once a day). */
  readonly refusalsTold: TelegramId[] = [];

  async tellRefusal(telegramId: TelegramId): Promise<boolean> {
    this.refusalsTold.push(telegramId);
    return false;
  }

  async tellJoins(): Promise<number> {
    return 0;
  }

  async admit(profile: TelegramProfile, inviteCode?: string): Promise<AccessDecision> {
    this.calls.push({ method: 'admit', args: [profile, inviteCode] });
    if (this.failure) {
      const error = this.failure;
      this.failure = undefined;
      throw error;
    }
    const known = this.users.get(profile.telegramId);
    if (known) return { admitted: true, user: known };
    const role = inviteCode === undefined ? undefined : this.invites.get(inviteCode);
    if (role)
      return {
        admitted: true,
        user: this.allow(profile.telegramId, { role, firstName: profile.firstName ?? undefined }),
        joinedByInvite: true,
      };
    return { admitted: false, reason: this.refusal };
  }
}

// ——— Training ———

type TrainingMethod = keyof BotTraining;

interface FakeSession {
  readonly training: ActiveTraining;
  readonly turns: string[];
}

/** A verdict as the training service stores it (the bot shows the stored evaluation). */
export type Verdict = Omit<StoredEvaluation, 'id' | 'sessionId' | 'deliveredAt' | 'createdAt'>;

export const defaultEvaluation: Verdict = {
  totalScore: 70,
  criteria: [
    {
      key: 'contact',
      title: 'Установление контакта',
      weight: 50,
      score: 80,
      evidence: '«Добрый день, меня зовут Анна»',
      comment: '',
    },
    { key: 'needs', title: 'Выявление потребностей', weight: 50, score: 60, evidence: '', comment: '' },
  ],
  strengths: ['Представилась и назвала компанию'],
  mistakes: ['«Это недорого» — цена не названа'],
  recommendations: ['Спросите, сколько у клиента салонов'],
  summary: 'Хорошее начало, но потребности не выяснены.',
  model: 'judge-model',
  omittedMessages: 0,
  delivery: null,
  facts: [],
  rubricVersion: '0123456789ab',
  promptVersion: 'judge-2026-12-a+ba9876543210',
  judgeTemperature: 0,
};

/**
 * The training domain in memory: sessions start and end, turns are kept, the client and the judge
 * answer what the test scripts. Every call is recorded in `calls`.
 */
export class FakeTraining implements BotTraining {
  readonly calls: Array<Call<TrainingMethod>> = [];
  /** The client's answer to a trainee's turn; `onText` sees it as it "streams". */
  client: (text: string) => string | Promise<string> = (text) => `Клиент отвечает на: ${text}`;
  /** The judge's verdict on a session; throw from it to make the judge fail. */
  judge: (training: ActiveTraining, turns: readonly string[]) => Verdict | Promise<Verdict> = () => defaultEvaluation;
  /** What /history lists, newest first. */
  historyRows: Array<SessionSummary & { scenarioTitle: string }> = [];
  /** The dialogue so far, oldest first: what /hint reads. */
  messagesSoFar: ChatMessage[] = [];
  /** The ids of the opening lines `start` stored, to be marked delivered. */
  readonly openingLineIds: number[] = [];
  /** What the speech-to-text "hears" in a downloaded note: by default its bytes read as UTF-8 text. */
  transcriber: (audio: AudioFile) => string | Promise<string> = (audio) => new TextDecoder().decode(audio.bytes);
  /** The next transcription fails like this (the endpoint down, or without audio). */
  transcriptionFailure: SpokenTurnNotTranscribedError['failure'] | undefined;
  /** Spoken turns stored without words (their transcription failed), by message id. */
  readonly untranscribed = new Map<number, { readonly userId: UserId; readonly audio: SpokenAudio }>();
  /** Sessions with a stored evaluation (finished here, or given), for pastEvaluation. */
  readonly evaluated = new Map<
    SessionId,
    { readonly userId: UserId; readonly session: TrainingSession; readonly evaluation: StoredEvaluation }
  >();
  private readonly sessions = new Map<UserId, FakeSession>();
  private readonly failures = new Map<TrainingMethod, Error>();
  private nextId = 100;

  constructor(private readonly scenarios: ScenarioCatalog) {}

  /** The next call of `method` fails with `error`. */
  failNext(method: TrainingMethod, error: Error): void {
    this.failures.set(method, error);
  }

  /** A running session, as if the trainee had started it before. */
  givenActive(userId: UserId, scenarioKey: string, difficulty: Difficulty = 'easy', turns: string[] = []): ActiveTraining {
    const training = { session: this.session(userId, scenarioKey, difficulty), scenario: this.scenarios.get(scenarioKey) };
    this.sessions.set(userId, { training, turns });
    return training;
  }

  /** The user's running session now, without recording a call. */
  activeOf(userId: UserId): ActiveTraining | undefined {
    return this.sessions.get(userId)?.training;
  }

  callsOf(method: TrainingMethod): Array<readonly unknown[]> {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  async start(userId: UserId, scenarioKey: string, difficulty: Difficulty) {
    this.record('start', userId, scenarioKey, difficulty);
    const active = this.sessions.get(userId);
    if (active) throw new ActiveSessionExistsError(active.training.session);
    const training = this.givenActive(userId, scenarioKey, difficulty);
    const openingLineId = this.nextId++;
    this.openingLineIds.push(openingLineId);
    return { ...training, openingLine: training.scenario.persona.openingLine, openingLineId };
  }

  async active(userId: UserId): Promise<ActiveTraining | undefined> {
    this.record('active', userId);
    return this.sessions.get(userId)?.training;
  }

  async abandon(userId: UserId): Promise<boolean> {
    this.record('abandon', userId);
    return this.sessions.delete(userId);
  }

  async playTurn(input: Parameters<BotTraining['playTurn']>[0]): Promise<TurnResult> {
    this.record('playTurn', { userId: input.userId, text: input.text, telegramMessageId: input.telegramMessageId });
    const running = this.sessions.get(input.userId);
    if (!running) return { kind: 'no-session' };
    running.turns.push(input.text);
    const reply = await this.client(input.text);
    input.onText?.(reply);
    return { kind: 'answered', reply, replyId: this.nextId++, clientHungUp: false };
  }

  async playSpokenTurn(input: Parameters<BotTraining['playSpokenTurn']>[0]): Promise<TurnResult> {
    this.record('playSpokenTurn', { userId: input.userId, telegramMessageId: input.telegramMessageId, audio: input.audio });
    if (!this.sessions.has(input.userId)) return { kind: 'no-session' };
    const messageId = this.nextId++;
    return this.transcribeAndAnswer(input.userId, messageId, input.audio, input);
  }

  async retrySpokenTurn(input: Parameters<BotTraining['retrySpokenTurn']>[0]): Promise<TurnResult> {
    this.record('retrySpokenTurn', { userId: input.userId, messageId: input.messageId });
    if (!this.sessions.has(input.userId)) return { kind: 'no-session' };
    const pending = this.untranscribed.get(input.messageId);
    if (!pending || pending.userId !== input.userId) return { kind: 'moved-on' };
    return this.transcribeAndAnswer(input.userId, input.messageId, pending.audio, input);
  }

  private async transcribeAndAnswer(
    userId: UserId,
    messageId: number,
    audio: SpokenAudio,
    hooks: SpokenTurnHooks,
  ): Promise<TurnResult> {
    let transcript: string;
    try {
      const file = await hooks.download(audio.telegramFileId, audio.kind);
      if (this.transcriptionFailure) {
        const failure = this.transcriptionFailure;
        this.transcriptionFailure = undefined;
        throw new SpokenTurnNotTranscribedError(messageId, failure, { cause: new Error('scripted') });
      }
      transcript = await this.transcriber(file);
    } catch (error) {
      this.untranscribed.set(messageId, { userId, audio });
      if (error instanceof SpokenTurnNotTranscribedError) throw error;
      throw new SpokenTurnNotTranscribedError(messageId, 'download', { cause: error });
    }
    this.untranscribed.delete(messageId);
    if (!transcript.trim()) return { kind: 'not-heard' };
    await hooks.onTranscript(transcript);
    const running = this.sessions.get(userId)!;
    running.turns.push(transcript);
    const reply = await this.client(transcript);
    hooks.onText?.(reply);
    return { kind: 'answered', reply, replyId: this.nextId++, clientHungUp: false };
  }

  async markReplyDelivered(replyId: number): Promise<void> {
    this.record('markReplyDelivered', replyId);
  }

  async finish(userId: UserId): Promise<FinishResult> {
    this.record('finish', userId);
    const running = this.sessions.get(userId);
    if (!running) return { kind: 'no-session' };
    if (running.turns.length === 0) return { kind: 'nothing-said', training: running.training };
    // As the real service: a failing judge leaves the session open.
    const evaluation = await this.judge(running.training, running.turns);
    this.sessions.delete(userId);
    const stored: StoredEvaluation = {
      ...evaluation,
      id: this.nextId++,
      sessionId: running.training.session.id,
      deliveredAt: null,
      createdAt: new Date('2030-01-01T10:00:00Z'),
    };
    const session = running.training.session;
    this.evaluated.set(session.id, { userId, session: { ...session, status: 'finished' }, evaluation: stored });
    return { kind: 'finished', training: running.training, evaluation: stored };
  }

  /** A session finished and scored before, as /history offers it (its scenario may no longer exist). */
  givenEvaluated(userId: UserId, scenarioKey: string, difficulty: Difficulty, verdict: Verdict = defaultEvaluation) {
    const session: TrainingSession = { ...this.session(userId, scenarioKey, difficulty), status: 'finished' };
    const evaluation: StoredEvaluation = {
      ...verdict,
      id: this.nextId++,
      sessionId: session.id,
      deliveredAt: new Date('2030-01-01T10:00:00Z'),
      createdAt: new Date('2030-01-01T10:00:00Z'),
    };
    this.evaluated.set(session.id, { userId, session, evaluation });
    return { session, evaluation };
  }

  async pastEvaluation(userId: UserId, sessionId: SessionId): Promise<PastEvaluation | undefined> {
    this.record('pastEvaluation', userId, sessionId);
    const found = this.evaluated.get(sessionId);
    if (!found || found.userId !== userId) return undefined;
    return { session: found.session, scenario: this.scenarios.find(found.session.scenarioKey), evaluation: found.evaluation };
  }

  async markEvaluationDelivered(sessionId: TrainingSession['id']): Promise<void> {
    this.record('markEvaluationDelivered', sessionId);
  }

  async dialogueSoFar(sessionId: TrainingSession['id']): Promise<ChatMessage[]> {
    this.record('dialogueSoFar', sessionId);
    return this.messagesSoFar;
  }

  async history(userId: UserId, limit = 10) {
    this.record('history', userId, limit);
    return this.historyRows.slice(0, limit);
  }

  private session(userId: UserId, scenarioKey: string, difficulty: Difficulty): TrainingSession {
    return {
      id: this.nextId++ as SessionId,
      userId,
      scenarioKey,
      difficulty,
      status: 'active',
      startedAt: new Date('2030-01-01T09:00:00Z'),
      finishedAt: null,
      finishRequestedAt: null,
      clientHungUpAt: null,
    };
  }

  private record(method: TrainingMethod, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const failure = this.failures.get(method);
    if (failure) {
      this.failures.delete(method);
      throw failure;
    }
  }
}

// ——— Team ———

/** Invites expire this long after this fixed moment, so that the text with the date is stable. */
export const inviteClock = new Date('2030-01-01T09:00:00Z');

/**
 * The team service over data a test sets: the trainee's progress, the manager's overview, and team
 * sessions by id (a session not in `sessions` is "not in the team"). Reviews and disputes are kept.
 */
export class FakeTeam implements TeamService {
  readonly calls: Array<Call<keyof TeamService>> = [];
  stats: TraineeStats = { count: 0, average: 0, best: 0, last: 0, byDifficulty: [] };
  scored: ScoredSession[] = [];
  team: TeamOverview = { members: [], scenarioAverages: [], criteria: [], assignments: [] };
  /** Sessions of the manager's team, by id. */
  readonly sessions = new Map<SessionId, TeamSession>();
  readonly transcripts = new Map<SessionId, TranscriptLine[]>();
  readonly reviews = new Map<SessionId, StoredReview>();
  readonly disputes = new Map<SessionId, StoredDispute>();
  inviteCode = 'Invite-Code-42';

  async userStats(userId: UserId) {
    this.calls.push({ method: 'userStats', args: [userId] });
    return this.stats;
  }

  async progress(userId: UserId) {
    this.calls.push({ method: 'progress', args: [userId] });
    return this.scored;
  }

  async overview(scope: TeamScope) {
    this.calls.push({ method: 'overview', args: [scope] });
    return this.team;
  }

  async memberSessions(scope: TeamScope, memberId: UserId) {
    this.calls.push({ method: 'memberSessions', args: [scope, memberId] });
    const own = [...this.sessions.values()].filter((s) => s.member.id === memberId);
    if (own.length === 0) return undefined;
    return {
      member: own[0]!.member,
      sessions: own.map(({ session, evaluation }) => ({
        id: session.id,
        scenarioKey: session.scenarioKey,
        difficulty: session.difficulty,
        status: session.status,
        startedAt: session.startedAt,
        totalScore: evaluation?.totalScore ?? null,
        reviewScore: this.reviews.get(session.id)?.score ?? null,
      })),
    };
  }

  async teamSession(scope: TeamScope, sessionId: SessionId) {
    this.calls.push({ method: 'teamSession', args: [scope, sessionId] });
    const found = this.sessions.get(sessionId);
    return found && { ...found, review: this.reviews.get(sessionId), dispute: this.disputes.get(sessionId) };
  }

  async transcript(scope: TeamScope, sessionId: SessionId) {
    this.calls.push({ method: 'transcript', args: [scope, sessionId] });
    return this.sessions.has(sessionId) ? (this.transcripts.get(sessionId) ?? []) : undefined;
  }

  async review(scope: TeamScope, input: { sessionId: SessionId; reviewerId: UserId; score: number; comment: string }) {
    this.calls.push({ method: 'review', args: [scope, input] });
    const found = this.sessions.get(input.sessionId);
    if (!found?.evaluation) return undefined;
    const review: StoredReview = { ...input, createdAt: inviteClock, updatedAt: inviteClock };
    this.reviews.set(input.sessionId, review);
    return { review, trainee: found.member, session: found.session, aiScore: found.evaluation.totalScore };
  }

  async reviewOf(sessionId: SessionId) {
    return this.reviews.get(sessionId);
  }

  async reviewsOf(sessionIds: readonly SessionId[]) {
    return new Map(sessionIds.flatMap((id) => (this.reviews.has(id) ? [[id, this.reviews.get(id)!] as const] : [])));
  }

  async disputeOf(sessionId: SessionId) {
    return this.disputes.get(sessionId);
  }

  async dispute(userId: UserId, sessionId: SessionId, reason: string) {
    this.calls.push({ method: 'dispute', args: [userId, sessionId, reason] });
    if (this.disputes.has(sessionId)) return false;
    this.disputes.set(sessionId, { sessionId, reason, createdAt: inviteClock, managerNotifiedAt: null, resolvedAt: null });
    return true;
  }

  async tellPendingDisputes() {
    this.calls.push({ method: 'tellPendingDisputes', args: [] });
    return 0;
  }

  async createInvite(input: { createdBy: UserId; role: UserRole; maxUses: number; days: number }): Promise<Invite> {
    this.calls.push({ method: 'createInvite', args: [input] });
    return {
      code: this.inviteCode,
      createdBy: input.createdBy,
      role: input.role,
      maxUses: input.maxUses,
      uses: 0,
      expiresAt: new Date(inviteClock.getTime() + input.days * 86_400_000),
      createdAt: inviteClock,
    };
  }
}

// ——— Hints ———

/** Records what /hint asked about; answers `answer` (undefined: nothing fits), or throws it when it is an Error. */
export class FakeHints implements HintService {
  readonly requests: HintRequest[] = [];
  answer: Hint | undefined | Error = undefined;

  async advise(request: HintRequest): Promise<Hint | undefined> {
    this.requests.push(request);
    if (this.answer instanceof Error) throw this.answer;
    return this.answer;
  }
}

/** The person FakeErasure knows. */
export const erasableTraineeId = 555_000_111;

/** Knows one person (Telegram id 555 000 111) until they are erased; records every call. */
export class FakeErasure implements PersonErasure {
  readonly calls: Array<Call<'preview' | 'erase'>> = [];
  private stored = true;
  sheet: ErasureReport['sheet'] = { kind: 'erased', rowsDeleted: 2, recheckAt: new Date('2030-01-31T09:05:00Z') };

  async preview(telegramId: TelegramId): Promise<ErasurePreview> {
    this.calls.push({ method: 'preview', args: [telegramId] });
    const person =
      this.stored && telegramId === erasableTraineeId
        ? { name: 'Анна Стажёрова', role: 'trainee' as const, sessions: 3 }
        : undefined;
    return { telegramId, person, sheetPending: 0 };
  }

  async erase(telegramId: TelegramId): Promise<ErasureReport> {
    this.calls.push({ method: 'erase', args: [telegramId] });
    const found = this.stored && telegramId === erasableTraineeId;
    this.stored = false;
    const n = found ? 1 : 0;
    return {
      telegramId,
      found,
      removed: {
        users: n,
        sessions: 3 * n,
        messages: 40 * n,
        evaluations: 2 * n,
        inviteRedemptions: n,
        conversationStates: 0,
        sheetExports: 2 * n,
        accessGrants: n,
        accessRequests: 0,
      },
      invites: { detached: 0, closed: 0 },
      sheet: found ? this.sheet : { kind: 'nothing' },
    };
  }
}

// ——— Voice ———

/** The client's voice: answers with `audio`, or fails when `failure` is set (once, or always with `failAlways`). */
export class FakeSpeech implements TextToSpeech {
  readonly texts: string[] = [];
  audio: Uint8Array = new TextEncoder().encode('OggS fake opus');
  failure: Error | undefined;

  async synthesize(text: string): Promise<Uint8Array> {
    this.texts.push(text);
    if (this.failure) throw this.failure;
    return this.audio;
  }

  failWith(message = 'speech endpoint down'): void {
    this.failure = new SpeechSynthesisError(message);
  }
}

/** Each trainee's /voice choice, in memory. */
export class FakeVoiceMode implements VoiceModeService {
  readonly preferences = new Map<UserId, VoicePreference>();

  async preference(userId: UserId): Promise<VoicePreference> {
    return this.preferences.get(userId) ?? null;
  }

  async setPreference(userId: UserId, preference: VoicePreference): Promise<void> {
    this.preferences.set(userId, preference);
  }

  async repliesByVoice(userId: UserId, scenario: Pick<Scenario, 'voice'>): Promise<boolean> {
    const preference = this.preferences.get(userId) ?? null;
    return preference === null ? repliesByVoiceByDefault(scenario) : preference === 'on';
  }
}

/** The day's token budgets, as a test sets them: `ok` until told otherwise. */
export class FakeBudgets implements BudgetSource {
  verdict: BudgetVerdict = { kind: 'ok' };
  readonly checked: BudgetHolder[] = [];

  async budgetFor(person: BudgetHolder): Promise<BudgetVerdict> {
    this.checked.push(person);
    return this.verdict;
  }
}

/** Limits no ordinary test reaches; test/bot/limits.test.ts builds tight ones. */
export const generousLimits = { turnsPerMinute: 100_000, turnBurst: 10_000, finishesPerHour: 10_000 } as const;

export interface FakeServices extends BotServices {
  readonly access: FakeAccess;
  readonly speech: FakeSpeech;
  readonly voiceMode: FakeVoiceMode;
  readonly training: FakeTraining;
  readonly team: FakeTeam;
  readonly hints: FakeHints | undefined;
  readonly erase: FakeErasure;
}

export function fakeServices(options: { scenarios?: readonly Scenario[]; hints?: boolean } = {}): FakeServices {
  const scenarios = scenarioCatalog(options.scenarios);
  return {
    limits: new TurnLimits(generousLimits, new FakeBudgets()),
    access: new FakeAccess(),
    scenarios,
    training: new FakeTraining(scenarios),
    speech: new FakeSpeech(),
    voiceMode: new FakeVoiceMode(),
    team: new FakeTeam(),
    assignments: practiceOnlyAssignments(),
    hints: options.hints === false ? undefined : new FakeHints(),
    erase: new FakeErasure(),
    charts,
  };
}

/** The real renderer (its thread starts with the first picture): the pictures are checked as they are sent. */
const charts = new ChartRenderer(silentLogger);

/** Assignments for handler tests that do not use them: nobody has any, every session is practice. */
export function practiceOnlyAssignments(): BotServices['assignments'] {
  return {
    programs: { all: [], find: () => undefined },
    passMarkOf: () => 80,
    parseDeadline: () => new Date(Date.now() + 86_400_000),
    assignable: () => Promise.resolve([]),
    assign: () => Promise.resolve({ assigned: [], alreadyAssigned: [] }),
    openFor: () => Promise.resolve([]),
    find: () => Promise.resolve(undefined),
    settle: () => Promise.resolve({ kind: 'practice' }),
  };
}
