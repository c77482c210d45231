/**
 * Which Redis failures mean "Redis is not reachable right now" rather than "this request is
 * wrong" or "the server is broken": a lost or refused connection, ioredis giving up on a
 * request, and the answers of a Cluster or Sentinel set-up in the middle of a failover or a
 * resharding. Callers turn them into the retryable REDIS_UNAVAILABLE (an agent retries after the
 * hint; the admin CLI says Redis cannot be reached) instead of INTERNAL_ERROR.
 */
const UNAVAILABLE_MESSAGE =
  /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|Command timed out|^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|READONLY|LOADING|MASTERDOWN) |Failed to refresh slots cache|None of the sentinels are available|All sentinels are unreachable|Cluster isn't ready|Connection in subscriber mode|is unavailable/;

export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError' || err.name === 'ClusterAllFailedError') return true;
  return UNAVAILABLE_MESSAGE.test(err.message);
}
