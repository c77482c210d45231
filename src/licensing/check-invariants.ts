/**
 * The invariant checker (SPEC L3, L4, L5). Reads every tenant's pools, holders and Clients and
 * reports each violation: assigned above granted, a Client in two holders sets, a holder whose
 * record disagrees, a Client whose record claims a license it is not a member for. Tests call
 * it after every scenario. Not a hot path: it scans whole tenants.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys.ts';
import { ENDPOINT_LICENSE_TYPES } from './license-types.ts';

export interface InvariantReport {
  ok: boolean;
  violations: string[];
}

export async function checkInvariants(redis: Redis, keys: Keys): Promise<InvariantReport> {
  const violations: string[] = [];
  for (const tenantId of await redis.smembers(keys.tenants())) {
    const pool = await redis.hgetall(keys.pool(tenantId));
    const holderOf = new Map<string, string>();
    for (const type of ENDPOINT_LICENSE_TYPES) {
      const holders = await redis.smembers(keys.holders(tenantId, type));
      const granted = Number(pool[type] ?? 0);
      if (holders.length > granted) violations.push(`L4 ${tenantId}/${type}: assigned ${holders.length} > granted ${granted}`);
      for (const id of holders) {
        const other = holderOf.get(id);
        if (other) violations.push(`L3 ${tenantId}/${id}: holds ${other} and ${type}`);
        holderOf.set(id, type);
      }
    }
    for (const id of await redis.smembers(keys.clients(tenantId))) {
      const [status, type] = await redis.hmget(keys.client(tenantId, id), 'status', 'type');
      const member = holderOf.get(id) ?? '';
      if ((type ?? '') !== member) violations.push(`L5 ${tenantId}/${id}: record says "${type ?? ''}", membership says "${member}"`);
      if (status === 'uninstalled' && member) violations.push(`C8 ${tenantId}/${id}: uninstalled but holds ${member}`);
      holderOf.delete(id);
    }
    for (const [id, type] of holderOf) violations.push(`L5 ${tenantId}/${id}: holds ${type} but is not a registered Client`);
  }
  return { ok: violations.length === 0, violations };
}
