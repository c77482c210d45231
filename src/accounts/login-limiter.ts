/**
 * Login limits (SPEC H2, Z4 for people): online password guessing is bounded per account and
 * per source address, in Redis so that every gateway process shares the counts.
 *
 * - Per account (by lower-cased login name, known or not — so the limit itself does not reveal
 *   which names exist): the first 5 consecutive failures are free; each further failure locks
 *   the name for 1 s, doubling (2 s, 4 s, …) up to 15 min. A successful login resets it; the
 *   count is forgotten a day after the last failure.
 * - Per source address: 20 failures within a 5-minute window (from the window's first failure)
 *   lock every login from that address until the window ends.
 *
 * A locked login is refused with LOGIN_RATE_LIMITED (429, Retry-After) before the password is
 * checked, so a locked attempt costs no scrypt time either.
 */
import { LicensegateError } from '../errors.ts';
import type { Keys } from '../store/keys.ts';
import type { RedisClient } from '../store/redis-connection.ts';
import { nameKey } from './account-store.ts';

export interface LoginLimits {
  /** Consecutive failures per name before the backoff starts. */
  freeFailures: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Failures per source address within the window. */
  sourceFailures: number;
  sourceWindowMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  freeFailures: 5,
  backoffBaseMs: 1_000,
  backoffMaxMs: 15 * 60_000,
  sourceFailures: 20,
  sourceWindowMs: 5 * 60_000,
};

const FORGET_MS = 86_400_000;

export class LoginLimiter {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws LOGIN_RATE_LIMITED when this name or this address is locked now. */
  async check(name: string, sourceAddress: string): Promise<void> {
    const [[, until], [, count], [, ttl]] = ((await this.redis
      .pipeline()
      .hget(this.keys.loginFailures(nameKey(name)), 'until')
      .get(this.keys.loginSourceFailures(sourceAddress))
      .pttl(this.keys.loginSourceFailures(sourceAddress))
      .exec()) ?? []) as [unknown, string | null][];
    const now = this.now();
    if (until && Number(until) > now) {
      throw new LicensegateError('LOGIN_RATE_LIMITED', 'this account', { retryAfterMs: Number(until) - now });
    }
    if (count && Number(count) >= this.limits.sourceFailures) {
      const left = Number(ttl);
      throw new LicensegateError('LOGIN_RATE_LIMITED', 'this address', { retryAfterMs: left > 0 ? left : this.limits.sourceWindowMs });
    }
  }

  /** Counts a failed login for the name and the address. */
  async failed(name: string, sourceAddress: string): Promise<void> {
    const accountKey = this.keys.loginFailures(nameKey(name));
    const sourceKey = this.keys.loginSourceFailures(sourceAddress);
    const replies = (await this.redis
      .pipeline()
      .hincrby(accountKey, 'failures', 1)
      .pexpire(accountKey, FORGET_MS)
      .incr(sourceKey)
      .pexpire(sourceKey, this.limits.sourceWindowMs, 'NX')
      .exec()) ?? [];
    const failures = Number(replies[0]?.[1] ?? 0);
    const over = failures - this.limits.freeFailures;
    if (over >= 0) {
      const backoff = Math.min(this.limits.backoffMaxMs, this.limits.backoffBaseMs * 2 ** Math.min(over, 30));
      await this.redis.hset(accountKey, 'until', this.now() + backoff);
    }
  }

  /** A successful login clears the name's failures (not the address's: a guesser may own one account). */
  async succeeded(name: string): Promise<void> {
    await this.redis.del(this.keys.loginFailures(nameKey(name)));
  }
}
