/** Creates ioredis connections with licensegate's scripts defined. */
import { Redis, type RedisOptions } from 'ioredis';
import { setDurability, type DurabilityMode } from './durability.ts';
import { defineScripts } from './scripts.ts';

export interface RedisConnectionOptions {
  /** Name shown by CLIENT LIST, e.g. `licensegate:gateway`. */
  connectionName?: string;
  /** BullMQ connections need null here; licensegate's own keep ioredis' default. */
  maxRetriesPerRequest?: number | null;
  /**
   * Batch the commands issued in one event-loop turn into one write (the gateway's command
   * connection under a connection storm). Never on BullMQ's connections. Default false.
   */
  autoPipelining?: boolean;
  /**
   * DURABILITY of what is written on this connection (default everysec): with `replicas:<n>`
   * its TurnBatcher and awaitDurable() end their writes with WAIT (src/store/durability.ts).
   */
  durability?: DurabilityMode;
}

export function createRedis(url: string, options: RedisConnectionOptions = {}): Redis {
  const redisOptions: RedisOptions = {
    connectionName: options.connectionName ?? 'licensegate',
    lazyConnect: false,
    enableAutoPipelining: options.autoPipelining ?? false,
  };
  if (options.maxRetriesPerRequest !== undefined) redisOptions.maxRetriesPerRequest = options.maxRetriesPerRequest;
  const redis = new Redis(url, redisOptions);
  defineScripts(redis);
  if (options.durability) setDurability(redis, options.durability);
  return redis;
}

/** Resolves once the connection is ready, rejects after timeoutMs with the last error. */
export async function waitReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let lastError: unknown;
    const onError = (err: unknown) => {
      lastError = err;
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`redis not ready after ${timeoutMs} ms${lastError ? `: ${(lastError as Error).message}` : ''}`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    function cleanup() {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
    }
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}
