import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent-sim/agent.ts';
import { LedgerScheduler, startSchedulerWorker } from '../../src/jobs/scheduler.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { endSerialKey, listSerialKeys } from '../../src/licensing/serial-key-ledger.ts';
import { createTenant, ensureTenant, grantLicenses } from '../../src/licensing/tenants.ts';
import { tenantPools } from '../../src/licensing/views.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { pino } from 'pino';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, startTestGateway, TEST_TOKEN, type TestGateway } from '../helpers/gateway.ts';
import { startGatewayProcess } from '../helpers/gateway-process.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, newKeys, openRedis, redisEnv, scanKeys } from '../helpers/redis.ts';

async function licensedAgents(gw: TestGateway, n: number, extra: Partial<ConstructorParameters<typeof Agent>[0]> = {}): Promise<Agent[]> {
  const agents = Array.from({ length: n }, () => newAgent(gw.url, { os: OS.linux, ...extra }));
  for (const a of agents) {
    await a.connect();
    await a.waitFor(() => a.monitoring);
  }
  return agents;
}

async function expectOk(gw: TestGateway) {
  expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
}

describe('key expiry', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ gateway: { heartbeatIntervalMs: 60_000 } });
  });
  afterAll(() => gw.stop());

  it('S4 C7 C9: exactly the licenses of the expired key are unassigned; online agents get StopMonitoring at once; a new key licenses them again', async () => {
    const soon = await activatePool(gw.ctx, { linux: 2 }, { expiresAt: Date.now() + 86_400_000 });
    const agents = await licensedAgents(gw, 2);
    const later = await activatePool(gw.ctx, { linux: 1 }, { expiresAt: Date.now() + 90 * 86_400_000 });
    const third = (await licensedAgents(gw, 1))[0]!;
    expect(await gw.redis.scard(gw.keys.keyHolders(DEFAULT_TENANT, later, 'linux'))).toBe(1);

    expect(await endSerialKey(gw.ctx, soon, 'expired')).toBe(2);
    await Promise.all(agents.map((a) => a.waitFor(() => !a.monitoring)));
    for (const a of agents) expect(a.commands.at(-1)).toMatchObject({ kind: 'stop', reason: 'KEY_EXPIRED' });
    expect(third.monitoring).toBe(true);
    expect((await tenantPools(gw.ctx, DEFAULT_TENANT)).find((p) => p.type === 'linux')).toMatchObject({ granted: 1, assigned: 1, waiting: 2 });
    await expectOk(gw);

    // A reconnect says why, and does not license them from nothing.
    await agents[0]!.close();
    expect((await agents[0]!.connect()).license).toMatchObject({ licensed: false, reason: 'KEY_EXPIRED' });

    await activatePool(gw.ctx, { linux: 5 });
    await Promise.all(agents.map((a) => a.waitFor(() => a.monitoring)));
    await expectOk(gw);
    await Promise.all([...agents, third].map((a) => a.close()));
  });

  it('S4: holders of an expiring key move to another key with room without losing monitoring', async () => {
    const local = await startTestGateway({ gateway: { heartbeatIntervalMs: 60_000 } });
    const soon = await activatePool(local.ctx, { workstation: 2 }, { expiresAt: Date.now() + 86_400_000 });
    const agents = await licensedAgents(local, 2, { os: OS.windows });
    const later = await activatePool(local.ctx, { workstation: 5 });
    expect(await endSerialKey(local.ctx, soon, 'expired')).toBe(0);
    expect(await local.redis.scard(local.keys.keyHolders(DEFAULT_TENANT, later, 'workstation'))).toBe(2);
    // Moved silently: still monitoring, and nothing was appended to their logs.
    expect(agents.every((a) => a.monitoring && a.commands.length === 0)).toBe(true);
    for (const a of agents) expect(await local.redis.hget(local.keys.client(DEFAULT_TENANT, a.clientId), 'seq')).toBe('0');
    await expectOk(local);
    await Promise.all(agents.map((a) => a.close()));
    await local.stop();
  });

  it('S4 T1: expiry withdraws the key\'s grants from tenants, whose Clients get StopMonitoring', async () => {
    const local = await startTestGateway({ gateway: { heartbeatIntervalMs: 60_000 } });
    const keyId = await activatePool(local.ctx, { linux: 3 }, { expiresAt: Date.now() + 86_400_000 });
    const tenant = await createTenant(local.ctx, TECHNICIAN, 'Initech');
    await grantLicenses(local.ctx, TECHNICIAN, tenant.id, 'linux', 2);
    const agents = await licensedAgents(local, 2, { tenantId: tenant.id, enrollmentToken: tenant.enrollmentToken });
    expect(await endSerialKey(local.ctx, keyId, 'expired')).toBe(2);
    await Promise.all(agents.map((a) => a.waitFor(() => !a.monitoring)));
    expect((await tenantPools(local.ctx, tenant.id)).find((p) => p.type === 'linux')).toMatchObject({ granted: 0, assigned: 0 });
    expect(await local.redis.hlen(local.keys.grants())).toBe(0);
    await expectOk(local);
    await Promise.all(agents.map((a) => a.close()));
    await local.stop();
  });
});

