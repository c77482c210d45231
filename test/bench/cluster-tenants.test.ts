/**
 * The bench's multi-tenant fleet for Redis Cluster (bench/lib/cluster-tenants.ts): its slot
 * function agrees with Redis' documented slots and with the one ioredis routes commands by
 * (cluster-key-slot, ioredis' own dependency), and the tenants it picks fall evenly into a
 * 3-master cluster's slot ranges.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { keySlot, shardOfSlot, spreadTenants, tenantPools } from '../../bench/lib/cluster-tenants.ts';
import { Keys } from '../../src/store/keys.ts';

/** ioredis' slot function (ioredis/built/cluster routes by it). */
const ioredisSlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;

describe('bench cluster tenants', () => {
  it('X1 X5: keySlot is the slot Redis and ioredis compute, hash tags included', () => {
    // From the Redis Cluster specification: CRC16/XMODEM('123456789') = 0x31C3; hash tags.
    expect(keySlot('123456789')).toBe(0x31c3);
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
    // An empty first tag hashes the whole key (CLUSTER KEYSLOT of redis-server 7.0.15 says so;
    // cluster-key-slot 1.1.1 disagrees on this edge, which licensegate's keys never have).
    expect(keySlot('foo{}{bar}')).toBe(8363);
    expect(keySlot('a{}{b}')).toBe(15033);
    const keys = new Keys('bench-ab12', '{bench-ab12}');
    const samples = ['foo', '{user1000}.following', 'foo{{bar}}zap', keys.tenant('mt-0'), keys.clientTenant(), keys.tenant('default'), keys.online('mt-7')];
    for (const key of samples) expect(keySlot(key), key).toBe(ioredisSlot(key));
  });

  it('X5: spreadTenants puts the same number of tenants on every shard, and tenantPools covers every agent once', () => {
    const tenants = spreadTenants(3, 2);
    expect(new Set(tenants).size).toBe(6);
    const keys = new Keys('any', '{any}');
    const shards = tenants.map((t) => shardOfSlot(keySlot(keys.tenant(t)), 3));
    expect(shards).toEqual([0, 1, 2, 0, 1, 2]);
    const pools = tenantPools(tenants, 100);
    const total = pools.reduce((a, p) => a + Object.values(p.pool).reduce((x, y) => x + (y ?? 0), 0), 0);
    expect(total).toBe(100);
  });
});
