/**
 * Per-file Redis access for tests: the Redis the project runs against (`redisTarget`: one
 * redis-server, a Sentinel setup or a Cluster), a fresh key prefix per file.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { inject } from 'vitest';
import { Keys } from '../../src/store/keys.ts';
import { createRedis, isCluster, nodesOf, waitReady, type RedisClient, type RedisConnectionOptions } from '../../src/store/redis-connection.ts';
import { clearedTargetEnv, targetEnv, type RedisTarget } from '../../src/store/redis-target.ts';

/**
 * The one plain redis-server of the unit-and-integration project. Only for tests that need a
 * single server of their own kind (proxies, pauses, restarts, durability): they stay out of the
 * sentinel and cluster projects, whose setups provide no `redisUrl`.
 */
export function redisUrl(): string {
  const url = inject('redisUrl');
  if (!url) throw new Error('this test needs one plain redis-server (redisUrl): run it in the unit-and-integration project');
  return url;
}

/** The Redis this project's suites run against. */
export function redisTarget(): RedisTarget {
  return inject('redisTarget');
}

/**
 * The environment a spawned process (`licensegate serve`, `licensegate admin`) needs to reach
 * the project's Redis: every Redis mode variable blanked, then the target's own.
 */
export function redisEnv(): Record<string, string> {
  return { ...clearedTargetEnv(), ...targetEnv(redisTarget()) };
}

/** A unique key prefix, so files and tests never see each other's data. */
export function uniquePrefix(label = 't'): string {
  return `${label}${randomBytes(4).toString('hex')}`;
}

/** A new connection to the project's Redis (scripts defined), for BullMQ too (`maxRetriesPerRequest: null`). */
export function openRedis(options: RedisConnectionOptions = {}): RedisClient {
  return createRedis(redisTarget(), { connectionName: 'licensegate:test', ...options });
}

export async function connectRedis(options: RedisConnectionOptions = {}): Promise<RedisClient> {
  const redis = openRedis(options);
  await waitReady(redis);
  return redis;
}

/** The connection as one Redis, for code that only works on one server (the chaos suite's readers). */
export function singleRedis(redis: RedisClient): Redis {
  if (isCluster(redis)) throw new Error('this test needs one Redis, not a Cluster: run it in the unit-and-integration project');
  return redis;
}

export function newKeys(label?: string): Keys {
  const prefix = uniquePrefix(label);
  return new Keys(prefix, `{${prefix}}`);
}

/**
 * Every key matching `pattern`, from every master: on a Cluster, SCAN on the client reaches one
 * random node only. Tests only (never a hot path).
 */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const names: string[] = [];
  for (const node of nodesOf(redis)) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      names.push(...batch);
    } while (cursor !== '0');
  }
  return [...new Set(names)].sort();
}
