/**
 * Retention in a real `licensegate serve` process (SPEC Z5, R3): its configuration reaches the
 * ledger upkeep, which trims the audit trail to AUDIT_MAX_ENTRIES and purges an uninstalled
 * Client after UNINSTALLED_RETENTION_DAYS, releasing its id, without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uninstallClient } from '../../src/licensing/client-admin.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess } from '../helpers/gateway-process.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, redisEnv, uniquePrefix } from '../helpers/redis.ts';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connectRedis();
});
afterAll(() => redis.disconnect());

describe('retention in licensegate serve', () => {
  it('Z5 R3: AUDIT_MAX_ENTRIES and UNINSTALLED_RETENTION_DAYS are applied by the upkeep of a running gateway', async () => {
    const prefix = uniquePrefix('rs');
    const keys = new Keys(prefix, `{${prefix}}`);
    const T = DEFAULT_TENANT;
    await ensureTenant(redis, keys, T, { enrollmentToken: TEST_TOKEN });
    const ctx = ledgerContext(redis, keys);
    await activatePool(ctx, { linux: 5 });
    const p = redis.pipeline();
    for (let i = 0; i < 3000; i++) p.xadd(keys.audit(T), '*', 'holder', `old-${i}`, 'action', 'assigned');
    await p.exec();

    const gw = await startGatewayProcess({
      ...redisEnv(),
      KEY_PREFIX: prefix,
      QUEUE_PREFIX: `{${prefix}}`,
      ENROLLMENT_TOKEN: TEST_TOKEN,
      LEDGER_UPKEEP_MS: '300',
      AUDIT_MAX_ENTRIES: '1000',
      UNINSTALLED_RETENTION_DAYS: '0.00002', // 1.7 s
    });
    try {
      await eventually(async () => (await redis.xlen(keys.audit(T))) < 1100, 'the audit trail trimmed to about AUDIT_MAX_ENTRIES', 30_000, 100);

      const agent = newAgent(gw.url, { os: OS.linux });
      await agent.connect();
      await agent.close();
      await eventually(async () => (await redis.hexists(keys.online(T), agent.clientId)) === 0, 'agent offline', 10_000);
      await uninstallClient(ctx, TECHNICIAN, T, agent.clientId);
      expect(await redis.hget(keys.clientTenant(), agent.clientId)).toBe(T);
      await eventually(
        async () => (await redis.exists(keys.client(T, agent.clientId))) === 0 && (await redis.hexists(keys.clientTenant(), agent.clientId)) === 0,
        'the uninstalled Client purged and its id released',
        30_000,
        100,
      );
      const again = newAgent(gw.url, { os: OS.linux, clientId: agent.clientId });
      expect((await again.connect()).license).toMatchObject({ licensed: true });
      await again.close();
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });
});
