/**
 * The invariant checker (SPEC L3, L4, L5, S4, T1, F2). Reads the whole ledger and reports every
 * violation: assigned above granted, a holder charged to no key or two, a record that
 * disagrees with membership, a tenant holding more of a key than was granted to it, licenses
 * of an ended key still in use, grants above what active keys provide, grants to a tenant that
 * is not listed (deleted while a grant was in flight) — and capacity stranded
 * between the steps of a saga (F2): a tenant holding less of a key than was granted to it (a
 * grant whose second step has not run, or a take-back whose second step has not), pending
 * saga records, keys left half-ended. A saga in flight shows these for a moment, so run it on
 * a quiescent ledger. Tests call it after every scenario. Not a hot path: it reads everything.
 */
import type { RedisClient } from '../store/redis-connection.ts';
import { DEFAULT_TENANT, type Keys } from '../store/keys.ts';
import { ALL_LICENSE_TYPES, SEAT_LICENSE_TYPE } from './license-types.ts';
import type { SerialKeyRecord } from './serial-key-ledger.ts';

export interface InvariantReport {
  ok: boolean;
  violations: string[];
}

function parseAlloc(flat: Record<string, string>): Map<string, number> {
  return new Map(Object.entries(flat).map(([k, v]) => [k, Number(v)]));
}

