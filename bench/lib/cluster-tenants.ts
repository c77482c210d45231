/**
 * A multi-tenant fleet spread over a Redis Cluster's shards. One tenant is one hash tag
 * (`{t:<id>}`), so a tenant lives on one shard: a fleet in the default tenant alone would put
 * every enrollment's tenant work on one master and leave the other two idle — a Cluster
 * scales out across tenants, not within one. The bench therefore picks tenant ids whose slots
 * fall evenly into the slot ranges `redis-cli --cluster create` gives 3 masters (0–5460,
 * 5461–10922, 10923–16383), and checks the spread on the running cluster (details.tenants).
 */
import type { LicenseTypeName } from '../../src/licensing/license-types.ts';
import { Keys } from '../../src/store/keys.ts';
import { LICENSE_OF, osNameOfAgent } from './fleet.ts';

const SLOTS = 16384;

/** CRC16/XMODEM, the hash of Redis Cluster's key slots. */
function crc16(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The slot of a key: its hash tag's (the first non-empty `{…}`) or the whole key's. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(key)) % SLOTS;
}

/** Which of `shards` equal slot ranges a slot falls in (the layout of `redis-cli --cluster create`). */
export const shardOfSlot = (slot: number, shards: number): number => Math.min(shards - 1, Math.floor((slot * shards) / SLOTS));

/** `perShard` tenant ids on each of `shards` shards (ids `mt-<k>`, the first that fit). */
export function spreadTenants(shards: number, perShard: number): string[] {
  const keys = new Keys('x', '{x}');
  const byShard: string[][] = Array.from({ length: shards }, () => []);
  for (let k = 0; byShard.some((l) => l.length < perShard); k++) {
    const id = `mt-${k}`;
    const list = byShard[shardOfSlot(keySlot(keys.tenant(id)), shards)]!;
    if (list.length < perShard) list.push(id);
  }
  // Interleaved, so that agent i % T cycles through the shards.
  return Array.from({ length: perShard }, (_, r) => byShard.map((l) => l[r]!)).flat();
}

/** Licenses of each tenant for agents 0..n-1, agent i in tenants[i % T] (exactly, plus `spare` of each type used). */
export function tenantPools(tenants: string[], n: number, spare = 0): { id: string; pool: Partial<Record<LicenseTypeName, number>> }[] {
  const pools = tenants.map((id) => ({ id, pool: {} as Partial<Record<LicenseTypeName, number>> }));
  for (let i = 0; i < n; i++) {
    const p = pools[i % tenants.length]!.pool;
    const t = LICENSE_OF[osNameOfAgent(i)]!;
    p[t] = (p[t] ?? 0) + 1;
  }
  for (const { pool } of pools) for (const t of Object.keys(pool) as LicenseTypeName[]) pool[t]! += spare;
  return pools;
}
