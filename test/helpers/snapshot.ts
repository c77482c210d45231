/** Every key under a prefix with its full value: to prove that something changed nothing. */
import type { Redis } from 'ioredis';

export async function snapshot(redis: Redis, prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  let cursor = '0';
  const names: string[] = [];
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    names.push(...batch);
  } while (cursor !== '0');
  for (const key of names.sort()) {
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
