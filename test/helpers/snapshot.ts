/** Every key under a prefix with its full value: to prove that something changed nothing. */
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { scanKeys } from './redis.ts';

export async function snapshot(redis: RedisClient, prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of await scanKeys(redis, `${prefix}:*`)) {
    const type = await redis.type(key);
    if (type === 'hash') out[key] = await redis.hgetall(key);
    else if (type === 'set') out[key] = (await redis.smembers(key)).sort();
    else if (type === 'zset') out[key] = await redis.zrange(key, '0', '-1', 'WITHSCORES');
    else if (type === 'stream') out[key] = await redis.xrange(key, '-', '+');
    else if (type === 'string') out[key] = await redis.get(key);
    else out[key] = type;
  }
  return out;
}
