/**
 * Redis memory per Client at sizes no bench driver can enroll in reasonable time (100,000 and
 * up): the tenant is built directly in the scripts' layout (./big-tenant.ts, as lua-bounds
 * does), completed with what a real Hello writes and the big-tenant writer leaves out (the
 * fields of a real Client hash — taken from a Client the scenario enrolled through the gateway —
 * the client → tenant claim, the online entry's connection token), so that the per-Client
 * figure can be checked against real enrollments at the calibration size and then read at
 * 10k and 100k. Also the Redis CPU of the heartbeat flush per Client (touch-1.lua in chunks of
 * 100, exactly as the gateway's SessionStore.touch sends it), on the biggest tenant. Runs on
 * the bench's --engine (a Cluster or Sentinel: AOF and replicas, what a durable shard costs).
 */
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import { nodesOf } from '../../src/store/redis-connection.ts';
import { runScript } from '../../src/store/scripts.ts';
import { addHolders } from './big-tenant.ts';
import { perUnit, readMemory } from './redis-memory.ts';
import { RedisCommandWindow, type CommandDelta } from './redis-stats.ts';
import { prepareLedger, type BenchRedis } from './setup.ts';

/** What a real enrolled Client looks like in Redis (read from one the gateway registered). */
export interface ClientTemplate {
  /** HGETALL of its Client hash. */
  hash: Record<string, string>;
  /** Its value in the tenant's online hash (a connection token). */
  onlineToken: string;
  /** Whether the global client → tenant claim holds it. */
  claimed: boolean;
}

export interface BigTenantMemory {
  clients: number;
  state: 'online' | 'offline';
  /** Bytes per Client: used_memory and used_memory_dataset growth, and keys per Client. */
  perClient: { usedMemory: number; dataset: number; keys: number };
  buildMs: number;
}

const TYPE = 'linux';
/** Fields the big-tenant writer sets per Client itself (kept: its ids, times and license). */
const OWN_FIELDS = new Set(['status', 'registeredAt', 'seq', 'acked', 'confirmed', 'hostname', 'osFamily', 'osProduct', 'wantType', 'lastSeen', 'type', 'key', 'reason', 'waitType']);

/** One tenant of `count` licensed Clients, all online or all offline, on a flushed Redis. */
export async function measureBigTenant(r: BenchRedis, scratch: string, template: ClientTemplate, count: number, state: 'online' | 'offline'): Promise<{ result: BigTenantMemory; ids: string[]; keys: Keys }> {
  const redis = r.redis;
  for (const node of nodesOf(redis)) await node.flushall();
  const ledger = await prepareLedger(r, { [TYPE]: count }, scratch);
  const keys = ledger.keys;
  const keyId = (await redis.hkeys(keys.tenantKeys(DEFAULT_TENANT)))[0];
  if (!keyId) throw new Error('big tenant: no serial key activated');
  const before = await readMemory(redis);
  const t0 = performance.now();
  const online = state === 'online';
  const ids = await addHolders(redis, keys, DEFAULT_TENANT, keyId, { prefix: 'bt', count, type: TYPE, online: () => online });
  const extra = Object.entries(template.hash).filter(([f]) => !OWN_FIELDS.has(f)).flat();
  for (let i = 0; i < ids.length; i += 2_000) {
    // Two pipelines: on a Cluster the tenant's slot and `{g}` may live on different masters.
    const p = redis.pipeline();
    const claims = redis.pipeline();
    for (const id of ids.slice(i, i + 2_000)) {
      if (extra.length) p.hset(keys.client(DEFAULT_TENANT, id), ...extra);
      if (online) p.hset(keys.online(DEFAULT_TENANT), id, template.onlineToken);
      if (template.claimed) claims.hset(keys.clientTenant(), id, DEFAULT_TENANT);
    }
    await p.exec();
    await claims.exec();
  }
  const buildMs = Math.round(performance.now() - t0);
  const after = await readMemory(redis);
  return { result: { clients: count, state, perClient: perUnit(before, after, count), buildMs }, ids, keys };
}

/**
 * Redis CPU of the last-seen flush per online Client: touch-1.lua over every id, 100 per call,
 * one call after the other (the gateway's flush). Each online agent is touched once per flush
 * in which it heartbeated, i.e. once per heartbeat interval when that is ≥ the flush interval.
 */
export async function measureTouch(r: BenchRedis, keys: Keys, ids: string[]): Promise<CommandDelta & { wallMs: number }> {
  const w = await RedisCommandWindow.start(r.redis);
  const t0 = performance.now();
  for (let i = 0; i < ids.length; i += 100) {
    await runScript(r.redis, 'touch', [keys.tenant(DEFAULT_TENANT)], [keys.tenantBase(DEFAULT_TENANT), '', ...ids.slice(i, i + 100)]);
  }
  const wallMs = Math.round(performance.now() - t0);
  return { ...(await w.stop(ids.length, 'a Client touched by the last-seen flush')), wallMs };
}
