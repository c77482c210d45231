/**
 * Builds a tenant with tens of thousands of Clients in seconds, for measuring how long single
 * Lua calls run (SPEC F6). Going through the Hello script 100,000 times would take minutes, so
 * the Clients are written directly, pipelined, in exactly the layout hello-1.lua and
 * includes/ledger.lua keep: the Client hash, the tenant's client set, the online hash, and
 * either license membership (holders, key holders, offline-holders index) or a place in the
 * waiting queue. Licenses are charged to keys that were activated or granted through the real
 * scripts, so the ledger stays consistent (checkInvariants is clean after building).
 */
import type { ChainableCommander } from 'ioredis';
import type { Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';

/** Clients per pipeline round trip. */
const CHUNK = 2_000;

export interface BigClientsOptions {
  /** Client id prefix; ids are `<prefix>-<n>` with n zero-padded (so id order = creation order). */
  prefix: string;
  /** How many. */
  count: number;
  /** The license type they hold or wait for. */
  type: string;
  /** Online when this returns true for the Client's index (default: every other Client). */
  online?: (i: number) => boolean;
  /** Last seen (ms) of the Client with index i (default: base + i, all distinct). */
  lastSeen?: (i: number) => number;
  /** Gateway node recorded in the online hash (its channel gets the doorbells; nobody listens). */
  node?: string;
}

const pad = (i: number) => String(i).padStart(7, '0');

function clientFields(type: string, held: { key: string } | null, lastSeen: number): (string | number)[] {
  return [
    'status', 'active', 'credHash', 'bench', 'registeredAt', lastSeen, 'seq', 0, 'acked', 0, 'confirmed', '1',
    'hostname', 'bench-host', 'osFamily', 'linux', 'osProduct', 'unspecified', 'wantType', type, 'lastSeen', lastSeen,
    'type', held ? type : '', 'key', held ? held.key : '', 'reason', held ? '' : 'NO_LICENSE_AVAILABLE', 'waitType', held ? '' : type,
  ];
}

async function writeClients(redis: RedisClient, keys: Keys, tenantId: string, o: BigClientsOptions, each: (p: ChainableCommander, id: string, i: number, online: boolean, seen: number) => void): Promise<string[]> {
  const online = o.online ?? ((i: number) => i % 2 === 0);
  const base = Date.now() - 10 * 86_400_000;
  const lastSeen = o.lastSeen ?? ((i: number) => base + i);
  const node = o.node ?? 'bench-node';
  const ids: string[] = [];
  for (let start = 0; start < o.count; start += CHUNK) {
    const p = redis.pipeline();
    for (let i = start; i < Math.min(o.count, start + CHUNK); i++) {
      const id = `${o.prefix}-${pad(i)}`;
      ids.push(id);
      const on = online(i);
      p.sadd(keys.clients(tenantId), id);
      if (on) p.hset(keys.online(tenantId), id, `${node}:c${i}`);
      each(p, id, i, on, lastSeen(i));
    }
    await p.exec();
  }
  return ids;
}

/** Clients that hold a license of `type` charged to `keyId` (which must have room for them). */
export function addHolders(redis: RedisClient, keys: Keys, tenantId: string, keyId: string, o: BigClientsOptions): Promise<string[]> {
  return writeClients(redis, keys, tenantId, o, (p, id, _i, on, seen) => {
    p.hset(keys.client(tenantId, id), ...clientFields(o.type, { key: keyId }, seen));
    p.sadd(keys.holders(tenantId, o.type), id);
    p.sadd(keys.keyHolders(tenantId, keyId, o.type), id);
    if (!on) p.zadd(keys.offlineHolders(tenantId, o.type), seen, id);
  });
}

/** Clients waiting for a license of `type`, in index order (waiting since their last-seen time). */
export function addWaiting(redis: RedisClient, keys: Keys, tenantId: string, o: BigClientsOptions): Promise<string[]> {
  return writeClients(redis, keys, tenantId, o, (p, id, _i, _on, seen) => {
    p.hset(keys.client(tenantId, id), ...clientFields(o.type, null, seen));
    p.zadd(keys.waiting(tenantId, o.type), seen, id);
  });
}
