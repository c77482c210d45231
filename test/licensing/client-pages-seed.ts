/** Seeds Clients straight into Redis with pipelines (never through agents): for paging tests. */
import type { Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';

export const CLIENT_INDEX_BUILDING_CHECK = 'CLIENT_INDEX_BUILDING';

export interface SeededClient {
  id: string;
  hostname: string;
  status: 'active' | 'uninstalled';
  type: string;
  online: boolean;
}

const TYPES = ['workstation', 'linux', '', 'infrastructure-server', 'workstation', '', 'cloud-server'];

/** `n` Clients: ids spread over the alphabet (not in insertion order), a mix of types, 10 % online, 2 % uninstalled. */
export async function seedClients(redis: RedisClient, keys: Keys, tenant: string, n: number, opts: { index: boolean; label?: string; start?: number }): Promise<SeededClient[]> {
  const out: SeededClient[] = [];
  const label = opts.label ?? '';
  let p = redis.pipeline();
  for (let i = 0; i < n; i++) {
    const k = (opts.start ?? 0) + i;
    const id = `${label}${((k * 2_654_435_761) % 4_294_967_291).toString(36)}-${k}`;
    const c: SeededClient = { id, hostname: `host-${k}`, status: k % 50 === 7 ? 'uninstalled' : 'active', type: k % 50 === 7 ? '' : TYPES[k % TYPES.length]!, online: k % 10 === 3 };
    out.push(c);
    p.hset(keys.client(tenant, id), 'hostname', c.hostname, 'status', c.status, 'type', c.type, 'reason', c.type ? '' : 'NO_LICENSE_AVAILABLE', 'lastSeen', String(k), 'osFamily', 'windows', 'osProduct', 'workstation');
    p.sadd(keys.clients(tenant), id);
    if (opts.index) p.zadd(keys.clientIndex(tenant), 0, id);
    if (c.online) p.hset(keys.online(tenant), id, `node:${k}`);
    if (p.length >= 10_000) {
      await p.exec();
      p = redis.pipeline();
    }
  }
  await p.exec();
  return out;
}
