import { asc, eq, isNotNull, or } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { listTraineeSummaries } from '../../db/queries/sheet-exports.js';
import { displayName } from '../../db/queries/users.js';
import { evaluationDisputes, evaluationReviews, evaluations, sessions, users } from '../../db/schema.js';
import type { ProgramCatalog } from '../programs.js';
import type { ScenarioCatalog } from '../scenarios.js';
import {
  ASSIGNMENTS_LAYOUT,
  ASSIGNMENTS_TAB,
  assignmentsTabRows,
  CERTIFICATIONS_LAYOUT,
  CERTIFICATIONS_TAB,
  certificationsTabRows,
} from './assignments-tab.js';
import type { ManagersSheet } from './managers-sheet.js';
import { difficultyLabel, toSheetsDateTime, type TabLayout } from './sheet-layout.js';
import type { CellValue } from './sheets-client.js';

/** A tab rewritten whole from the database: its rows are always what PostgreSQL holds now. */
export interface SummaryTab {
  readonly title: string;
  readonly layout: TabLayout;
  readonly rows: CellValue[][];
}

/** What the tabs besides «Сотрудники» are read with. */
export interface SummarySources {
  readonly scenarios: ScenarioCatalog;
  readonly programs: ProgramCatalog;
  readonly defaultPassMark: number;
  readonly timeZone: string;
}

/** «Критерии»: one row per criterion per scored session, for a pivot table of weak criteria across the team. */
export const CRITERIA_TAB = 'Критерии';
export const CRITERIA_LAYOUT: TabLayout = {
  header: ['ID сессии', 'Сотрудник', 'Telegram ID', 'Дата', 'Сценарий', 'Сложность', 'Критерий', 'Балл', 'Вес', 'Проходной балл'],
  formats: [
    { column: 0, type: 'NUMBER', pattern: '0' },
    { column: 2, type: 'NUMBER', pattern: '0' },
    { column: 3, type: 'DATE_TIME', pattern: 'dd.mm.yyyy hh:mm' },
  ],
};

/** «Пересмотры»: the manager's score beside the AI's, and the trainee's dispute, per session. */
export const REVIEWS_TAB = 'Пересмотры';
export const REVIEWS_LAYOUT: TabLayout = {
  header: [
    'ID сессии',
    'Сотрудник',
    'Telegram ID',
    'Сценарий',
    'Балл ИИ',
    'Балл руководителя',
    'Комментарий руководителя',
    'Пересмотрено',
    'Причина несогласия',
    'Оспорено',
  ],
  formats: [
    { column: 0, type: 'NUMBER', pattern: '0' },
    { column: 2, type: 'NUMBER', pattern: '0' },
    { column: 7, type: 'DATE_TIME', pattern: 'dd.mm.yyyy hh:mm' },
    { column: 9, type: 'DATE_TIME', pattern: 'dd.mm.yyyy hh:mm' },
  ],
};

async function criteriaRows(db: Database, sources: SummarySources): Promise<CellValue[][]> {
  const rows = await db
    .select({ session: sessions, user: users, criteria: evaluations.criteria })
    .from(evaluations)
    .innerJoin(sessions, eq(sessions.id, evaluations.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .orderBy(asc(sessions.id));
  return rows.flatMap(({ session, user, criteria }) => {
    const scenario = sources.scenarios.find(session.scenarioKey);
    const passMark = scenario?.passMark ?? sources.defaultPassMark;
    return criteria.map((criterion) => [
      session.id,
      displayName(user),
      user.telegramId,
      toSheetsDateTime(session.finishedAt ?? session.startedAt, sources.timeZone),
      scenario?.title ?? session.scenarioKey,
      difficultyLabel(session.difficulty),
      criterion.title,
      criterion.score,
      criterion.weight,
      passMark,
    ]);
  });
}

async function reviewRows(db: Database, sources: SummarySources): Promise<CellValue[][]> {
  const rows = await db
    .select({
      session: sessions,
      user: users,
      aiScore: evaluations.totalScore,
      review: evaluationReviews,
      dispute: evaluationDisputes,
    })
    .from(evaluations)
    .innerJoin(sessions, eq(sessions.id, evaluations.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .leftJoin(evaluationReviews, eq(evaluationReviews.sessionId, evaluations.sessionId))
    .leftJoin(evaluationDisputes, eq(evaluationDisputes.sessionId, evaluations.sessionId))
    .where(or(isNotNull(evaluationReviews.sessionId), isNotNull(evaluationDisputes.sessionId)))
    .orderBy(asc(sessions.id));
  return rows.map(({ session, user, aiScore, review, dispute }) => [
    session.id,
    displayName(user),
    user.telegramId,
    sources.scenarios.find(session.scenarioKey)?.title ?? session.scenarioKey,
    aiScore,
    review?.score ?? '',
    review?.comment ?? '',
    review ? toSheetsDateTime(review.updatedAt, sources.timeZone) : '',
    dispute?.reason ?? '',
    dispute ? toSheetsDateTime(dispute.createdAt, sources.timeZone) : '',
  ]);
}

/** Every tab rewritten whole besides «Сотрудники»: criteria, reviews, assignments, certifications. */
export async function readSummaryTabs(db: Database, sources: SummarySources): Promise<SummaryTab[]> {
  return [
    { title: CRITERIA_TAB, layout: CRITERIA_LAYOUT, rows: await criteriaRows(db, sources) },
    { title: REVIEWS_TAB, layout: REVIEWS_LAYOUT, rows: await reviewRows(db, sources) },
    {
      title: ASSIGNMENTS_TAB,
      layout: ASSIGNMENTS_LAYOUT,
      rows: await assignmentsTabRows(db, { scenarios: sources.scenarios, programs: sources.programs }, sources.timeZone),
    },
    {
      title: CERTIFICATIONS_TAB,
      layout: CERTIFICATIONS_LAYOUT,
      rows: await certificationsTabRows(db, sources.programs, sources.timeZone),
    },
  ];
}

/**
 * Rewrites «Сотрудники» and, when the sheet knows its sources, the other whole tabs: after the
 * exports of a pass, after a resync and after an erasure (an erased person's rows go with the rewrite).
 */
export async function rewriteSummaryTabs(db: Database, sheet: ManagersSheet): Promise<void> {
  await sheet.rewriteTrainees(await listTraineeSummaries(db));
  const sources = sheet.summarySources;
  if (!sources) return;
  for (const tab of await readSummaryTabs(db, sources)) await sheet.rewriteTab(tab.title, tab.layout, tab.rows);
}
