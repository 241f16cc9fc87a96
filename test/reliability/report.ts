import type { TestContext } from 'vitest';

/** One row of docs/reliability.md: what was done, what the trainee saw, what was checked. */
export interface ReliabilityRow {
  readonly area: 'faults' | 'bad input' | 'hostile input' | 'operator' | 'load' | 'security' | 'privacy';
  readonly case: string;
  readonly action: string;
  readonly traineeSaw: string;
  readonly checked: string;
  /** Measured figures, e.g. { 'turns/s': 120 }. */
  readonly figures?: Readonly<Record<string, string | number>>;
}

declare module 'vitest' {
  interface TaskMeta {
    reliability?: ReliabilityRow;
  }
}

/**
 * Records the row for the current test; the reliability reporter prints it with the test's
 * pass/fail and writes docs/reliability.md. Call it early: a failing test still gets its row.
 */
export function recordCase(context: Pick<TestContext, 'task'>, row: ReliabilityRow): ReliabilityRow {
  context.task.meta.reliability = row;
  return row;
}

/** Adds measured figures to the row recorded for this test. */
export function recordFigures(context: Pick<TestContext, 'task'>, figures: Readonly<Record<string, string | number>>): void {
  const row = context.task.meta.reliability;
  if (row) context.task.meta.reliability = { ...row, figures: { ...row.figures, ...figures } };
}
