/** Shared by licensegate's BullMQ workers (admin jobs, scheduled ledger jobs). */

/**
 * How long a worker waits before it fetches again after BullMQ's fetch failed on a connection
 * error (its `runRetryDelay`, 15 s by default). A Sentinel or Cluster failover gives exactly
 * such errors ("Connection is closed", ECONNREFUSED) while ioredis finds the new primary; 15 s
 * would leave every admin job of that time unanswered long after Redis is back (SPEC X3).
 */
export const WORKER_RETRY_DELAY_MS = 500;

/**
 * How long a worker's lock on an active job lasts (renewed every half of it while the job runs),
 * and how often a worker looks for active jobs whose lock expired. A job is left active with no
 * worker when its worker dies (kill -9) or when Redis crashed after recording the job active but
 * before the worker got the reply (seen in the chaos suite's redis-kill scenario). BullMQ's
 * defaults (30 s + 30 s) leave such a job unanswered for up to a minute; with these it is taken
 * again within 15 s. Retried handlers are idempotent (SPEC A3, F3), so a job taken again after a
 * stall (an event loop blocked for longer than the lock) has no second effect.
 */
export const WORKER_LOCK_MS = 10_000;
export const WORKER_STALLED_CHECK_MS = 5_000;

/** The timing options both of licensegate's workers use. */
export const WORKER_TIMING = {
  runRetryDelay: WORKER_RETRY_DELAY_MS,
  lockDuration: WORKER_LOCK_MS,
  stalledInterval: WORKER_STALLED_CHECK_MS,
} as const;
