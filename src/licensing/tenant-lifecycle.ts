/**
 * Renaming and deleting tenants (issue 12; docs/admin-contract.md). Both are system
 * configuration (T2: the default tenant's admins with Tenant Management), like creating one.
 *
 * A delete is refused (TENANT_NOT_EMPTY) while the tenant holds granted licenses, registered
 * Client ids (uninstalled ones too, until the retention purge) or PAM users; the default tenant
 * is never deleted. Steps, each idempotent, in an order where a crash leaves a tenant that a
 * retry (the job's own, or a new `tenants delete`) finishes, never a half tenant that looks
 * alive: (1) delete-tenant-1.lua checks emptiness and removes every key of the tenant's slot
 * in one atomic call — from then on the tenant enrolls nobody and shows as gone in
 * `tenants show`; (2) its name index entries and id claim go; (3) last, it leaves the tenant
 * set, which is what makes the id unknown (and free) again; (4) one audit line in the default
 * tenant's trail (the tenant's own went with it).
 */
import { LicensegateError } from '../errors.ts';
import { DEFAULT_TENANT, OP_RESULT_RETENTION_MS } from '../store/keys.ts';
import { nowOf, runJsonScript, type LedgerContext } from './ledger-context.ts';
import { authorizeSystem, type Actor } from './permissions.ts';
import { claimNameForRename, releaseNamesOf } from './tenant-names.ts';
import type { TenantInfo } from './tenants.ts';

async function requireListed(ctx: LedgerContext, tenantId: string): Promise<void> {
  if ((await ctx.redis.sismember(ctx.keys.tenants(), tenantId)) === 0) throw new LicensegateError('UNKNOWN_TENANT', tenantId);
}

export async function renameTenant(ctx: LedgerContext, actor: Actor, tenantId: string, name: string, opId = ''): Promise<TenantInfo> {
  authorizeSystem(actor, 'renaming a tenant');
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 128) throw new LicensegateError('INVALID_ARGUMENT', 'tenant name must be 1-128 characters');
  await requireListed(ctx, tenantId);
  await claimNameForRename(ctx, trimmed, tenantId);
  const r = await runJsonScript<TenantInfo>(ctx, 'renameTenant', tenantId, [trimmed, nowOf(ctx), actor.userId, opId]);
  await releaseNamesOf(ctx, tenantId, trimmed);
  return { id: r.id, name: r.name, createdAt: r.createdAt };
}

/** Licenses granted to a tenant as the default tenant's books record them (grants hash). */
async function grantedTo(ctx: LedgerContext, tenantId: string): Promise<number> {
  const grants = await ctx.redis.hgetall(ctx.keys.grants());
  return Object.entries(grants)
    .filter(([field]) => field.startsWith(`${tenantId}|`))
    .reduce((sum, [, n]) => sum + Number(n), 0);
}

export async function deleteTenant(ctx: LedgerContext, actor: Actor, tenantId: string, opId = ''): Promise<{ tenantId: string; deleted: true }> {
  authorizeSystem(actor, 'deleting a tenant');
  if (tenantId === DEFAULT_TENANT) throw new LicensegateError('INVALID_ARGUMENT', 'the default tenant cannot be deleted');
  await requireListed(ctx, tenantId);
  const granted = await grantedTo(ctx, tenantId);
  if (granted > 0) throw new LicensegateError('TENANT_NOT_EMPTY', `tenant ${tenantId} holds ${granted} granted licenses; take them back first`);
  let name: string;
  try {
    ({ name } = await runJsonScript<{ name: string }>(ctx, 'deleteTenant', tenantId, []));
  } catch (err) {
    throw notEmptyText(err, tenantId);
  }
  await releaseNamesOf(ctx, tenantId);
  await ctx.redis.hdel(ctx.keys.tenantClaims(), tenantId);
  await ctx.redis.srem(ctx.keys.tenants(), tenantId);
  // Once per op: a retry after this point writes no second line.
  const once = opId === '' || (await ctx.redis.set(ctx.keys.opResult(DEFAULT_TENANT, `${opId}:tenant-deleted`), '1', 'PX', OP_RESULT_RETENTION_MS, 'NX')) === 'OK';
  if (once) {
    await ctx.redis.xadd(ctx.keys.audit(DEFAULT_TENANT), '*', 'ts', String(nowOf(ctx)), 'holder', '', 'holderKind', '', 'type', '', 'action', 'tenant-deleted',
      'before', tenantId, 'after', '', 'reason', name, 'actor', actor.userId, 'cause', opId);
  }
  return { tenantId, deleted: true };
}

/** The script's counts as a sentence ("tenant acme holds 3 Clients and 1 PAM user; …"). */
function notEmptyText(err: unknown, tenantId: string): unknown {
  if (!(err instanceof LicensegateError) || err.code !== 'TENANT_NOT_EMPTY') return err;
  const counts = (err as LicensegateError & { detail?: Record<string, number> }).detail ?? {};
  const parts = [
    counts.licenses ? `${counts.licenses} licenses` : '',
    counts.clients ? `${counts.clients} Clients (uninstalled ones count until the retention purge)` : '',
    counts.pamUsers ? `${counts.pamUsers} PAM users` : '',
  ].filter(Boolean);
  return new LicensegateError('TENANT_NOT_EMPTY', `tenant ${tenantId} holds ${parts.join(', ') || 'data'}`);
}
