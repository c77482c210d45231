/**
 * SPEC Z3: the failed-authentication audit stays bounded whatever the peers send: one entry
 * per existing tenant per window, and a single one (in the default tenant's trail) for every
 * tenant id that does not exist — no key for an invented tenant. Against the test Redis.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailedAuthAudit } from '../../src/gateway/failed-auth-audit.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { connectRedis, newKeys, scanKeys } from '../helpers/redis.ts';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connectRedis();
});
afterAll(() => redis.disconnect());

describe('Z3 failed-auth audit bounds', () => {
  it('Z3: 3,000 refusals naming 1,500 tenant ids that do not exist and one that does are two audit entries', async () => {
    const keys = newKeys('ida-b');
    await ensureTenant(redis, keys, DEFAULT_TENANT);
    await ensureTenant(redis, keys, 'acme');
    const audit = new FailedAuthAudit(redis, keys, pino({ level: 'silent' }), 3_600_000);
    try {
      for (let i = 0; i < 1_500; i++) {
        audit.record(`ghost-${i}`, 'CLIENT_IN_OTHER_TENANT', `10.0.${i % 250}.1`);
        audit.record(`ghost-${i}`, 'UNKNOWN_TENANT', '10.1.0.1');
      }
      for (let i = 0; i < 7; i++) audit.record('acme', 'AUTH_FAILED', '127.0.0.1');
      audit.record('acme', 'CLIENT_ALREADY_REGISTERED', '127.0.0.1'); // not a failed authentication
      await audit.flush();
    } finally {
      audit.close();
    }
    const acme = await redis.xrange(keys.audit('acme'), '-', '+');
    // The flood of invented tenant ids does not crowd the real tenant's entry out.
    expect(acme).toHaveLength(1);
    expect(acme[0]![1]).toEqual(expect.arrayContaining(['action', 'auth-failed', 'count', '7', 'codes', 'AUTH_FAILED=7', 'sources', '127.0.0.1']));
    const def = await redis.xrange(keys.audit(DEFAULT_TENANT), '-', '+');
    expect(def).toHaveLength(1);
    const f = def[0]![1];
    expect(f[f.indexOf('count') + 1]).toBe('3000');
    expect(f[f.indexOf('sources') + 1]!.split(',')).toHaveLength(5);
    expect(await scanKeys(redis, `${keys.prefix}:{t:ghost-*`)).toEqual([]);
  });
});
