/**
 * Issue 12: one tenant per name holds across worker processes. Two `licensegate serve`
 * processes each run an admin worker on one queue; twelve tenant.create jobs of one name, sent
 * at once, can be taken by either (both workers run
 * concurrently; BullMQ decides who takes which) — exactly one tenant comes out, the others are TENANT_EXISTS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, AdminJobError } from '../../src/admin/client.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { ensureTenant, listTenants } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { activatePool, ledgerContext, vendor } from '../helpers/ledger.ts';
import { connectRedis, newKeys, redisEnv, redisTarget } from '../helpers/redis.ts';

let redis: RedisClient;
const keys = newKeys('race');
let processes: GatewayProcess[] = [];
let admin: AdminClient;

beforeAll(async () => {
  redis = await connectRedis();
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  await activatePool(ledgerContext(redis, keys), { linux: 10 });
  const env = { ...redisEnv(), KEY_PREFIX: keys.prefix, QUEUE_PREFIX: keys.queuePrefix, ENROLLMENT_TOKEN: TEST_TOKEN, RUN_WORKERS: 'true', VENDOR_PUBLIC_KEYS: vendor.publicKeyPem };
  processes = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
  admin = new AdminClient({ connection: redisTarget(), prefix: keys.queuePrefix, actor: TECHNICIAN, timeoutMs: 20_000 });
}, 40_000);
afterAll(async () => {
  await admin?.close();
  await Promise.all(processes.map((p) => p.stop()));
  redis?.disconnect();
});

describe('tenant names across worker processes', () => {
  it('T1: twelve concurrent tenant.create jobs of one name on two worker processes make one tenant; the rest are TENANT_EXISTS', async () => {
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => admin.createTenant({ name: i % 2 ? 'Wayne Enterprises' : ' wayne enterprises' })));
    const made = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(made).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as AdminJobError).code).toBe('TENANT_EXISTS');
    const tenants = (await listTenants(ledgerContext(redis, keys))).filter((x) => x.name.trim().toLowerCase() === 'wayne enterprises');
    expect(tenants.map((x) => x.id)).toEqual([made[0]!.id]);
  }, 30_000);
});
