/**
 * The Redis Cluster launcher (chaos/lib/redis-cluster.ts) is real: 3 masters + 3 replicas cover
 * every slot, a key written through ioredis' Cluster survives kill -9 of the master owning it
 * (SPEC X3: a replica takes over), and the same launcher runs with TLS + a password (X1).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Scope } from '../../bench/lib/scope.ts';
import { RedisClusterTopology } from '../../chaos/lib/redis-cluster.ts';
import { clientSecurityOptions } from '../../chaos/lib/redis-process.ts';
import { makeTestCertificate } from '../../chaos/lib/test-certificate.ts';
import { eventually } from '../helpers/gateway.ts';

const SLOTS = 16384;

function clusterClient(topology: RedisClusterTopology): Cluster {
  const cluster = new Cluster(topology.seedNodes(), { redisOptions: clientSecurityOptions(topology.security) });
  cluster.on('error', () => {});
  return cluster;
}

/** Slots covered by CLUSTER SLOTS, counted. */
async function coveredSlots(cluster: Cluster): Promise<number> {
  const ranges = (await cluster.cluster('SLOTS')) as [number, number][];
  return ranges.reduce((sum, [from, to]) => sum + (to - from + 1), 0);
}

describe('redis cluster launcher', () => {
  const scope = new Scope();
  const dir = mkdtempSync(join(tmpdir(), 'lg-cluster-'));
  const clients: Cluster[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await scope.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('X3: 3 masters + 3 replicas cover all 16384 slots; a key survives kill -9 of its master', async () => {
    let t = Date.now();
    const topology = await RedisClusterTopology.start(scope, { dir: join(dir, 'plain') });
    const startMs = Date.now() - t;
    expect(topology.nodes.filter((n) => n.role === 'master')).toHaveLength(3);
    expect(topology.nodes.filter((n) => n.role === 'replica')).toHaveLength(3);
    const cluster = clusterClient(topology);
    clients.push(cluster);
    expect(await coveredSlots(cluster)).toBe(SLOTS);

    const key = '{t:default}:infra-probe';
    // SET + WAIT in one pipeline: both go to the slot's master, so the replica has the key.
    const [[setErr], [waitErr, acked]] = (await cluster.pipeline().set(key, 'before-failover').call('WAIT', '1', '5000').exec())!;
    expect([setErr, waitErr, acked]).toEqual([null, null, 1]);

    const master = await topology.masterForKey(key);
    t = Date.now();
    await topology.kill9(master);
    const heir = await topology.waitFailover(master, 30_000);
    const failoverMs = Date.now() - t;
    expect(heir.port).not.toBe(master.port);
    expect((await topology.masterForKey(key)).port).toBe(heir.port);
    let value: string | null = null;
    await eventually(async () => {
      value = await cluster.get(key).catch(() => null);
      return value !== null;
    }, 'the key read back through the Cluster client', 20_000, 100);
    expect(value).toBe('before-failover');

    // The killed master comes back on its port and rejoins as a replica of its heir.
    await topology.restart(master);
    await eventually(async () => {
      await topology.refreshRoles();
      return master.role === 'replica';
    }, 'the restarted master rejoins as a replica', 20_000, 200);
    console.info(`cluster: start ${startMs} ms, failover ${failoverMs} ms`);
  });

  it('X1: the cluster runs with TLS and a password; ioredis Cluster writes and reads through it', async () => {
    const tls = makeTestCertificate(join(dir, 'tls-cert'));
    const t = Date.now();
    const topology = await RedisClusterTopology.start(scope, { dir: join(dir, 'tls'), password: 'cluster-secret', tls });
    console.info(`cluster with TLS + password: start ${Date.now() - t} ms`);
    const cluster = clusterClient(topology);
    clients.push(cluster);
    expect(await coveredSlots(cluster)).toBe(SLOTS);
    await cluster.set('{t:tls}:probe', 'over-tls');
    expect(await cluster.get('{t:tls}:probe')).toBe('over-tls');
    // Without the password the same nodes refuse.
    const anonymous = new Cluster(topology.seedNodes(), { redisOptions: { tls: clientSecurityOptions(topology.security).tls }, clusterRetryStrategy: () => null });
    anonymous.on('error', () => {});
    clients.push(anonymous);
    await expect(anonymous.get('{t:tls}:probe')).rejects.toThrow();
    await topology.stop();
    expect(topology.nodes.every((n) => !n.process.running)).toBe(true);
  });
});
