import type { Database } from '../db/client.js';
import type { SessionId, UserId } from '../db/ids.js';
import { getEvaluation, type StoredEvaluation } from '../db/queries/evaluations.js';
import { createInvite, type Invite } from '../db/queries/invites.js';
import {
  getDispute,
  getReview,
  reviewsOf,
  storeDispute,
  storeReview,
  tellPendingDisputes,
  type PendingDisputeNotice,
  type StoredDispute,
  type StoredReview,
} from '../db/queries/reviews.js';
import { getSession, type TrainingSession } from '../db/queries/sessions.js';
import {
  isInScope,
  memberSessions,
  scoredSessions,
  teamAssignmentCounts,
  teamCriterionAverages,
  teamMembers,
  teamScenarioAverages,
  userScoreStats,
  userScoreStatsByDifficulty,
  weekAgo,
  type MemberAssignments,
  type MemberScenarioAverage,
  type MemberSession,
  type ScoreStats,
  type ScoredSession,
  type TeamMember,
  type TeamScope,
} from '../db/queries/stats.js';
import { sessionTranscript, type TranscriptLine } from '../db/queries/transcripts.js';
import { getUser, type User, type UserRole } from '../db/queries/users.js';
import { resilientQueries } from '../db/retry.js';
import type { Logger } from '../logger.js';

export type { PendingDisputeNotice, TeamMember, TeamScope, MemberSession, ScoredSession, TranscriptLine };

/** One scenario at one difficulty, as a trainee played it. */
export type DifficultyStats = ScoreStats & { readonly scenarioKey: string; readonly difficulty: string };

/** A trainee's progress: over all scored sessions, and per scenario and difficulty. */
export type TraineeStats = ScoreStats & { readonly byDifficulty: readonly DifficultyStats[] };

/** What /team shows: every member (trained or not), their averages by scenario, the team's per criterion. */
export interface TeamOverview {
  readonly members: readonly TeamMember[];
  readonly scenarioAverages: readonly MemberScenarioAverage[];
  /** Assignments done, open and overdue, per member who has any. */
  readonly assignments: readonly MemberAssignments[];
  readonly criteria: ReadonlyArray<{ readonly criterion: string; readonly average: number; readonly count: number }>;
}

/** A session of the team as its manager opens it. */
export interface TeamSession {
  readonly session: TrainingSession;
  readonly member: User;
  readonly evaluation: StoredEvaluation | undefined;
  readonly review: StoredReview | undefined;
  readonly dispute: StoredDispute | undefined;
}

/** Who a review is told to: the trainee. */
export interface StoredReviewNotice {
  readonly review: StoredReview;
  readonly trainee: Pick<User, 'telegramId' | 'languageCode'>;
  readonly session: TrainingSession;
  readonly aiScore: number;
}

/** The people a viewer may see: admins everybody, a manager their team (people whose manager they are). */
export function scopeOf(viewer: Pick<User, 'id' | 'role'>): TeamScope {
  return viewer.role === 'admin' ? { kind: 'everybody' } : { kind: 'manager', managerId: viewer.id };
}

/** Progress of trainees and the team, reviews and disputes, and invites: what managers work with. */
export interface TeamService {
  /** A trainee's scored sessions: overall, and per scenario and difficulty (an easy and a hard attempt apart). */
  userStats(userId: UserId): Promise<TraineeStats>;
  /** A trainee's scored sessions, oldest first: the progress picture's data. */
  progress(userId: UserId): Promise<ScoredSession[]>;
  overview(scope: TeamScope, now?: Date): Promise<TeamOverview>;
  /** A member's sessions, newest first; undefined when the person is not in the scope. */
  memberSessions(scope: TeamScope, memberId: UserId): Promise<{ member: User; sessions: MemberSession[] } | undefined>;
  /** A session of the scope's people; undefined for anyone else's (a forged button) or none. */
  teamSession(scope: TeamScope, sessionId: SessionId): Promise<TeamSession | undefined>;
  transcript(scope: TeamScope, sessionId: SessionId): Promise<TranscriptLine[] | undefined>;
  /** Stores a review of a scored session in the scope (and resolves its dispute); undefined when not allowed. */
  review(
    scope: TeamScope,
    input: { sessionId: SessionId; reviewerId: UserId; score: number; comment: string },
  ): Promise<StoredReviewNotice | undefined>;
  /** The manager's review of a session, for the trainee's own views. */
  reviewOf(sessionId: SessionId): Promise<StoredReview | undefined>;
  /** The manager's reviews of these sessions, by session: /history shows them beside the AI's scores. */
  reviewsOf(sessionIds: readonly SessionId[]): Promise<ReadonlyMap<SessionId, StoredReview>>;
  disputeOf(sessionId: SessionId): Promise<StoredDispute | undefined>;
  /** Stores the trainee's dispute of their own scored session; false when not theirs or already disputed. */
  dispute(userId: UserId, sessionId: SessionId, reason: string): Promise<boolean>;
  /** Tells managers of the disputes not told yet (all, or the one session's); how many were told. */
  tellPendingDisputes(tell: (notice: PendingDisputeNotice) => Promise<void>, only?: SessionId): Promise<number>;
  createInvite(input: { createdBy: UserId; role: UserRole; maxUses: number; days: number }): Promise<Invite>;
}

