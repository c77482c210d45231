/**
 * What a Redis shard spends on licensegate's state, for docs/capacity.md: `INFO memory`
 * used_memory summed over the masters (one Redis here), and `MEMORY USAGE` of the keys one
 * tenant and its Clients own, so that a per-Client figure can be split into its parts (the
 * Client hash, its share of the tenant's sets, the audit and events streams, BullMQ's jobs).
 * Bench-only: it walks keys with SCAN, which licensegate itself never does on a hot path.
 */
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import { nodesOf, type RedisClient } from '../../src/store/redis-connection.ts';

export interface MemoryReading {
  /** INFO memory used_memory, summed over the masters. */
  usedMemory: number;
  /** used_memory_dataset (used_memory minus Redis's own overhead: client buffers, replication backlog…). */
  dataset: number;
  /** mem_clients_normal: buffers of the connected clients (gateway, worker, bench), part of used_memory. */
  clientBuffers: number;
  /** Keys in db 0. */
  keys: number;
  /**
   * Sum of MEMORY USAGE over every key (when asked for: SCAN, bench-only): the keyspace alone,
   * without the allocator's and the server's own bookkeeping that used_memory also moves with.
   */
  keyspaceBytes?: number;
}

const field = (text: string, name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(text)?.[1] ?? 0);

export async function readMemory(redis: RedisClient, o: { keyspace?: boolean } = {}): Promise<MemoryReading> {
  const out: MemoryReading = { usedMemory: 0, dataset: 0, clientBuffers: 0, keys: 0 };
  if (o.keyspace) out.keyspaceBytes = (await scanBytes(redis, '*')).bytes;
  for (const node of nodesOf(redis)) {
    const text = String(await node.call('INFO', 'memory', 'keyspace'));
    out.usedMemory += field(text, 'used_memory');
    out.dataset += field(text, 'used_memory_dataset');
    out.clientBuffers += field(text, 'mem_clients_normal');
    out.keys += Number(/^db0:keys=(\d+)/m.exec(text)?.[1] ?? 0);
  }
  return out;
}

/** Bytes per unit between two readings (used_memory and dataset). */
export function perUnit(before: MemoryReading, after: MemoryReading, units: number): { usedMemory: number; dataset: number; keys: number; keyspaceBytes?: number } {
  const r = (x: number) => Math.round((x / units) * 10) / 10;
  const keyspace = before.keyspaceBytes !== undefined && after.keyspaceBytes !== undefined ? { keyspaceBytes: r(after.keyspaceBytes - before.keyspaceBytes) } : {};
  return { usedMemory: r(after.usedMemory - before.usedMemory), dataset: r(after.dataset - before.dataset), keys: r(after.keys - before.keys), ...keyspace };
}

/** MEMORY USAGE of one key with every element counted (SAMPLES 0); 0 when it does not exist. */
export async function keyBytes(redis: RedisClient, key: string): Promise<number> {
  return Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
}

/** Total MEMORY USAGE of every key matching `pattern` (SCAN: bench-only) and how many there are. */
export async function scanBytes(redis: RedisClient, pattern: string): Promise<{ keys: number; bytes: number }> {
  let keys = 0;
  let bytes = 0;
  for (const node of nodesOf(redis)) {
    let cursor = '0';
    do {
      const [next, batch] = (await node.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000')) as [string, string[]];
      cursor = next;
      for (const key of batch) {
        keys++;
        bytes += Number((await node.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
      }
    } while (cursor !== '0');
  }
  return { keys, bytes };
}

export interface StreamCost {
  entries: number;
  bytes: number;
  bytesPerEntry: number | null;
}

export async function streamCost(redis: RedisClient, key: string): Promise<StreamCost> {
  const entries = Number(await redis.xlen(key));
  const bytes = await keyBytes(redis, key);
  return { entries, bytes, bytesPerEntry: entries > 0 ? Math.round((bytes / entries) * 10) / 10 : null };
}

/**
 * Where one tenant's bytes are, per Client: the Client hashes and command logs of a sample of
 * ids (their mean × count), the tenant-wide sets and hashes divided by `clients`, the audit and
 * events streams per entry, the global client → tenant claim.
 */
export async function tenantBreakdown(redis: RedisClient, keys: Keys, sampleIds: string[], clients: number, types: string[]): Promise<Record<string, unknown>> {
  const t = DEFAULT_TENANT;
  const mean = async (key: (id: string) => string) => {
    let sum = 0;
    for (const id of sampleIds) sum += await keyBytes(redis, key(id));
    return Math.round((sum / sampleIds.length) * 10) / 10;
  };
  const per = (bytes: number) => Math.round((bytes / clients) * 10) / 10;
  const tenantWide: Record<string, number> = {
    clients: per(await keyBytes(redis, keys.clients(t))),
    online: per(await keyBytes(redis, keys.online(t))),
    clientTenantClaim: per(await keyBytes(redis, keys.clientTenant())),
  };
  for (const type of types) {
    tenantWide[`holders:${type}`] = per(await keyBytes(redis, keys.holders(t, type)));
    tenantWide[`offline-holders:${type}`] = per(await keyBytes(redis, keys.offlineHolders(t, type)));
    tenantWide[`waiting:${type}`] = per(await keyBytes(redis, keys.waiting(t, type)));
  }
  const keyHolders = await scanBytes(redis, `${keys.tenantBase(t)}kh:*`);
  tenantWide.keyHolders = per(keyHolders.bytes);
  const clientHash = await mean((id) => keys.client(t, id));
  const commandLog = await mean((id) => keys.commands(t, id));
  const sum = clientHash + commandLog + Object.values(tenantWide).reduce((a, b) => a + b, 0);
  return {
    perClientBytes: { clientHash, commandLog, ...tenantWide, sum: Math.round(sum * 10) / 10 },
    audit: await streamCost(redis, keys.audit(t)),
    events: await streamCost(redis, keys.events(t)),
    note: `MEMORY USAGE … SAMPLES 0; client hash and command log: mean of ${sampleIds.length} Clients; tenant-wide keys divided by ${clients} Clients; the audit and events streams per entry (not per Client)`,
  };
}
