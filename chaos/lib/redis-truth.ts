/**
 * What Redis says, read in one go for the convergence checker: each fleet Client's record
 * (status, license type, reason, seq, acked), every tenant's `online` hash, the grants per
 * tenant and type, the serial keys' status, and the invariant checker's report. Key names come
 * from src/store/keys.ts. Not atomic across keys; the checker only trusts a clean reading that
 * holds for a while (see convergence.ts).
 */
import type { Redis } from 'ioredis';
import { checkInvariants, type InvariantReport } from '../../src/licensing/check-invariants.ts';
import type { SerialKeyRecord } from '../../src/licensing/serial-key-ledger.ts';
import type { Keys } from '../../src/store/keys.ts';

export interface ClientTruth {
  exists: boolean;
  status: string | null;
  /** License type held, '' when none. */
  type: string;
  reason: string;
  seq: number;
  acked: number;
}

export interface RedisTruth {
  /** By `<tenant>/<clientId>`, for the Clients asked about. */
  clients: Map<string, ClientTruth>;
  /** Per tenant: client id → connection token `<node>:<conn>`. */
  online: Map<string, Map<string, string>>;
  /** `<tenant>|<type>` → licenses granted (summed over keys). */
  grants: Map<string, number>;
  /** Serial key id → status. */
  serials: Map<string, string>;
  invariants: InvariantReport;
}

/** The node id of a connection token `<node>:<conn>`. */
export function nodeOfToken(token: string): string {
  return token.slice(0, token.lastIndexOf(':'));
}

export async function readRedisTruth(redis: Redis, keys: Keys, clients: { tenantId: string; clientId: string }[]): Promise<RedisTruth> {
  const tenants = await redis.smembers(keys.tenants());
  const pipeline = redis.pipeline();
  for (const c of clients) pipeline.hmget(keys.client(c.tenantId, c.clientId), 'status', 'type', 'reason', 'seq', 'acked');
  for (const t of tenants) pipeline.hgetall(keys.online(t));
  pipeline.hgetall(keys.grants());
  pipeline.hgetall(keys.serials());
  const replies = (await pipeline.exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const values = replies.map(([, v]) => v);
  const out: RedisTruth = { clients: new Map(), online: new Map(), grants: new Map(), serials: new Map(), invariants: { ok: true, violations: [] } };
  clients.forEach((c, i) => {
    const [status, type, reason, seq, acked] = values[i] as (string | null)[];
    out.clients.set(`${c.tenantId}/${c.clientId}`, {
      exists: status !== null,
      status: status ?? null,
      type: type ?? '',
      reason: reason ?? '',
      seq: Number(seq ?? 0),
      acked: Number(acked ?? 0),
    });
  });
  tenants.forEach((t, i) => out.online.set(t, new Map(Object.entries(values[clients.length + i] as Record<string, string>))));
  for (const [field, n] of Object.entries(values[clients.length + tenants.length] as Record<string, string>)) {
    const [tenant, , type] = field.split('|');
    const k = `${tenant}|${type}`;
    out.grants.set(k, (out.grants.get(k) ?? 0) + Number(n));
  }
  for (const [id, raw] of Object.entries(values[clients.length + tenants.length + 1] as Record<string, string>)) {
    out.serials.set(id, (JSON.parse(raw) as SerialKeyRecord).status);
  }
  out.invariants = await checkInvariants(redis, keys);
  return out;
}
