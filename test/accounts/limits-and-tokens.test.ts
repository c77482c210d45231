/**
 * H2 Z2 with a controlled clock: the login backoff doubles from 1 s to 15 min and a success
 * resets it; the source window; API tokens' lastUsedAt is written at most once a minute; a set-up
 * token used concurrently works exactly once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../src/accounts/account-store.ts';
import { ApiTokens } from '../../src/accounts/api-tokens.ts';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter } from '../../src/accounts/login-limiter.ts';
import { SetupTokens } from '../../src/accounts/setup-tokens.ts';
import { connectRedis, newKeys } from '../helpers/redis.ts';

const redis = await connectRedis();
afterAll(() => redis.disconnect());

describe('login limiter', () => {
  it('H2: per account, 5 failures are free, then the lock doubles from 1 s up to 15 min; a success resets it; unknown names count too', async () => {
    const keys = newKeys('limit');
    let now = 1_000_000;
    const limiter = new LoginLimiter(redis, keys, DEFAULT_LOGIN_LIMITS, () => now);
    const locks: number[] = [];
    for (let i = 1; i <= 16; i++) {
      await limiter.failed('Mallory', `10.9.0.${i}`); // a new address each time: only the account limit applies
      const until = Number(await redis.hget(keys.loginFailures('mallory'), 'until'));
      locks.push(until > now ? until - now : 0);
    }
    expect(locks).toEqual([0, 0, 0, 0, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 900_000, 900_000]);
    await expect(limiter.check('MALLORY', '10.9.1.1')).rejects.toMatchObject({ code: 'LOGIN_RATE_LIMITED', retryAfterMs: 900_000 });
    now += 900_000;
    await expect(limiter.check('mallory', '10.9.1.1')).resolves.toBeUndefined();
    await limiter.succeeded('mallory');
    await limiter.failed('mallory', '10.9.1.2');
    await expect(limiter.check('mallory', '10.9.1.2')).resolves.toBeUndefined();
  });

  it('H2: per source address, the 20th failure in the window locks the address until the window ends', async () => {
    const keys = newKeys('limsrc');
    const limiter = new LoginLimiter(redis, keys);
    for (let i = 0; i < 19; i++) await limiter.failed(`name-${i}`, '198.51.100.9');
    await expect(limiter.check('someone', '198.51.100.9')).resolves.toBeUndefined();
    await limiter.failed('name-19', '198.51.100.9');
    const err = await limiter.check('someone', '198.51.100.9').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LOGIN_RATE_LIMITED' });
    expect((err as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(290_000);
    expect((err as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(300_000);
    await expect(limiter.check('someone', '198.51.100.10')).resolves.toBeUndefined();
  });
});

describe('API tokens and set-up tokens', () => {
  it('H2: lastUsedAt is written at most once a minute', async () => {
    const keys = newKeys('lastused');
    let now = 5_000_000;
    const tokens = new ApiTokens(redis, keys, () => now);
    const { token, info } = await tokens.create('svc');
    expect((await tokens.verify(token))?.lastUsedAt).toBe(now);
    const first = now;
    now += 59_000;
    await tokens.verify(token);
    expect(await redis.hget(keys.apiToken(info.id), 'lastUsedAt')).toBe(String(first));
    now += 2_000;
    await tokens.verify(token);
    expect(await redis.hget(keys.apiToken(info.id), 'lastUsedAt')).toBe(String(now));
    await tokens.revoke(info.id);
    expect(await tokens.verify(token)).toBeNull();
    expect(await redis.exists(keys.apiToken(info.id))).toBe(0); // no bare hash left behind
  });

  it('H2 Z2: a set-up token used by 8 requests at once sets the password once', async () => {
    const keys = newKeys('setuprace');
    await new AccountStore(redis, keys).create({ name: 'eve', tenantId: 'default', permissions: [] });
    const setup = new SetupTokens(redis, keys);
    const { token } = await setup.issue('eve');
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => setup.consume(token)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(Array(7).fill('SETUP_TOKEN_INVALID'));
    expect(await redis.exists(keys.accountSetupToken('eve'))).toBe(0);
  });
});
