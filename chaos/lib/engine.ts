/**
 * The Redis a chaos scenario runs on (SPEC X1): the suite's own single redis-server (AOF on,
 * killable and restartable from its AOF — every scenario before the failover ones), a Sentinel
 * setup (1 primary + 2 replicas + 3 redis-sentinel processes) or a Redis Cluster (3 masters,
 * each with its replicas). Whatever the kind, the processes of the scenario reach it through
 * one RedisTarget: spawned processes get its environment (targetEnv), the checker and the admin
 * client connect with createRedis(target).
 */
import { join } from 'node:path';
import type { Scope } from '../../bench/lib/scope.ts';
import { clearedTargetEnv, singleTarget, targetEnv, type RedisTarget } from '../../src/store/redis-target.ts';
import { RedisClusterTopology } from './redis-cluster.ts';
import { ChaosRedis, type AppendFsync } from './redis-server.ts';
import { RedisSentinelTopology } from './redis-sentinel.ts';

export type EngineSpec =
  | { kind: 'single' }
  | { kind: 'sentinel' }
  /**
   * replicasPerMaster 2 by default: with DURABILITY=replicas:1 a shard whose master failed over
   * must still have a replica to acknowledge WAIT, or it refuses every acknowledgement
   * (NOT_DURABLE) until the dead node comes back.
   */
  | { kind: 'cluster'; replicasPerMaster?: number };

export type ChaosEngine =
  | { kind: 'single'; redis: ChaosRedis; target: RedisTarget }
  | { kind: 'sentinel'; topology: RedisSentinelTopology; target: RedisTarget }
  | { kind: 'cluster'; topology: RedisClusterTopology; target: RedisTarget };

export async function startEngine(scope: Scope, dir: string, spec: EngineSpec, appendfsync: AppendFsync): Promise<ChaosEngine> {
  if (spec.kind === 'single') {
    const redis = await ChaosRedis.start(scope, { dir: join(dir, 'redis'), appendfsync });
    return { kind: 'single', redis, target: singleTarget(redis.url) };
  }
  if (spec.kind === 'sentinel') {
    const topology = await RedisSentinelTopology.start(scope, { dir: join(dir, 'sentinel'), appendfsync });
    return { kind: 'sentinel', topology, target: { kind: 'sentinel', sentinels: topology.sentinels(), name: topology.name } };
  }
  const topology = await RedisClusterTopology.start(scope, { dir: join(dir, 'cluster'), appendfsync, replicasPerMaster: spec.replicasPerMaster ?? 2 });
  return { kind: 'cluster', topology, target: { kind: 'cluster', nodes: topology.seedNodes() } };
}

/** Environment of a spawned process that must use `target` and nothing it inherited. */
export function engineEnv(target: RedisTarget): Record<string, string> {
  return { ...clearedTargetEnv(), ...targetEnv(target) };
}

/** Process ids of the engine's data servers, for the log. */
export function describeEngine(e: ChaosEngine): string {
  if (e.kind === 'single') return `redis ${e.redis.pid}`;
  if (e.kind === 'sentinel') return `sentinel setup: servers ${e.topology.servers.map((s) => s.port).join(',')}, sentinels ${e.topology.sentinels().map((s) => s.port).join(',')}`;
  return `cluster: ${e.topology.nodes.map((n) => `${n.port}${n.role === 'master' ? 'M' : 'r'}`).join(',')}`;
}
