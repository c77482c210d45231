/**
 * Read-only views: availability per type (S3, the "Serial Key Management" view), Licenses
 * Granted per tenant and type (T5), and the Client list. Counts are derived from membership
 * (L5) and allocations, never from stored counters.
 */
import { DEFAULT_TENANT } from '../store/keys.ts';
import type { LedgerContext } from './ledger-context.ts';
import { ALL_LICENSE_TYPES, isEndpointLicenseType, type EndpointLicenseType, type LicenseTypeName } from './license-types.ts';
import { listSerialKeys, totalsOf } from './serial-key-ledger.ts';
import { listTenants } from './tenants.ts';

export interface AvailabilityRow {
  type: LicenseTypeName;
  /** From active serial keys. */
  total: number;
  /** Granted to tenants other than the default one. */
  granted: number;
  /** Assigned in the default tenant. */
  assigned: number;
  /** total − granted − assigned. */
  available: number;
}

export interface GrantedRow {
  tenant: string;
  type: LicenseTypeName;
  granted: number;
  assigned: number;
  available: number;
}

async function tenantCounts(ctx: LedgerContext, tenantId: string): Promise<Map<LicenseTypeName, { granted: number; assigned: number; waiting: number }>> {
  const p = ctx.redis.pipeline();
  p.hgetall(ctx.keys.alloc(tenantId));
  for (const t of ALL_LICENSE_TYPES) {
    p.scard(ctx.keys.holders(tenantId, t));
    p.zcard(ctx.keys.waiting(tenantId, t));
  }
  const res = (await p.exec())!;
  const alloc = (res[0]![1] ?? {}) as Record<string, string>;
  const granted = new Map<string, number>();
  for (const [field, n] of Object.entries(alloc)) {
    const type = field.slice(field.lastIndexOf('|') + 1);
    granted.set(type, (granted.get(type) ?? 0) + Number(n));
  }
  const out = new Map<LicenseTypeName, { granted: number; assigned: number; waiting: number }>();
  ALL_LICENSE_TYPES.forEach((t, i) => {
    out.set(t, { granted: granted.get(t) ?? 0, assigned: Number(res[1 + 2 * i]![1]), waiting: Number(res[2 + 2 * i]![1]) });
  });
  return out;
}

/** S3: per type, total from active keys, granted to tenants, assigned (default tenant), available. */
export async function availability(ctx: LedgerContext): Promise<AvailabilityRow[]> {
  const totals = totalsOf(await listSerialKeys(ctx));
  const own = await tenantCounts(ctx, DEFAULT_TENANT);
  return ALL_LICENSE_TYPES.map((type) => {
    const total = totals[type] ?? 0;
    const { granted: kept, assigned } = own.get(type)!;
    const granted = Math.max(0, total - kept);
    return { type, total, granted, assigned, available: total - granted - assigned };
  });
}

/** T5: per tenant and type, granted, assigned and available (the default tenant included). */
export async function licensesGranted(ctx: LedgerContext): Promise<GrantedRow[]> {
  const rows: GrantedRow[] = [];
  for (const tenant of await listTenants(ctx)) {
    const counts = await tenantCounts(ctx, tenant.id);
    for (const type of ALL_LICENSE_TYPES) {
      const c = counts.get(type)!;
      rows.push({ tenant: tenant.id, type, granted: c.granted, assigned: c.assigned, available: c.granted - c.assigned });
    }
  }
  return rows;
}

/** Per type: granted, assigned, available and waiting Clients of one tenant. */
export async function tenantPools(ctx: LedgerContext, tenantId: string): Promise<{ type: LicenseTypeName; granted: number; assigned: number; available: number; waiting: number }[]> {
  const counts = await tenantCounts(ctx, tenantId);
  return ALL_LICENSE_TYPES.map((type) => {
    const c = counts.get(type)!;
    return { type, ...c, available: c.granted - c.assigned };
  });
}

export interface ClientRow {
  tenant: string;
  clientId: string;
  hostname: string;
  status: 'active' | 'uninstalled';
  online: boolean;
  license: string | null;
  reason: string;
  lastSeen: number;
  os: string;
  /**
   * The license type the Client's OS maps to (SPEC L2), or null when none fits. It is the
   * `wantType` its last Hello stored (the gateway's OS table, OS_LICENSE_MAP_FILE included), so
   * reads compute nothing, the Hello path writes nothing new, and it is exactly what an assign
   * without a type gives (admin-assign-1.lua).
   */
  osType: EndpointLicenseType | null;
}

/** A stored `wantType` ('' when no type fits the OS, absent before the first Hello) as `osType`. */
export function osTypeOf(wantType: string | null | undefined): EndpointLicenseType | null {
  return wantType && isEndpointLicenseType(wantType) ? wantType : null;
}

export type ClientFilter = 'all' | 'online' | 'offline' | 'unlicensed';

export async function listClients(ctx: LedgerContext, tenantId: string, filter: ClientFilter = 'all'): Promise<ClientRow[]> {
  const ids = (await ctx.redis.smembers(ctx.keys.clients(tenantId))).sort();
  const online = await ctx.redis.hgetall(ctx.keys.online(tenantId));
  const p = ctx.redis.pipeline();
  for (const id of ids) p.hmget(ctx.keys.client(tenantId, id), 'hostname', 'status', 'type', 'reason', 'lastSeen', 'osFamily', 'osProduct', 'wantType');
  const res = ids.length ? ((await p.exec()) ?? []) : [];
  const rows = ids.map((clientId, i) => {
    const [hostname, status, type, reason, lastSeen, family, product, wantType] = res[i]![1] as (string | null)[];
    return {
      tenant: tenantId,
      clientId,
      hostname: hostname ?? '',
      status: (status === 'uninstalled' ? 'uninstalled' : 'active') as ClientRow['status'],
      online: clientId in online,
      license: type || null,
      reason: reason ?? '',
      lastSeen: Number(lastSeen ?? 0),
      os: [family, product].filter((x) => x && x !== 'unspecified').join('/'),
      osType: osTypeOf(wantType),
    };
  });
  switch (filter) {
    case 'online':
      return rows.filter((r) => r.online);
    case 'offline':
      return rows.filter((r) => !r.online);
    case 'unlicensed':
      return rows.filter((r) => r.status === 'active' && r.license === null);
    default:
      return rows;
  }
}