export async function checkInvariants(redis: RedisClient, keys: Keys, now = Date.now()): Promise<InvariantReport> {
  const v: string[] = [];
  const serials = new Map(Object.entries(await redis.hgetall(keys.serials())).map(([id, raw]) => [id, JSON.parse(raw) as SerialKeyRecord]));
  const grants = parseAlloc(await redis.hgetall(keys.grants()));
  const live = (id: string) => ['active', 'expiring', 'removing'].includes(serials.get(id)?.status ?? '');

  const listed = new Set(await redis.smembers(keys.tenants()));
  // T1 F2: licenses granted to a tenant that is gone are stranded (nobody can use or return them).
  for (const [field, n] of grants) {
    const grantee = field.slice(0, field.indexOf('|'));
    if (!listed.has(grantee)) v.push(`T1 grant ${field} = ${n} to a tenant that does not exist: licenses stranded`);
  }
  for (const tenantId of listed) {
    const alloc = parseAlloc(await redis.hgetall(keys.alloc(tenantId)));
    const tenantKeys = new Map(Object.entries(await redis.hgetall(keys.tenantKeys(tenantId))).map(([k, e]) => [k, Number(e)]));
    const holderOf = new Map<string, string>();
    for (const type of ALL_LICENSE_TYPES) {
      const holders = new Set(await redis.smembers(keys.holders(tenantId, type)));
      let granted = 0;
      const charged = new Map<string, string>();
      for (const [keyId, exp] of tenantKeys) {
        const a = alloc.get(`${keyId}|${type}`) ?? 0;
        granted += a;
        const kh = await redis.smembers(keys.keyHolders(tenantId, keyId, type));
        const usable = exp === 0 || exp > now;
        if (usable && kh.length > a) v.push(`L4 ${tenantId}/${type}/${keyId}: ${kh.length} charged > ${a} allocated`);
        if (!live(keyId) && (a > 0 || kh.length > 0)) v.push(`S4 ${tenantId}/${type}/${keyId}: ended key still allocated ${a} / charged ${kh.length}`);
        for (const id of kh) {
          if (charged.has(id)) v.push(`L3 ${tenantId}/${type}/${id}: charged to ${charged.get(id)} and ${keyId}`);
          charged.set(id, keyId);
          if (!holders.has(id)) v.push(`L5 ${tenantId}/${type}/${id}: charged to ${keyId} but not a holder`);
        }
      }
      if (holders.size > granted) v.push(`L4 ${tenantId}/${type}: assigned ${holders.size} > granted ${granted}`);
      for (const id of holders) {
        if (!charged.has(id)) v.push(`L5 ${tenantId}/${type}/${id}: holder charged to no key`);
        const other = holderOf.get(id);
        if (other) v.push(`L3 ${tenantId}/${id}: holds ${other} and ${type}`);
        holderOf.set(id, type);
        const recKey = keys[type === SEAT_LICENSE_TYPE ? 'user' : 'client'](tenantId, id);
        const [recType, recCharge] = await redis.hmget(recKey, 'type', 'key');
        if (recType !== type) v.push(`L5 ${tenantId}/${id}: record says "${recType ?? ''}", membership says "${type}"`);
        if (charged.has(id) && recCharge !== charged.get(id)) v.push(`L5 ${tenantId}/${id}: record charged to "${recCharge ?? ''}", membership to "${charged.get(id)}"`);
      }
    }
    for (const [field, a] of alloc) {
      const keyId = field.slice(0, field.lastIndexOf('|'));
      if (a < 0) v.push(`L4 ${tenantId}: negative allocation ${field} = ${a}`);
      if (a !== 0 && !tenantKeys.has(keyId)) v.push(`L5 ${tenantId}: allocation ${field} for a key the tenant does not list`);
    }
    // H1: once built, the Client paging index holds exactly the clients set (docs/client-pages.md).
    if ((await redis.hget(keys.retention(tenantId), 'clientIndexed')) === '1') {
      const members = new Set(await redis.smembers(keys.clients(tenantId)));
      const indexed = await redis.zrange(keys.clientIndex(tenantId), '-', '+', 'BYLEX');
      for (const id of indexed) if (!members.delete(id)) v.push(`H1 ${tenantId}/${id}: in the Client paging index, not in the clients set`);
      for (const id of members) v.push(`H1 ${tenantId}/${id}: in the clients set, not in the Client paging index`);
    }
    for (const id of await redis.smembers(keys.clients(tenantId))) {
      const [status, type] = await redis.hmget(keys.client(tenantId, id), 'status', 'type');
      if (type && holderOf.get(id) !== type) v.push(`L5 ${tenantId}/${id}: record holds "${type}" without membership`);
      if (status === 'uninstalled' && holderOf.has(id)) v.push(`C8 ${tenantId}/${id}: uninstalled but holds ${holderOf.get(id)}`);
    }
    if (tenantId !== DEFAULT_TENANT) {
      for (const [field, a] of alloc) {
        const [keyId, type] = [field.slice(0, field.lastIndexOf('|')), field.slice(field.lastIndexOf('|') + 1)];
        const g = grants.get(`${tenantId}|${keyId}|${type}`) ?? 0;
        if (a > g) v.push(`T1 ${tenantId}/${type}/${keyId}: holds ${a} > granted ${g}`);
      }
      for (const [field, g] of grants) {
        const [grantee, keyId, type] = field.split('|') as [string, string, string];
        const a = alloc.get(`${keyId}|${type}`) ?? 0;
        if (grantee === tenantId && serials.get(keyId)?.status === 'active' && a < g) {
          v.push(`F2 ${tenantId}/${type}/${keyId}: holds ${a} < granted ${g}: capacity stranded between the steps of a grant or take-back`);
        }
      }
    }
  }

  // Conservation per live key: what the default tenant keeps + what it granted = the key's licenses.
  const defaultAlloc = parseAlloc(await redis.hgetall(keys.alloc(DEFAULT_TENANT)));
  for (const [keyId, rec] of serials) {
    if (rec.status !== 'active') continue;
    for (const type of ALL_LICENSE_TYPES) {
      const kept = defaultAlloc.get(`${keyId}|${type}`) ?? 0;
      let granted = 0;
      for (const [field, n] of grants) if (field.endsWith(`|${keyId}|${type}`)) granted += n;
      const total = rec.payload.licenses[type] ?? 0;
      if (kept + granted !== total) v.push(`S2 ${keyId}/${type}: kept ${kept} + granted ${granted} ≠ ${total}`);
    }
  }
  for (const field of grants.keys()) {
    const keyId = field.split('|')[1]!;
    if (!live(keyId)) v.push(`S4 grant ${field} of an ended key`);
  }
  // F2: every saga finished (a quiescent ledger has no pending record and no half-ended key).
  for (const [field, raw] of Object.entries(await redis.hgetall(keys.sagas()))) {
    let what = 'unreadable record)';
    try {
      const s = JSON.parse(raw) as { kind: string; tenant: string; type: string; count: number; startedAt: number };
      what = `${s.kind} ${s.tenant}/${s.type} ×${s.count}) pending since ${new Date(s.startedAt).toISOString()}`;
    } catch {
      // reported as unreadable
    }
    v.push(`F2 saga ${field} (${what}`);
  }
  for (const [keyId, rec] of serials) {
    if (rec.status === 'expiring' || rec.status === 'removing') v.push(`F2 key ${keyId} is ${rec.status}: its end saga has not finished`);
  }
  return { ok: v.length === 0, violations: v };
}
