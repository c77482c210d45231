/**
 * One tenant at a glance (issue 12: `admin tenants show`, `admin policy show`): its name, its
 * licensing policy (C11, C12), its enrollment limits (Z3), its pools per license type (T5) and
 * how many Clients and PAM users it holds. Reads only; the tenant scope is checked by the caller.
 */
import { LicensegateError } from '../errors.ts';
import { DEFAULT_TENANT } from '../store/keys.ts';
import type { TenantPolicy } from './client-admin.ts';
import type { LedgerContext } from './ledger-context.ts';
import type { LicenseTypeName } from './license-types.ts';
import type { TenantLimits } from './tenant-limits.ts';
import type { TenantInfo } from './tenants.ts';
import { tenantPools } from './views.ts';

export interface TenantPool {
  type: LicenseTypeName;
  granted: number;
  assigned: number;
  available: number;
  waiting: number;
}

export interface TenantDetail extends TenantInfo {
  policy: Required<TenantPolicy>;
  limits: Omit<TenantLimits, 'tenantId' | 'clients'>;
  pools: TenantPool[];
  /** Registered Client ids, uninstalled ones not yet purged included (what maxClients counts). */
  clients: number;
  /** Of those, uninstalled and waiting for the retention purge. */
  uninstalledClients: number;
  pamUsers: number;
}

/** The tenant hash's fields, or UNKNOWN_TENANT: a tenant is listed and has a hash. */
async function tenantFields(ctx: LedgerContext, tenantId: string): Promise<Record<string, string>> {
  // Two calls: the tenant set and the tenant's hash live in different Cluster slots.
  const [member, fields] = await Promise.all([ctx.redis.sismember(ctx.keys.tenants(), tenantId), ctx.redis.hgetall(ctx.keys.tenant(tenantId))]);
  if (member === 0 || Object.keys(fields).length === 0) throw new LicensegateError('UNKNOWN_TENANT', tenantId);
  return fields;
}

/**
 * UNKNOWN_TENANT unless the tenant exists (listed, with its hash): reads of a tenant that is
 * gone or never was say so rather than answer an empty page (docs/api.md). Callers authorize
 * first (authorizeTenant), so a tenant admin asking about another tenant gets FORBIDDEN whether
 * or not it exists: existence never leaks across tenants (T6).
 */
export async function requireKnownTenant(ctx: LedgerContext, tenantId: string): Promise<void> {
  // The built-in default tenant always exists (serve creates it at start); no read needed.
  if (tenantId === DEFAULT_TENANT) return;
  await tenantFields(ctx, tenantId);
}

function policyOf(f: Record<string, string>): Required<TenantPolicy> {
  return { reclaimAfterDays: Number(f.reclaimAfterDays ?? 0), freeNonPersistentOnDisconnect: f.freeNonPersistent === '1' };
}

const numberOrNull = (v: string | undefined) => (v === undefined ? null : Number(v));

/** C11, C12 as stored (the defaults when never set: reclaim off, non-persistent Clients keep theirs). */
export async function readTenantPolicy(ctx: LedgerContext, tenantId: string): Promise<Required<TenantPolicy> & { tenantId: string }> {
  return { tenantId, ...policyOf(await tenantFields(ctx, tenantId)) };
}

export async function readTenantDetail(ctx: LedgerContext, tenantId: string): Promise<TenantDetail> {
  const f = await tenantFields(ctx, tenantId);
  const [[, clients], [, uninstalled], [, users]] = (await ctx.redis
    .multi()
    .scard(ctx.keys.clients(tenantId))
    .zcard(ctx.keys.uninstalled(tenantId))
    .scard(ctx.keys.users(tenantId))
    .exec())! as [unknown, number][];
  return {
    id: tenantId,
    name: f.name ?? tenantId,
    createdAt: Number(f.createdAt ?? 0),
    policy: policyOf(f),
    limits: { enrollRate: numberOrNull(f.enrollRate), enrollBurst: numberOrNull(f.enrollBurst), maxClients: numberOrNull(f.maxClients), requireProof: f.requireProof === '1' },
    pools: await tenantPools(ctx, tenantId),
    clients: Number(clients),
    uninstalledClients: Number(uninstalled),
    pamUsers: Number(users),
  };
}
