/** Shared by licensegate's BullMQ workers (admin jobs, scheduled ledger jobs). */

/**
 * How long a worker waits before it fetches again after BullMQ's fetch failed on a connection
 * error (its `runRetryDelay`, 15 s by default). A Sentinel or Cluster failover gives exactly
 * such errors ("Connection is closed", ECONNREFUSED) while ioredis finds the new primary; 15 s
 * would leave every admin job of that time unanswered long after Redis is back (SPEC X3).
 */
export const WORKER_RETRY_DELAY_MS = 500;
