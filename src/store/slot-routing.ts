/**
 * Routing Redis work by hash slot, so that nothing licensegate sends is cross-slot on a Redis
 * Cluster (SPEC X1, X2; docs/redis-modes.md "Cluster correctness").
 *
 * A Cluster refuses a multi-key command, a MULTI or a script whose keys hash to different
 * slots (CROSSSLOT), and ioredis refuses a pipeline whose keys live on different nodes. Every
 * key licensegate names carries a hash tag (`{t:<tenant>}`, `{g}`, the queue prefix) or is
 * alone in its command (`<prefix>:nodes`, `<prefix>:tenants`), so grouping by hash tag is
 * grouping by slot: two tags that happen to share a slot only cost one more pipeline.
 *
 * On a single Redis none of this applies: every helper here keeps one pipeline, in the
 * caller's order, exactly as before.
 */
import type { ChainableCommander } from 'ioredis';
import { isCluster, type RedisClient } from './redis-connection.ts';

/** What the slot of a key is computed from: its hash tag (Redis' rule), else the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

const CRC16_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** The cluster hash slot of a key (CRC16/XMODEM of its hash tag, mod 16384), as CLUSTER KEYSLOT. */
export function keySlot(key: string): number {
  let crc = 0;
  for (const byte of Buffer.from(hashTagOf(key))) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc % 16384;
}

/**
 * Splits items into the groups that may share a pipeline, keeping each group in the items'
 * order: one group on a single Redis, one per hash tag on a Cluster.
 */
export function groupBySlot<T>(redis: RedisClient, items: readonly T[], routingKeyOf: (item: T) => string): T[][] {
  if (!isCluster(redis)) return items.length ? [items.slice()] : [];
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const tag = hashTagOf(routingKeyOf(item));
    const g = groups.get(tag);
    if (g) g.push(item);
    else groups.set(tag, [item]);
  }
  return [...groups.values()];
}

/**
 * Runs one command per item in as few pipelines as the deployment allows: one on a single Redis,
 * one per slot group on a Cluster (sent together). `add` queues exactly one command; replies
 * ([error, reply]) come back in the items' order.
 */
export async function pipelineBySlot<T>(
  redis: RedisClient,
  items: readonly T[],
  routingKeyOf: (item: T) => string,
  add: (pipeline: ChainableCommander, item: T) => void,
): Promise<[Error | null, unknown][]> {
  const groups = groupBySlot(redis, items.map((_, i) => i), (i) => routingKeyOf(items[i]!));
  const ordered: [Error | null, unknown][] = new Array(items.length);
  await Promise.all(
    groups.map(async (group) => {
      const p = redis.pipeline();
      for (const i of group) add(p, items[i]!);
      const res = ((await p.exec()) ?? []) as [Error | null, unknown][];
      group.forEach((i, j) => (ordered[i] = res[j] ?? [new Error('no reply in pipeline'), null]));
    }),
  );
  return ordered;
}
