/**
 * What an agent is told when its Hello failed after reaching Redis. Retryable conditions carry
 * a retry hint from admission control, so that refused agents come back spread out:
 * - ENROLLMENT_PENDING: the connection that registered this client id is still open (C2);
 * - ENROLL_RATE_LIMITED: the tenant's enrollment bucket is empty (Z3); the hint is the time
 *   until it holds a token again, plus admission's spread so a refused herd does not return
 *   at one instant;
 * - NOT_DURABLE: the script ran but its writes did not reach the DURABILITY replicas in time,
 *   so no Welcome (F5);
 * - REDIS_UNAVAILABLE: Redis unreachable or failing over is not a server fault (X3).
 * Anything else keeps its own code (unknown faults are INTERNAL_ERROR).
 *
 * maskForPeer then hides from a peer that has not authenticated whether a tenant or client
 * id exists (SPEC Z3): UNKNOWN_TENANT, CLIENT_IN_OTHER_TENANT and any detailed AUTH_FAILED
 * (a wrong enrollment proof) go out as a bare AUTH_FAILED; the real error is its `cause`,
 * for the server log. CLIENT_ALREADY_REGISTERED, ENROLLMENT_PENDING and CLIENT_UNINSTALLED
 * stay: they are only given after a valid enrollment token or credential (the peer holds the
 * tenant's secret), the agent needs them to act right (stop, retry, remove itself), and for a
 * client id bound to a proof a wrong proof is refused before any of them (docs/identity.md).
 */
import { ERRORS, LicensegateError, toLicensegateError, type ErrorCode } from '../errors.ts';
import { isRedisUnavailable } from '../store/redis-errors.ts';

export function helloRefusal(err: unknown, retryAfterMs: () => number): LicensegateError {
  const refusal = toLicensegateError(err);
  if (refusal.code === 'ENROLLMENT_PENDING') return new LicensegateError('ENROLLMENT_PENDING', undefined, { retryAfterMs: retryAfterMs() });
  if (refusal.code === 'ENROLL_RATE_LIMITED') return new LicensegateError('ENROLL_RATE_LIMITED', undefined, { retryAfterMs: refusal.retryAfterMs + retryAfterMs() });
  if (refusal.code === 'NOT_DURABLE') return new LicensegateError('NOT_DURABLE', undefined, { retryAfterMs: retryAfterMs(), cause: refusal });
  if (refusal.code === 'INTERNAL_ERROR' && isRedisUnavailable(err)) {
    return new LicensegateError('REDIS_UNAVAILABLE', (err as Error).message, { retryAfterMs: retryAfterMs(), cause: err });
  }
  return refusal;
}

/** Codes that would tell an unauthenticated peer whether a tenant or client id exists. */
const MASKED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['AUTH_FAILED', 'UNKNOWN_TENANT', 'CLIENT_IN_OTHER_TENANT']);

/** The refusal as the peer may see it: a bare AUTH_FAILED whose cause is the real one. */
export function maskForPeer(refusal: LicensegateError): LicensegateError {
  if (!MASKED.has(refusal.code)) return refusal;
  // Already bare (the catalogue's own text): nothing to hide.
  if (refusal.code === 'AUTH_FAILED' && refusal.message === ERRORS.AUTH_FAILED.message) return refusal;
  return new LicensegateError('AUTH_FAILED', undefined, { cause: refusal });
}
