/**
 * What admins do to Clients (SPEC C6–C12, A2, T6): assign and unassign on the fly, uninstall,
 * and set the tenant's reclaim / non-persistent policy. Each change is one atomic script in
 * the tenant's slot that also appends the Client's command and the audit line; then the
 * gateway holding the Client is rung so the command arrives at once. Each takes an op id (the
 * job's): the script stores its reply under it, so a retried job has no second effect and gets
 * the first reply (SPEC A3, F3).
 */
import { runScript } from '../store/scripts.ts';
import { LicensegateError, isErrorCode } from '../errors.ts';
import { idsOf, nowOf, runJsonScript, type LedgerContext } from './ledger-context.ts';
import type { EndpointLicenseType } from './license-types.ts';
import { onceByOp } from './op-results.ts';
import { authorizeLicenses, authorizeTenant, PERMISSIONS, type Actor } from './permissions.ts';

/** What the admin scripts return as the Client's state (tenant and id added by the caller). */
type ScriptState = Omit<ClientState, 'tenantId' | 'clientId'>;

export interface ClientState {
  tenantId: string;
  clientId: string;
  status: 'active' | 'uninstalled';
  online: boolean;
  license: EndpointLicenseType | null;
  reason: string;
  lastSeen: number;
}

/**
 * CLIENT_NOT_FOUND that names the client and the tenant searched (issue 12: an admin who forgot
 * --tenant learns where it looked), whatever step found it missing.
 */
async function namingTenant<T>(tenantId: string, clientId: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof LicensegateError && err.code === 'CLIENT_NOT_FOUND') throw new LicensegateError('CLIENT_NOT_FOUND', `client ${clientId} in tenant ${tenantId}`);
    throw err;
  }
}

export async function clientState(ctx: LedgerContext, tenantId: string, clientId: string): Promise<ClientState> {
  const [[, rec], [, conn]] = (await ctx.redis
    .multi()
    .hmget(ctx.keys.client(tenantId, clientId), 'status', 'type', 'reason', 'lastSeen')
    .hget(ctx.keys.online(tenantId), clientId)
    .exec())! as [[unknown, (string | null)[]], [unknown, string | null]];
  const [status, type, reason, lastSeen] = rec;
  if (!status) throw new LicensegateError('CLIENT_NOT_FOUND', `client ${clientId} in tenant ${tenantId}`);
  return {
    tenantId,
    clientId,
    status: status === 'uninstalled' ? 'uninstalled' : 'active',
    online: conn !== null,
    license: (type || null) as EndpointLicenseType | null,
    reason: reason ?? '',
    lastSeen: Number(lastSeen ?? 0),
  };
}

export interface AssignOptions {
  /** Default: the type the Client's OS maps to (L2). */
  type?: EndpointLicenseType | undefined;
  /** Assign a type that does not fit the Client's OS. */
  force?: boolean | undefined;
}

/** C6: assign now (online → StartMonitoring at once; offline → at its next connect). */
export async function assignClient(ctx: LedgerContext, actor: Actor, tenantId: string, clientId: string, opts: AssignOptions = {}, cause = 'client.assign', opId = ''): Promise<ClientState & { reclaimed: string | null }> {
  authorizeLicenses(actor, tenantId, 'assigning a license');
  const r = await namingTenant(
    tenantId,
    clientId,
    runJsonScript<{ type: string; reclaimed: string; state: ScriptState }>(ctx, 'adminAssign', tenantId, [clientId, opts.type ?? '', opts.force ? '1' : '0', nowOf(ctx), actor.userId, cause, opId]),
  );
  return { tenantId, clientId, ...r.state, reclaimed: r.reclaimed || null };
}

/** C7 C10: unassign now; the Client stays unlicensed until an admin assigns again. */
export async function unassignClient(ctx: LedgerContext, actor: Actor, tenantId: string, clientId: string, cause = 'client.unassign', opId = ''): Promise<ClientState & { promoted: string[] }> {
  authorizeLicenses(actor, tenantId, 'unassigning a license');
  const r = await namingTenant(tenantId, clientId, runJsonScript<{ freed: string; promoted: unknown; state: ScriptState }>(ctx, 'adminUnassign', tenantId, [clientId, nowOf(ctx), actor.userId, cause, opId]));
  return { tenantId, clientId, ...r.state, promoted: idsOf(r.promoted) };
}

/**
 * C8: uninstall: license freed, credential revoked, Command{uninstall} queued for the agent.
 * The script is idempotent by state; its first result is kept by op id (op-results.ts).
 */
export async function uninstallClient(ctx: LedgerContext, actor: Actor, tenantId: string, clientId: string, cause = 'client.uninstall', opId = ''): Promise<ClientState & { promoted: string[] }> {
  authorizeLicenses(actor, tenantId, 'uninstalling a client');
  return namingTenant(tenantId, clientId, onceByOp(ctx, tenantId, opId, () => runUninstall(ctx, actor, tenantId, clientId, cause)));
}

async function runUninstall(ctx: LedgerContext, actor: Actor, tenantId: string, clientId: string, cause: string): Promise<ClientState & { promoted: string[] }> {
  const reply = (await runScript(ctx.redis, 'uninstall', [ctx.keys.tenant(tenantId)], [ctx.keys.tenantBase(tenantId), clientId, nowOf(ctx), actor.userId, cause, '1'])) as unknown[];
  if (reply[0] !== 'OK') {
    const code = String(reply[0]);
    throw new LicensegateError(isErrorCode(code) ? code : 'INTERNAL_ERROR', clientId);
  }
  const promoted = reply.slice(2).map(String);
  return { ...(await clientState(ctx, tenantId, clientId)), promoted };
}

export interface TenantPolicy {
  /** C11: reclaim from Clients offline at least this many days when the pool is empty; 0 = off. */
  reclaimAfterDays?: number | undefined;
  /** C12: non-persistent Clients free their license when they disconnect. */
  freeNonPersistentOnDisconnect?: boolean | undefined;
}

export async function setTenantPolicy(ctx: LedgerContext, actor: Actor, tenantId: string, policy: TenantPolicy, opId = ''): Promise<Required<TenantPolicy> & { tenantId: string }> {
  authorizeTenant(actor, tenantId, 'setting the licensing policy');
  if (!actor.permissions.includes(PERMISSIONS.licenses)) throw new LicensegateError('FORBIDDEN', `setting the licensing policy needs ${PERMISSIONS.licenses}`);
  const days = policy.reclaimAfterDays;
  if (days !== undefined && (!Number.isInteger(days) || days < 0 || days > 3650)) throw new LicensegateError('INVALID_ARGUMENT', 'reclaimAfterDays must be an integer 0-3650');
  const np = policy.freeNonPersistentOnDisconnect;
  const r = await runJsonScript<{ reclaimAfterDays: number; freeNonPersistentOnDisconnect: boolean }>(ctx, 'setPolicy', tenantId, [days === undefined ? '' : String(days), np === undefined ? '' : np ? '1' : '0', opId]);
  return { tenantId, ...r };
}
