/**
 * The Redis round trip measured at each scrape: one PING on the gateway's command connection,
 * bounded by a timeout so that a hung Redis cannot hold a scrape. Together with the Hello
 * script's own round trips (hello-flow.ts) this is the honest, cheap view of Redis latency:
 * nothing is added to the hot paths but two clock reads per Hello.
 */
import type { RedisClient } from '../store/redis-connection.ts';
import type { Metrics } from './instruments.ts';

export const PING_TIMEOUT_MS = 1_000;

export async function pingRedis(redis: RedisClient, metrics: Metrics): Promise<void> {
  if (redis.status !== 'ready') return;
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('ping timeout')), PING_TIMEOUT_MS);
      }),
    ]);
    metrics.redisRoundTrip('ping', (performance.now() - t0) / 1000);
  } finally {
    clearTimeout(timer);
  }
}
