/**
 * What Redis says, read in one go for the convergence checker: each fleet Client's record
 * (status, license type, reason, seq, acked), every tenant's `online` hash, the grants per
 * tenant and type, the serial keys' status, and the invariant checker's report. Key names come
 * from src/store/keys.ts. One pipeline per tenant (one slot on a Cluster). Not atomic across
 * keys; the checker only trusts a clean reading that holds for a while (see convergence.ts).
 */
import type { ChainableCommander } from 'ioredis';
import { checkInvariants, type InvariantReport } from '../../src/licensing/check-invariants.ts';
import type { SerialKeyRecord } from '../../src/licensing/serial-key-ledger.ts';
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';

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

/** Reads `commands` in one pipeline and throws the first error. */
async function batch(redis: RedisClient, commands: ((p: ChainableCommander) => void)[]): Promise<unknown[]> {
  if (commands.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const add of commands) add(pipeline);
  const replies = (await pipeline.exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  return replies.map(([, v]) => v);
}

export async function readRedisTruth(redis: RedisClient, keys: Keys, clients: { tenantId: string; clientId: string }[]): Promise<RedisTruth> {
  const tenants = await redis.smembers(keys.tenants());
  // One pipeline per tenant: a tenant's keys share its hash tag, so each pipeline stays in one
  // slot (a Cluster refuses a pipeline across slots). The grants and serial keys belong to the
  // default tenant's slot.
  const byTenant = new Map<string, { tenantId: string; clientId: string }[]>();
  for (const c of clients) byTenant.set(c.tenantId, [...(byTenant.get(c.tenantId) ?? []), c]);
  const groups = [...new Set([DEFAULT_TENANT, ...tenants, ...byTenant.keys()])];
  const read = await Promise.all(
    groups.map((t) => {
      const own = byTenant.get(t) ?? [];
      const commands: ((p: ChainableCommander) => void)[] = own.map((c) => (p) => p.hmget(keys.client(c.tenantId, c.clientId), 'status', 'type', 'reason', 'seq', 'acked'));
      if (tenants.includes(t)) commands.push((p) => p.hgetall(keys.online(t)));
      if (t === DEFAULT_TENANT) commands.push((p) => p.hgetall(keys.grants()), (p) => p.hgetall(keys.serials()));
      return batch(redis, commands).then((values) => ({ t, own, values }));
    }),
  );
  const out: RedisTruth = { clients: new Map(), online: new Map(), grants: new Map(), serials: new Map(), invariants: { ok: true, violations: [] } };
  for (const { t, own, values } of read) {
    own.forEach((c, i) => {
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
    let next = own.length;
    if (tenants.includes(t)) out.online.set(t, new Map(Object.entries(values[next++] as Record<string, string>)));
    if (t !== DEFAULT_TENANT) continue;
    for (const [field, n] of Object.entries(values[next++] as Record<string, string>)) {
      const [tenant, , type] = field.split('|');
      const k = `${tenant}|${type}`;
      out.grants.set(k, (out.grants.get(k) ?? 0) + Number(n));
    }
    for (const [id, raw] of Object.entries(values[next++] as Record<string, string>)) {
      out.serials.set(id, (JSON.parse(raw) as SerialKeyRecord).status);
    }
  }
  out.invariants = await checkInvariants(redis, keys);
  return out;
}
