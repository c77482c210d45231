/**
 * The Redis engine a bench stack runs on (SPEC X1): `single` — one throwaway redis-server, as
 * every scenario ran before issue 9; `sentinel` — 1 primary + 2 replicas watched by 3
 * `redis-sentinel` processes; `cluster` — a Redis Cluster of 3 masters + 3 replicas. The
 * topologies are the chaos suite's launchers (chaos/lib/redis-sentinel.ts, redis-cluster.ts):
 * real processes, AOF everysec, fast failover settings, each in its own directory.
 *
 * Every process of the stack (gateways, worker, driver, baselines) gets the engine as a
 * RedisTarget — `{...clearedTargetEnv(), ...targetEnv(target)}` in its environment, or
 * createRedis(target) in the bench itself — never a URL, so one code path serves all three.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { RedisClusterTopology } from '../../chaos/lib/redis-cluster.ts';
import { RedisSentinelTopology } from '../../chaos/lib/redis-sentinel.ts';
import { createRedis, nodesOf, waitReady, type RedisClient } from '../../src/store/redis-connection.ts';
import { clearedTargetEnv, targetEnv, type RedisTarget } from '../../src/store/redis-target.ts';
import type { Scope } from './scope.ts';

export const ENGINES = ['single', 'sentinel', 'cluster'] as const;
export type BenchEngine = (typeof ENGINES)[number];

/** The environment a spawned process needs to reach `target` (and nothing it inherited). */
export function engineEnv(target: RedisTarget): Record<string, string> {
  return { ...clearedTargetEnv(), ...targetEnv(target) };
}

/** A started topology (sentinel or cluster), its target and a connection to it. */
export interface EngineTopology {
  engine: Exclude<BenchEngine, 'single'>;
  target: RedisTarget;
  redis: RedisClient;
  /** Every redis-server / redis-sentinel pid of the topology, by label (CPU windows). */
  pids(): Record<string, number | undefined>;
  cluster?: RedisClusterTopology;
  sentinel?: RedisSentinelTopology;
}

/**
 * Starts a Sentinel setup or a Cluster under `dataDir`, registered with `scope` (stopped with
 * it), and a connection with licensegate's scripts defined, ready when this resolves.
 */
export async function startTopology(scope: Scope, engine: Exclude<BenchEngine, 'single'>, o: { dataDir: string; appendfsync?: 'everysec' | 'always' }): Promise<EngineTopology> {
  scope.check();
  const dir = mkdtempSync(join(o.dataDir, `${engine}-`));
  let target: RedisTarget;
  let pids: () => Record<string, number | undefined>;
  let cluster: RedisClusterTopology | undefined;
  let sentinel: RedisSentinelTopology | undefined;
  if (engine === 'cluster') {
    cluster = await RedisClusterTopology.start(scope, { dir, masters: 3, replicasPerMaster: 1, appendfsync: o.appendfsync ?? 'everysec' });
    const c = cluster;
    target = { kind: 'cluster', nodes: c.seedNodes() };
    pids = () => Object.fromEntries(c.nodes.map((n) => [`redis-${n.index}`, n.process.running ? n.pid : undefined]));
  } else {
    sentinel = await RedisSentinelTopology.start(scope, { dir, replicas: 2, sentinels: 3, appendfsync: o.appendfsync ?? 'everysec' });
    const s = sentinel;
    target = { kind: 'sentinel', sentinels: s.sentinels(), name: s.name };
    pids = () => ({
      ...Object.fromEntries(s.servers.map((p, i) => [`redis-${i}`, p.running ? p.pid : undefined])),
      ...Object.fromEntries(s.sentinelProcesses.map((p, i) => [`sentinel-${i}`, p.running ? p.pid : undefined])),
    });
  }
  const redis = createRedis(target, { connectionName: 'licensegate:bench' });
  redis.on('error', () => {});
  scope.defer(`${engine} connection`, () => redis.quit().catch(() => redis.disconnect()));
  await waitReady(redis, 30_000);
  if (engine === 'cluster') await waitMasters(redis, 3);
  return { engine, target, redis, pids, ...(cluster ? { cluster } : {}), ...(sentinel ? { sentinel } : {}) };
}

/** A Cluster connection knows every master once its slots are loaded. */
async function waitMasters(redis: RedisClient, n: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (nodesOf(redis).length < n) {
    if (Date.now() > deadline) throw new Error(`cluster connection knows ${nodesOf(redis).length}/${n} masters after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One connection per master (INFO, CONFIG, SLOWLOG speak to one server). */
export function mastersOf(redis: RedisClient): Redis[] {
  return nodesOf(redis);
}
