/**
 * One tenant per name (issue 12): creating a tenant whose name (trimmed, case-insensitive) an
 * existing tenant has is refused with TENANT_EXISTS naming that tenant, unless the caller gives
 * an explicit tenant id — before, it silently made `acme-2`.
 *
 * Race-safe across worker processes through a name index (Keys.tenantNames, in the `{g}` slot
 * with the id claims): a name is claimed with HSETNX by the creating op first (value: its op
 * id), then pointed at the tenant (`tenant:<id>`) once the id is claimed. Of two creates of one
 * name, exactly one wins the HSETNX; a retry of the winner recognises its own claim. Tenants made
 * before the index existed (and the default tenant) are found by a scan of the tenant list, which
 * is small and read only by admin jobs.
 */
import { LicensegateError } from '../errors.ts';
import type { LedgerContext } from './ledger-context.ts';

export const nameKey = (name: string) => name.trim().toLowerCase();
const TENANT_REF = 'tenant:';

/** The tenant a name index value stands for: `tenant:<id>`, or the id claimed by that op. */
async function tenantOfOwner(ctx: LedgerContext, owner: string): Promise<string | null> {
  if (owner.startsWith(TENANT_REF)) return owner.slice(TENANT_REF.length);
  const claims = await ctx.redis.hgetall(ctx.keys.tenantClaims());
  return Object.entries(claims).find(([, op]) => op === owner)?.[0] ?? null;
}

function taken(name: string, tenantId: string | null): LicensegateError {
  return new LicensegateError('TENANT_EXISTS', `the name "${name}" belongs to tenant ${tenantId ?? '(being created)'}; give an explicit tenant id to create another one with that name`);
}

/** A listed tenant, other than `self`, whose stored name matches (tenants older than the index). */
async function listedWithName(ctx: LedgerContext, key: string, self: (id: string) => Promise<boolean>): Promise<string | null> {
  const ids = await ctx.redis.smembers(ctx.keys.tenants());
  if (ids.length === 0) return null;
  // One call per tenant, not a pipeline: the tenants' hashes live in different Cluster slots.
  const names = await Promise.all(ids.map((id) => ctx.redis.hget(ctx.keys.tenant(id), 'name')));
  for (let i = 0; i < ids.length; i++) {
    if (nameKey(names[i] ?? ids[i]!) === key && !(await self(ids[i]!))) return ids[i]!;
  }
  return null;
}

/**
 * Claims `name` for the op creating a tenant, or throws TENANT_EXISTS. Idempotent for the op
 * (a retried job passes again).
 */
export async function claimNameForCreate(ctx: LedgerContext, name: string, opId: string): Promise<void> {
  const key = nameKey(name);
  const names = ctx.keys.tenantNames();
  const claims = ctx.keys.tenantClaims();
  const mine = async (id: string) => (await ctx.redis.hget(claims, id)) === opId;
  for (;;) {
    const owner = await ctx.redis.hget(names, key);
    if (owner === null) {
      const older = await listedWithName(ctx, key, mine);
      if (older !== null) throw taken(name, older);
      if ((await ctx.redis.hsetnx(names, key, opId)) === 1) return;
      continue; // another op claimed it in between: read who
    }
    if (owner === opId) return;
    const id = await tenantOfOwner(ctx, owner);
    if (id !== null && (await mine(id))) return;
    throw taken(name, id);
  }
}

/** Points a claimed (or still free) name at the tenant that now has it. */
export async function pointNameAt(ctx: LedgerContext, name: string, tenantId: string, opId: string | null): Promise<void> {
  const names = ctx.keys.tenantNames();
  const key = nameKey(name);
  const owner = await ctx.redis.hget(names, key);
  if (owner === null) await ctx.redis.hsetnx(names, key, TENANT_REF + tenantId);
  else if (owner === opId) await ctx.redis.hset(names, key, TENANT_REF + tenantId);
}

/** For a rename: throws TENANT_EXISTS when another tenant has `name`, else claims it for `tenantId`. */
export async function claimNameForRename(ctx: LedgerContext, name: string, tenantId: string): Promise<void> {
  const key = nameKey(name);
  const names = ctx.keys.tenantNames();
  const ref = TENANT_REF + tenantId;
  const self = async (id: string) => id === tenantId;
  for (;;) {
    const owner = await ctx.redis.hget(names, key);
    if (owner === null) {
      const older = await listedWithName(ctx, key, self);
      if (older !== null) throw taken(name, older);
      if ((await ctx.redis.hsetnx(names, key, ref)) === 1) return;
      continue;
    }
    const id = await tenantOfOwner(ctx, owner);
    if (id === tenantId) {
      if (owner !== ref) await ctx.redis.hset(names, key, ref);
      return;
    }
    // An index entry of a tenant that no longer exists (its delete crashed between steps) is free.
    if (id !== null && (await ctx.redis.sismember(ctx.keys.tenants(), id)) === 0) {
      await ctx.redis.hdel(names, key);
      continue;
    }
    throw taken(name, id);
  }
}

/** Drops every name index entry of a tenant except `keep` (after a rename, or all on delete). */
export async function releaseNamesOf(ctx: LedgerContext, tenantId: string, keep?: string): Promise<void> {
  const names = ctx.keys.tenantNames();
  const claim = await ctx.redis.hget(ctx.keys.tenantClaims(), tenantId);
  const all = await ctx.redis.hgetall(names);
  const keepKey = keep === undefined ? undefined : nameKey(keep);
  const gone = Object.entries(all)
    .filter(([k, owner]) => k !== keepKey && (owner === TENANT_REF + tenantId || (claim !== null && owner === claim)))
    .map(([k]) => k);
  if (gone.length > 0) await ctx.redis.hdel(names, ...gone);
}
