import { and, eq, gte, or, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { UserId } from '../ids.js';
import { modelUsage, users } from '../schema.js';

export type NewModelUsage = typeof modelUsage.$inferInsert;

/** Stores a batch of model calls in one statement. */
export async function insertModelUsage(db: Database, rows: readonly NewModelUsage[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insert(modelUsage).values([...rows]);
}

/** Tokens (prompt and completion) a person's model calls took since `since`. */
export async function userTokensSince(db: Database, userId: UserId, since: Date): Promise<number> {
  const [row] = await db
    .select({ tokens: sql<number>`coalesce(sum(${modelUsage.promptTokens} + ${modelUsage.completionTokens}), 0)::float8` })
    .from(modelUsage)
    .where(and(eq(modelUsage.userId, userId), gte(modelUsage.createdAt, since)));
  return row?.tokens ?? 0;
}

/** Tokens a manager's team took since `since`: the manager's own calls and those of everyone in the team. */
export async function teamTokensSince(db: Database, managerId: UserId, since: Date): Promise<number> {
  const [row] = await db
    .select({ tokens: sql<number>`coalesce(sum(${modelUsage.promptTokens} + ${modelUsage.completionTokens}), 0)::float8` })
    .from(modelUsage)
    .innerJoin(users, eq(users.id, modelUsage.userId))
    .where(and(or(eq(users.managerId, managerId), eq(users.id, managerId)), gte(modelUsage.createdAt, since)));
  return row?.tokens ?? 0;
}