/** `onSheetDataChanged`: a review or a dispute was stored, so the sheet's «Пересмотры» is written again. */
export function createTeamService(db: Database, logger: Logger, onSheetDataChanged: () => void = () => undefined): TeamService {
  const query = resilientQueries(db, logger);
  const sessionInScope = async (scope: TeamScope, sessionId: SessionId) => {
    const session = await query('read the session', (db) => getSession(db, sessionId));
    if (!session) return undefined;
    if (!(await query('check the team', (db) => isInScope(db, scope, session.userId)))) return undefined;
    return session;
  };
  return {
    async userStats(userId) {
      const [overall, byDifficulty] = await Promise.all([
        query('read the trainee stats', (db) => userScoreStats(db, userId)),
        query('read the trainee stats by difficulty', (db) => userScoreStatsByDifficulty(db, userId)),
      ]);
      return { ...overall, byDifficulty };
    },
    progress: (userId) => query('read the trainee progress', (db) => scoredSessions(db, userId)),
    async overview(scope, now = new Date()) {
      const [members, scenarioAverages, criteria, assignments] = await Promise.all([
        query('read the team', (db) => teamMembers(db, scope, weekAgo(now))),
        query('read the team averages', (db) => teamScenarioAverages(db, scope)),
        query('read the team criteria', (db) => teamCriterionAverages(db, scope)),
        query('read the team assignments', (db) => teamAssignmentCounts(db, scope, now)),
      ]);
      return { members, scenarioAverages, criteria, assignments };
    },
    async memberSessions(scope, memberId) {
      if (!(await query('check the team', (db) => isInScope(db, scope, memberId)))) return undefined;
      const member = await query('read the member', (db) => getUser(db, memberId));
      if (!member) return undefined;
      return { member, sessions: await query('list the member sessions', (db) => memberSessions(db, memberId)) };
    },
    async teamSession(scope, sessionId) {
      const session = await sessionInScope(scope, sessionId);
      if (!session) return undefined;
      const [member, evaluation, review, dispute] = await Promise.all([
        query('read the member', (db) => getUser(db, session.userId)),
        query('read the evaluation', (db) => getEvaluation(db, sessionId)),
        query('read the review', (db) => getReview(db, sessionId)),
        query('read the dispute', (db) => getDispute(db, sessionId)),
      ]);
      if (!member) return undefined;
      return { session, member, evaluation, review, dispute };
    },
    async transcript(scope, sessionId) {
      if (!(await sessionInScope(scope, sessionId))) return undefined;
      return query('read the transcript', (db) => sessionTranscript(db, sessionId));
    },
    async review(scope, input) {
      const session = await sessionInScope(scope, input.sessionId);
      if (!session) return undefined;
      const evaluation = await query('read the evaluation', (db) => getEvaluation(db, input.sessionId));
      const trainee = await query('read the member', (db) => getUser(db, session.userId));
      if (!evaluation || !trainee) return undefined;
      // Retried safely: a second attempt replaces the review with the same one.
      const review = await query('store the review', (db) => storeReview(db, input));
      onSheetDataChanged();
      return { review, trainee, session, aiScore: evaluation.totalScore };
    },
    reviewOf: (sessionId) => query('read the review', (db) => getReview(db, sessionId)),
    async reviewsOf(sessionIds) {
      const reviews = await query('read the reviews', (db) => reviewsOf(db, sessionIds));
      return new Map(reviews.map((r) => [r.sessionId, r]));
    },
    disputeOf: (sessionId) => query('read the dispute', (db) => getDispute(db, sessionId)),
    // Retried safely: the dispute is stored once per session (a second attempt finds it and says false).
    async dispute(userId, sessionId, reason) {
      const stored = await query('store the dispute', (db) => storeDispute(db, userId, sessionId, reason));
      onSheetDataChanged();
      return stored;
    },
    // Not retried: `tell` sends messages; a retry is the next sweep.
    tellPendingDisputes: (tell, only) => tellPendingDisputes(db, tell, only),
    // Not retried: an invite created on an attempt whose answer was lost would be a second invite.
    createInvite: ({ createdBy, role, maxUses, days }) =>
      createInvite(db, { createdBy, role, maxUses, expiresAt: new Date(Date.now() + days * 86_400_000) }),
  };
}
