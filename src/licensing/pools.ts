/**
 * A tenant's license pools (SPEC L4, L5, S3). Granted counts are stored; assigned is always
 * the size of the holders set, so counts cannot drift from membership.
 */
import type { Redis } from 'ioredis';
import { ringClients } from '../delivery/doorbell.ts';
import type { Keys } from '../store/keys.ts';
import { runScript } from '../store/scripts.ts';
import { ENDPOINT_LICENSE_TYPES, type EndpointLicenseType } from './license-types.ts';

export interface PoolRow {
  type: EndpointLicenseType;
  granted: number;
  assigned: number;
  available: number;
  waiting: number;
}

/**
 * Sets the granted count of one type. Never lower than assigned (L4): the result says what was
 * set. Freed room goes to waiting Clients at once (C9), who are rung to receive StartMonitoring.
 */
export async function setPool(redis: Redis, keys: Keys, tenantId: string, type: EndpointLicenseType, granted: number): Promise<{ granted: number; promoted: string[] }> {
  if (!Number.isSafeInteger(granted) || granted < 0) throw new RangeError(`granted must be a non-negative integer, got ${granted}`);
  const reply = (await runScript(redis, 'setPool', [keys.tenant(tenantId)], [keys.tenantBase(tenantId), type, granted])) as unknown[];
  const promoted = reply.slice(1).map(String);
  await ringClients(redis, keys, tenantId, promoted);
  return { granted: Number(reply[0]), promoted };
}

/** Granted, assigned, available and waiting per endpoint type, in one round trip. */
export async function readPools(redis: Redis, keys: Keys, tenantId: string): Promise<PoolRow[]> {
  const p = redis.pipeline();
  p.hgetall(keys.pool(tenantId));
  for (const t of ENDPOINT_LICENSE_TYPES) {
    p.scard(keys.holders(tenantId, t));
    p.zcard(keys.waiting(tenantId, t));
  }
  const res = (await p.exec())!;
  const pool = (res[0]![1] ?? {}) as Record<string, string>;
  return ENDPOINT_LICENSE_TYPES.map((type, i) => {
    const granted = Number(pool[type] ?? 0);
    const assigned = Number(res[1 + 2 * i]![1]);
    return { type, granted, assigned, available: granted - assigned, waiting: Number(res[2 + 2 * i]![1]) };
  });
}
