/**
 * What an agent is told when its Hello failed after reaching Redis. Retryable conditions carry
 * a retry hint from admission control, so that refused agents come back spread out:
 * - ENROLLMENT_PENDING: the connection that registered this client id is still open (C2);
 * - NOT_DURABLE: the script ran but its writes did not reach the DURABILITY replicas in time,
 *   so no Welcome (F5);
 * - REDIS_UNAVAILABLE: Redis unreachable or failing over is not a server fault (X3).
 * Anything else keeps its own code (unknown faults are INTERNAL_ERROR).
 */
import { LicensegateError, toLicensegateError } from '../errors.ts';
import { isRedisUnavailable } from '../store/redis-errors.ts';

export function helloRefusal(err: unknown, retryAfterMs: () => number): LicensegateError {
  const refusal = toLicensegateError(err);
  if (refusal.code === 'ENROLLMENT_PENDING') return new LicensegateError('ENROLLMENT_PENDING', undefined, { retryAfterMs: retryAfterMs() });
  if (refusal.code === 'NOT_DURABLE') return new LicensegateError('NOT_DURABLE', undefined, { retryAfterMs: retryAfterMs(), cause: refusal });
  if (refusal.code === 'INTERNAL_ERROR' && isRedisUnavailable(err)) {
    return new LicensegateError('REDIS_UNAVAILABLE', (err as Error).message, { retryAfterMs: retryAfterMs(), cause: err });
  }
  return refusal;
}
