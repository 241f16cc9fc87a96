import { sql } from 'drizzle-orm';
import type { Database } from '../client.js';

/*
 * A job's row in `job_runs` is its lease: taking it is one upsert, which PostgreSQL serialises on the
 * row (a second taker waits for the first to commit, then sees its lease and takes nothing). No
 * transaction is held while the job runs: see storeEvaluationAndFinish for why there are none.
 */

/** A lease taken: who holds it, for the release. */
export interface JobLease {
  readonly job: string;
  readonly holder: string;
}

/**
 * Takes the job's lease for `holder` for `leaseMs`, unless another holder's lease still runs; with
 * `notCompletedWithinMs`, also unless the job completed that recently. Undefined: not taken.
 */
export async function takeJobLease(
  db: Database,
  job: string,
  holder: string,
  leaseMs: number,
  options: { readonly notCompletedWithinMs?: number } = {},
): Promise<JobLease | undefined> {
  const recent = options.notCompletedWithinMs;
  const rows = await db.execute<{ name: string }>(sql`
    insert into job_runs (name, leased_until, lease_holder)
    values (${job}, now() + ${Math.round(leaseMs)}::float8 * interval '1 millisecond', ${holder})
    on conflict (name) do update set leased_until = excluded.leased_until, lease_holder = excluded.lease_holder
    where (job_runs.leased_until is null or job_runs.leased_until <= now())
      ${
        recent === undefined
          ? sql``
          : sql`and (job_runs.last_run_at is null or job_runs.last_run_at <= now() - ${Math.round(recent)}::float8 * interval '1 millisecond')`
      }
    returning name`);
  return rows.length > 0 ? { job, holder } : undefined;
}

/** Gives the lease back; `completed` records that the job ran to its end now. */
export async function releaseJobLease(db: Database, lease: JobLease, completed: boolean): Promise<void> {
  await db.execute(sql`
    update job_runs
    set leased_until = null, lease_holder = null, last_run_at = case when ${completed}::boolean then now() else last_run_at end
    where name = ${lease.job} and lease_holder = ${lease.holder}`);
}

/** How long until the job's running lease ends; undefined when nobody holds it. */
export async function jobLeaseRemainingMs(db: Database, job: string): Promise<number | undefined> {
  const [row] = await db.execute<{ remaining_ms: number | null }>(sql`
    select (extract(epoch from (leased_until - now())) * 1000)::float8 as remaining_ms
    from job_runs where name = ${job} and leased_until > now()`);
  return row?.remaining_ms ?? undefined;
}