describe('key expiry on time', () => {
  let redis: RedisClient;
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(() => redis.disconnect());

  it('S4: the scheduler expires a key at its instant and the online agent gets StopMonitoring', async () => {
    const gw = await startTestGateway({ gateway: { heartbeatIntervalMs: 60_000 } });
    const bull = openRedis({ maxRetriesPerRequest: null });
    const scheduler = new LedgerScheduler(bull, gw.keys.queuePrefix);
    const ctx = { ...gw.ctx, scheduler };
    const worker = startSchedulerWorker(bull, gw.keys.queuePrefix, ctx, pino({ level: 'silent' }));
    try {
      const expiresAt = Date.now() + 1500;
      const keyId = await activatePool(ctx, { linux: 1 }, { expiresAt });
      const [agent] = await licensedAgents(gw, 1);
      await agent!.waitFor(() => !agent!.monitoring, 10_000);
      const lag = Date.now() - expiresAt;
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThan(3000);
      expect((await listSerialKeys(gw.ctx)).find((r) => r.payload.keyId === keyId)?.status).toBe('expired');
      await agent!.close();
    } finally {
      await worker.close();
      await scheduler.close();
      bull.disconnect();
      await gw.stop();
    }
  });

  it('S4 R1: a key that expired while nothing ran is expired at start-up, and its Client is told on reconnect', async () => {
    const keys = newKeys('boot');
    const ctx = ledgerContext(redis, keys);
    await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
    const env = { ...redisEnv(), KEY_PREFIX: keys.prefix, QUEUE_PREFIX: keys.queuePrefix, ENROLLMENT_TOKEN: TEST_TOKEN };
    const first = await startGatewayProcess(env);
    // Activated once the gateway is up, so that a slow start on a busy machine cannot eat the key's life.
    const expiresAt = Date.now() + 4000;
    const keyId = await activatePool(ctx, { linux: 1 }, { expiresAt });
    const agent = newAgent(first.url, { os: OS.linux });
    await agent.connect();
    await agent.waitFor(() => agent.monitoring);
    await agent.close();
    // Stop before the scheduler's job fires, and wipe the scheduled job: only start-up can expire it now.
    expect(await first.stop()).toBe(0);
    const queueKeys = await scanKeys(redis, `${keys.queuePrefix}:*`);
    if (queueKeys.length) await redis.del(...queueKeys);
    await eventually(() => Date.now() > expiresAt, 'the key expiry passes', 8000, 50);
    const second = await startGatewayProcess(env);
    try {
      expect((await listSerialKeys(ctx)).find((r) => r.payload.keyId === keyId)?.status).toBe('expired');
      const again = new Agent({ url: second.url, clientId: agent.clientId, credential: agent.credential!, os: OS.linux, lastAckedSeq: agent.lastAckedSeq });
      expect((await again.connect()).license).toMatchObject({ licensed: false, reason: 'KEY_EXPIRED' });
      await again.waitFor(() => again.commands.some((c) => c.kind === 'stop'));
      expect(again.commands.at(-1)).toMatchObject({ kind: 'stop', reason: 'KEY_EXPIRED' });
      await again.close();
      expect(await checkInvariants(redis, keys)).toEqual({ ok: true, violations: [] });
    } finally {
      await second.stop();
    }
  });
});
