/**
 * A Sentinel connection made by createRedis survives the failover it lives through (SPEC X3).
 *
 * ioredis' `failoverDetector` disconnects the connector when a sentinel announces
 * +switch-master. If that announcement arrives while the connection is already reconnecting
 * (after kill -9 of the primary it is: it keeps asking the sentinels until one names a live
 * primary) and a sentinel's answer is still on its way, the reconnect throws "Connection is
 * closed." and ioredis sets the connection to `end`: it never reconnects, and every command
 * fails from then on. The chaos suite met it in g-sentinel-failover (a worker's BullMQ
 * connection died; every admin job after the kill timed out). Here the race is made certain:
 * the first sentinel the client asks is stopped (SIGSTOP) while the others fail over, so its
 * answer comes only after +switch-master.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Scope } from '../../bench/lib/scope.ts';
import { RedisSentinelTopology } from '../../chaos/lib/redis-sentinel.ts';
import { createRedis, waitReady, type RedisClient } from '../../src/store/redis-connection.ts';
import { eventually } from '../helpers/gateway.ts';

describe('createRedis on Sentinel', () => {
  const scope = new Scope();
  const dir = mkdtempSync(join(tmpdir(), 'lg-sentinel-reconnect-'));
  const clients: RedisClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await scope.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('X3: a connection that is reconnecting when +switch-master arrives reaches the new primary', async () => {
    const topology = await RedisSentinelTopology.start(scope, { dir });
    const redis = createRedis({ kind: 'sentinel', sentinels: topology.sentinels(), name: topology.name }, { maxRetriesPerRequest: null });
    redis.on('error', () => {});
    clients.push(redis);
    await waitReady(redis);
    await redis.set('x3:before', '1');
    await redis.wait(1, 1000);

    // The client asks the sentinels in order; the first one answers only once it is resumed.
    const first = topology.sentinelProcesses[0]!;
    first.sigstop();
    const old = await topology.kill9Primary();
    // The other two (quorum 2) promote a replica and announce +switch-master meanwhile.
    const promoted = await topology.waitFailover(old, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    first.sigcont();

    // Either it reaches the new primary, or ioredis has given it up for good ('end').
    await eventually(() => redis.status === 'ready' || redis.status === 'end', 'the connection settled', 30_000);
    expect(redis.status).toBe('ready');
    expect(await redis.get('x3:before')).toBe('1');
    await redis.set('x3:after', '1');
    expect(await topology.server(promoted.port).call('GET', 'x3:after')).toBe('1');
  });
});
