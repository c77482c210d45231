/** Per-file Redis access for tests: the global redis-server, a fresh key prefix per file. */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { inject } from 'vitest';
import { Keys } from '../../src/store/keys.ts';
import { createRedis, waitReady } from '../../src/store/redis-connection.ts';

export function redisUrl(): string {
  return inject('redisUrl');
}

/** A unique key prefix, so files and tests never see each other's data. */
export function uniquePrefix(label = 't'): string {
  return `${label}${randomBytes(4).toString('hex')}`;
}

export async function connectRedis(): Promise<Redis> {
  const redis = createRedis(redisUrl(), { connectionName: 'licensegate:test' });
  await waitReady(redis);
  return redis;
}

export function newKeys(label?: string): Keys {
  const prefix = uniquePrefix(label);
  return new Keys(prefix, `{${prefix}}`);
}
