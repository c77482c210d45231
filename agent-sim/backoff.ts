/**
 * Reconnect delays for agents (SPEC C13): exponential backoff with *full* jitter, so a fleet
 * that lost its gateway at the same instant spreads its reconnects over the whole window
 * instead of arriving in waves. Pure functions; `random` is injectable for tests.
 */

/** Backoff window: the ceiling for attempt n is min(capMs, baseMs * 2^n). */
export interface BackoffOptions {
  /** Ceiling of the first attempt's window (attempt 0), in milliseconds. */
  baseMs: number;
  /** Largest ceiling any attempt can reach, in milliseconds. */
  capMs: number;
}

/** The default used by Agent: 0.5 s doubling up to 30 s. */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = { baseMs: 500, capMs: 30_000 };

/**
 * Delay before reconnect attempt `attempt` (0 for the first retry): a whole number of
 * milliseconds drawn uniformly from [0, min(capMs, baseMs * 2^attempt)], both ends included.
 *
 * @param attempt - retries made so far since the last successful handshake; negative and NaN
 *   values are treated as 0.
 * @param random - source of uniform numbers in [0, 1), default Math.random.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  // Past 2^64 every realistic cap has long been reached; clamping keeps the product finite
  // (and avoids 0 * Infinity = NaN for baseMs 0). NaN and negative attempts count as 0.
  const n = attempt > 0 ? Math.min(Math.floor(attempt), 64) : 0;
  const ceiling = Math.floor(Math.max(0, Math.min(opts.capMs, opts.baseMs * 2 ** n)));
  // floor(r * (ceiling + 1)) is uniform over the integers 0..ceiling for r in [0, 1);
  // the min() only guards against a `random` that returns 1.
  return Math.min(ceiling, Math.floor(random() * (ceiling + 1)));
}

/**
 * Delay before a reconnect that may carry the gateway's OVERLOADED hint (Error.retry_after_ms):
 * max(retryAfterMs, backoffDelay(...)) when retryAfterMs > 0 — never earlier than the hint —
 * and plain backoffDelay(...) otherwise.
 */
export function retryDelay(
  attempt: number,
  opts: BackoffOptions,
  retryAfterMs = 0,
  random: () => number = Math.random,
): number {
  const jittered = backoffDelay(attempt, opts, random);
  return retryAfterMs > 0 ? Math.max(retryAfterMs, jittered) : jittered;
}
