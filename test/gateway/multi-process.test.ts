import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent-sim/agent.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import type { LicenseTypeName } from '../../src/licensing/license-types.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { connectRedis, redisEnv, uniquePrefix } from '../helpers/redis.ts';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connectRedis();
});
afterAll(() => redis.disconnect());

function envFor(prefix: string): Record<string, string> {
  return {
    ...redisEnv(),
    KEY_PREFIX: prefix,
    QUEUE_PREFIX: `{${prefix}}`,
    ENROLLMENT_TOKEN: TEST_TOKEN,
    NODE_HEARTBEAT_MS: '200',
    NODE_TIMEOUT_MS: '1000',
  };
}

/** Licenses for the deployment under `prefix`, activated before its processes start. */
async function provision(prefix: string, pool: Partial<Record<LicenseTypeName, number>>): Promise<Keys> {
  const keys = new Keys(prefix, `{${prefix}}`);
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  await activatePool(ledgerContext(redis, keys), pool);
  return keys;
}

async function startMany(n: number, env: Record<string, string>): Promise<GatewayProcess[]> {
  return Promise.all(Array.from({ length: n }, () => startGatewayProcess(env)));
}

describe('several gateway processes on one Redis', () => {
  it('L3 L4: 300 agents over 3 gateway processes for a pool of 100 → exactly 100 licensed', async () => {
    const prefix = uniquePrefix('mp');
    const keys = await provision(prefix, { 'workstation': 100 });
    const procs = await startMany(3, envFor(prefix));
    try {
      const agents = Array.from({ length: 300 }, (_, i) => newAgent(procs[i % 3]!.url, { os: OS.windows }));
      const welcomes = await Promise.all(agents.map((a) => a.connect()));
      expect(welcomes.filter((w) => w.license.licensed)).toHaveLength(100);
      expect(await redis.scard(keys.holders('default', 'workstation'))).toBe(100);
      expect(await checkInvariants(redis, keys)).toEqual({ ok: true, violations: [] });
      await Promise.all(agents.map((a) => a.close()));
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
    }
  });

  it('C5: a connection on another process is superseded through the node channel', async () => {
    const prefix = uniquePrefix('mp');
    const keys = await provision(prefix, { 'workstation': 5 });
    const [a, b] = await startMany(2, envFor(prefix));
    try {
      const onA = newAgent(a!.url);
      await onA.connect();
      const onB = new Agent({ url: b!.url, clientId: onA.clientId, credential: onA.credential!, os: OS.windows });
      await onB.connect();
      await onA.waitFor(() => onA.lastClose !== null);
      expect(onA.lastError?.code).toBe('SUPERSEDED');
      expect(await redis.hget(keys.online('default'), onA.clientId)).toMatch(new RegExp(`^${b!.nodeId}:`));
      await onB.close();
    } finally {
      await Promise.all([a!.stop(), b!.stop()]);
    }
  });

  it('C4: the Clients of a gateway that dies are marked offline within its liveness timeout', async () => {
    const prefix = uniquePrefix('mp');
    const keys = await provision(prefix, { 'linux': 20 });
    const [victim, survivor] = await startMany(2, envFor(prefix));
    try {
      const agents = Array.from({ length: 20 }, () => newAgent(victim!.url, { os: OS.linux }));
      await Promise.all(agents.map((x) => x.connect()));
      expect(await redis.hlen(keys.online('default'))).toBe(20);
      await victim!.kill();
      const killedAt = Date.now();
      await eventually(async () => (await redis.hlen(keys.online('default'))) === 0, 'clients of the dead node offline', 5000);
      // NODE_TIMEOUT_MS (1000) + the survivor's reaping period (200) + slack.
      expect(Date.now() - killedAt).toBeLessThan(2500);
      // The reaper forgets the node once its last chunk of Clients is offline: one round trip later.
      await eventually(async () => (await redis.zscore(keys.nodes(), victim!.nodeId)) === null, 'the dead node forgotten', 2000);
      // Licenses stay with their Clients while they are offline.
      expect(await redis.scard(keys.holders('default', 'linux'))).toBe(20);
      for (const x of agents) x.terminate();
    } finally {
      await survivor!.stop();
    }
  });

  it('C4: SIGTERM closes agents with 1001, marks them offline at once and exits 0', async () => {
    const prefix = uniquePrefix('mp');
    const keys = await provision(prefix, { 'workstation': 10 });
    const [proc] = await startMany(1, envFor(prefix));
    const agents = Array.from({ length: 10 }, () => newAgent(proc!.url));
    await Promise.all(agents.map((x) => x.connect()));
    expect(await proc!.stop()).toBe(0);
    await Promise.all(agents.map((x) => x.waitFor(() => x.lastClose !== null)));
    expect(agents.map((x) => x.lastClose?.code)).toEqual(Array(10).fill(1001));
    expect(agents.map((x) => x.lastError?.code)).toEqual(Array(10).fill('SHUTTING_DOWN'));
    expect(await redis.hlen(keys.online('default'))).toBe(0);
    expect(await redis.zscore(keys.nodes(), proc!.nodeId)).toBeNull();
  });
});
