/**
 * Creates ioredis connections with licensegate's scripts defined, for any RedisTarget: a
 * `Redis` for one Redis or a Sentinel-managed primary, a `Cluster` for Redis Cluster. Both
 * speak the same commands; code that needs one connection per node (WAIT, CONFIG GET, SCAN)
 * asks `nodesOf()`.
 */
import { readFileSync } from 'node:fs';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { setDurability, type DurabilityMode } from './durability.ts';
import { singleTarget, type RedisTarget } from './redis-target.ts';
import { defineScripts } from './scripts.ts';

/** A licensegate connection: one Redis (direct or through Sentinel) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

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
  /** Extra ioredis options (tests: lazyConnect, retryStrategy…); applied to every node. */
  extra?: RedisOptions;
}

/**
 * After a Sentinel failover the old primary may come back as a replica while a connection still
 * points at it: a write then fails with READONLY. Reconnecting (and resending) makes ioredis ask
 * the sentinels for the new primary. One Redis behind a proxy behaves the same way.
 */
function reconnectOnReadonly(err: Error): 2 | false {
  return err.message.startsWith('READONLY') ? 2 : false;
}

function tlsOptions(target: RedisTarget): RedisOptions['tls'] | undefined {
  const wanted = target.tls ?? (target.kind === 'single' && target.url.startsWith('rediss:'));
  if (!wanted) return undefined;
  return target.tlsCaFile ? { ca: readFileSync(target.tlsCaFile) } : {};
}

function nodeOptions(target: RedisTarget, options: RedisConnectionOptions): RedisOptions {
  const o: RedisOptions = {
    connectionName: options.connectionName ?? 'licensegate',
    lazyConnect: false,
    reconnectOnError: reconnectOnReadonly,
    ...options.extra,
  };
  if (options.maxRetriesPerRequest !== undefined) o.maxRetriesPerRequest = options.maxRetriesPerRequest;
  if (target.username !== undefined) o.username = target.username;
  if (target.password !== undefined) o.password = target.password;
  const tls = tlsOptions(target);
  if (tls) o.tls = tls;
  return o;
}

/** Opens a connection to `target` (a URL means one Redis) and defines licensegate's scripts on it. */
export function createRedis(target: string, options?: RedisConnectionOptions): Redis;
export function createRedis(target: RedisTarget | string, options?: RedisConnectionOptions): RedisClient;
export function createRedis(target: RedisTarget | string, options: RedisConnectionOptions = {}): RedisClient {
  const t = typeof target === 'string' ? singleTarget(target) : target;
  const base = nodeOptions(t, options);
  let client: RedisClient;
  if (t.kind === 'single') {
    client = new Redis(t.url, { ...base, enableAutoPipelining: options.autoPipelining ?? false });
  } else if (t.kind === 'sentinel') {
    const tls = base.tls;
    client = new Redis({
      ...base,
      enableAutoPipelining: options.autoPipelining ?? false,
      sentinels: t.sentinels,
      name: t.name,
      ...(t.sentinelUsername !== undefined ? { sentinelUsername: t.sentinelUsername } : {}),
      ...(t.sentinelPassword !== undefined ? { sentinelPassword: t.sentinelPassword } : {}),
      ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
      // No `failoverDetector`: when its +switch-master arrives while the connection is already
      // reconnecting (after a crashed primary it is), ioredis 6 aborts the reconnect and ends the
      // connection for good (test/store/sentinel-reconnect.test.ts). A crash breaks the socket
      // anyway; after a planned failover the old primary answers writes with READONLY, and
      // reconnectOnReadonly asks the sentinels again.
    });
  } else {
    const { maxRetriesPerRequest, ...redisOptions } = base;
    const clusterOptions: ClusterOptions = {
      redisOptions: { ...redisOptions, ...(maxRetriesPerRequest !== undefined ? { maxRetriesPerRequest } : {}) },
      enableAutoPipelining: options.autoPipelining ?? false,
      // Writes and the reads that decide them go to masters only.
      scaleReads: 'master',
      // During a failover the slots of a dead master answer CLUSTERDOWN until a replica takes over.
      retryDelayOnClusterDown: 200,
      retryDelayOnFailover: 200,
      maxRedirections: 32,
      slotsRefreshTimeout: 2000,
      // A Cluster reads lazyConnect from its own options, not redisOptions: without this, a
      // caller that asked for lazyConnect (the admin CLI) gets "already connecting" from connect().
      lazyConnect: base.lazyConnect === true,
    };
    client = new Cluster(t.nodes, clusterOptions);
  }
  defineScripts(client);
  if (options.durability) setDurability(client, options.durability);
  return client;
}

/** True for a Redis Cluster connection. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/**
 * One connection per master node: a Cluster's masters, or the connection itself. For commands
 * that speak to one server rather than to a key (CONFIG GET, INFO, SCAN).
 */
export function nodesOf(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}

/**
 * A second connection to the same target (pub/sub needs its own), without auto-pipelining. On
 * a Cluster it also subscribes through sharded subscribers (SSUBSCRIBE goes to the shard that
 * owns the channel's slot).
 */
export function duplicateClient(client: RedisClient, connectionName: string, extra: { maxRetriesPerRequest?: number | null } = {}): RedisClient {
  if (isCluster(client)) {
    return client.duplicate(undefined, {
      redisOptions: { ...client.options.redisOptions, connectionName, ...extra },
      enableAutoPipelining: false,
      shardedSubscribers: true,
    });
  }
  return client.duplicate({ connectionName, enableAutoPipelining: false, ...extra });
}

/** Resolves once the connection is ready, rejects after timeoutMs with the last error. */
export async function waitReady(redis: RedisClient, timeoutMs = 10_000): Promise<void> {
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
