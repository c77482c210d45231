/**
 * X2 behind a real load balancer: agent-sim agents that know one URL — HAProxy's, running the
 * shipped deploy/haproxy.cfg — are spread by it over two `licensegate serve` processes on the
 * project's Redis (the cluster project: a real 3 + 3 Redis Cluster), and every rule still
 * holds: each agent licensed once, the pool's holders exactly the fleet, invariants clean.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licenseSnapshot } from '../../bench/lib/ledger-snapshot.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { eventually } from '../helpers/gateway.ts';
import { LbStack } from '../helpers/lb-stack.ts';
import { ObservedFleet } from '../helpers/observed-fleet.ts';
import { connectRedis } from '../helpers/redis.ts';

const AGENTS = 300;
let redis: RedisClient;
let stack: LbStack;
let fleet: ObservedFleet;

beforeAll(async () => {
  redis = await connectRedis();
  // DRAIN_SECONDS=0: this file does not test the drain; its teardown stops at once.
  stack = await LbStack.start(redis, { gateways: 2, pool: { workstation: AGENTS }, env: { DRAIN_SECONDS: '0' } });
});
afterAll(async () => {
  await fleet?.closeAll();
  await stack?.stop();
  redis?.disconnect();
});

describe('gateways behind HAProxy', () => {
  it('X2: 300 agents through one HAProxy URL are all licensed and spread over both gateways', async () => {
    expect((await stack.haproxy.servers()).map((s) => s.status)).toEqual(['UP', 'UP']);
    fleet = new ObservedFleet(stack.url, AGENTS);
    expect(await fleet.connectAll()).toBe(AGENTS);

    // Each gateway's own count (/readyz) and HAProxy's sessions agree: everyone is on one of the
    // two, and leastconn gave each a fair share (300 arriving 50 at a time: ~150 each).
    const counts = await Promise.all([0, 1].map((i) => stack.readyz(i)));
    expect(counts.map((c) => c.status)).toEqual([200, 200]);
    expect(counts[0]!.connections + counts[1]!.connections).toBe(AGENTS);
    for (const c of counts) expect(c.connections).toBeGreaterThanOrEqual(AGENTS / 4);
    await eventually(async () => (await stack.haproxy.servers()).reduce((n, s) => n + s.sessions, 0) === AGENTS, 'HAProxy counts every agent');

    // Redis agrees: online on both gateways' nodes, each Client holding one license.
    const online = await redis.hgetall(stack.keys.online(DEFAULT_TENANT));
    const nodes = new Set(Object.values(online).map((v) => v.split(':')[0]));
    expect(Object.keys(online)).toHaveLength(AGENTS);
    expect(nodes).toEqual(new Set(stack.slots.map((s) => s.proc.nodeId)));
    expect((await licenseSnapshot(redis, stack.keys)).holders.workstation).toHaveLength(AGENTS);
    expect(await checkInvariants(redis, stack.keys)).toEqual({ ok: true, violations: [] });
  });
});
