import { asc, eq } from 'drizzle-orm';
import { assignments, certifications } from '../../db/assignments-schema.js';
import type { Database } from '../../db/client.js';
import { displayName } from '../../db/queries/users.js';
import { users } from '../../db/schema.js';
import type { ProgramCatalog } from '../programs.js';
import type { ScenarioCatalog } from '../scenarios.js';
import type { CellValue } from './sheets-client.js';
import { difficultyLabel, toSheetsDateTime, type TabLayout } from './sheet-layout.js';

/** «Задания»: every assignment and where it stands, rewritten whole like «Сотрудники». */
export const ASSIGNMENTS_TAB = 'Задания';
export const ASSIGNMENTS_LAYOUT: TabLayout = {
  header: ['Сотрудник', 'Telegram ID', 'Сценарий', 'Сложность', 'Проходной балл', 'Срок', 'Статус', 'Сдано', 'Программа', 'Цикл'],
  formats: [
    { column: 1, type: 'NUMBER', pattern: '0' },
    { column: 5, type: 'DATE_TIME', pattern: 'dd.mm.yyyy hh:mm' },
    { column: 7, type: 'DATE_TIME', pattern: 'dd.mm.yyyy hh:mm' },
  ],
};

/** «Сертификаты»: who completed which program, when, and until when it holds. */
export const CERTIFICATIONS_TAB = 'Сертификаты';
export const CERTIFICATIONS_LAYOUT: TabLayout = {
  header: ['Сотрудник', 'Telegram ID', 'Программа', 'Цикл', 'Дата', 'Действует до'],
  formats: [
    { column: 1, type: 'NUMBER', pattern: '0' },
    { column: 4, type: 'DATE_TIME', pattern: 'dd.mm.yyyy hh:mm' },
    { column: 5, type: 'DATE_TIME', pattern: 'dd.mm.yyyy hh:mm' },
  ],
};

/** The rows of «Задания» (without the header), by person then deadline. */
export async function assignmentsTabRows(
  db: Database,
  catalogs: { scenarios: ScenarioCatalog; programs: ProgramCatalog },
  timeZone: string,
  now: Date = new Date(),
): Promise<CellValue[][]> {
  const rows = await db
    .select({ assignment: assignments, user: users })
    .from(assignments)
    .innerJoin(users, eq(users.id, assignments.userId))
    .orderBy(asc(users.id), asc(assignments.dueAt), asc(assignments.id));
  return rows.map(({ assignment, user }) => [
    displayName(user),
    user.telegramId,
    catalogs.scenarios.find(assignment.scenarioKey)?.title ?? assignment.scenarioKey,
    difficultyLabel(assignment.difficulty),
    assignment.passMark,
    toSheetsDateTime(assignment.dueAt, timeZone),
    assignment.status === 'passed' ? 'зачтено' : assignment.dueAt.getTime() < now.getTime() ? 'просрочено' : 'в работе',
    assignment.passedAt ? toSheetsDateTime(assignment.passedAt, timeZone) : '',
    assignment.programKey ? (catalogs.programs.find(assignment.programKey)?.title ?? assignment.programKey) : '',
    assignment.programKey ? assignment.cycle : '',
  ]);
}

/** The rows of «Сертификаты» (without the header), by date. */
export async function certificationsTabRows(db: Database, programs: ProgramCatalog, timeZone: string): Promise<CellValue[][]> {
  const rows = await db
    .select({ certification: certifications, user: users })
    .from(certifications)
    .innerJoin(users, eq(users.id, certifications.userId))
    .orderBy(asc(certifications.certifiedAt), asc(certifications.id));
  return rows.map(({ certification, user }) => [
    displayName(user),
    user.telegramId,
    programs.find(certification.programKey)?.title ?? certification.programKey,
    certification.cycle,
    toSheetsDateTime(certification.certifiedAt, timeZone),
    certification.expiresAt ? toSheetsDateTime(certification.expiresAt, timeZone) : '',
  ]);
}
