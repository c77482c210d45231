/**
 * X3 F5 on a real Redis Cluster: with DURABILITY=replicas:1 each slot group's pipeline ends in a
 * WAIT. When the slot has moved (a failover, a resharding) every write of that pipeline is
 * refused with MOVED while the WAIT answers: ioredis retries a cluster pipeline only when no
 * write succeeded, and a WAIT is not a read, so it hands the MOVED errors back. The gate must
 * send the group again to the slot's new master (nothing of it ran), not fail the writes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scope } from '../../bench/lib/scope.ts';
import { RedisClusterTopology } from '../../chaos/lib/redis-cluster.ts';
import { parseDurability, replicaGateOf } from '../../src/store/durability.ts';
import { createRedis } from '../../src/store/redis-connection.ts';
import { keySlot } from '../../src/store/slot-routing.ts';
import { eventually } from '../helpers/gateway.ts';

const scope = new Scope();
const dir = mkdtempSync(join(tmpdir(), 'lg-gate-moved-'));
let topology: RedisClusterTopology;
let redis: Cluster;

beforeAll(async () => {
  topology = await RedisClusterTopology.start(scope, { dir });
  redis = createRedis({ kind: 'cluster', nodes: topology.seedNodes() }, { durability: parseDurability('replicas:1', 2000) }) as Cluster;
  redis.on('error', () => undefined);
});

afterAll(async () => {
  redis?.disconnect();
  await scope.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('X3 F5: the WAIT gate after a slot moved', () => {
  it('X3 F5: a slot group refused with MOVED is sent again to the new master and acknowledged', async () => {
    const key = 'lgm:{t:moved}:probe';
    const slot = keySlot(key);
    await redis.set(key, 'warm'); // the client's slot map now names the current owner
    await redis.del(key);
    const from = await topology.masterForSlot(slot);
    const to = topology.nodes.find((n) => n.role === 'master' && n.id !== from.id)!;
    // Move the (empty) slot behind the client's back: the new owner first, then the old one.
    await to.process.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
    await from.process.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
    await eventually(async () => (await topology.masterForSlot(slot)).id === to.id, 'the slot moved', 10_000, 100);

    const gate = replicaGateOf(redis)!;
    const { results, durable } = await gate.commit((p) => {
      p.set(key, 'after-move');
      p.incr('lgm:{t:moved}:n');
    }, key);
    expect(results.map(([err]) => err?.message ?? null)).toEqual([null, null]);
    expect(durable).toBe(true);
    expect(await redis.get(key)).toBe('after-move');
    expect(await redis.get('lgm:{t:moved}:n')).toBe('1');
  });
});
