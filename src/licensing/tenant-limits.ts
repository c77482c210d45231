/**
 * A tenant's enrollment limits and identity policy (SPEC Z3, docs/identity.md), kept in its
 * tenant hash so that hello-1.lua's enroll branch checks them in the same atomic call that
 * registers the Client — no extra round trip, and concurrent enrollments racing at the cap
 * cannot pass it together.
 *
 * - enrollRate / enrollBurst: a token bucket of new registrations (re-enrollments of a known
 *   client id and reconnects with a credential take no token). Unset: the gateway's defaults
 *   TENANT_ENROLL_RATE / TENANT_ENROLL_BURST.
 * - maxClients: registered client ids the tenant may hold (0: no cap).
 * - requireProof: enroll only Hellos that carry enrollment_proof.
 *
 * Why the defaults are what they are: the bucket starts full, so a tenant can register
 * DEFAULT_ENROLL_BURST Clients at once — more than a node holds (MAX_CONNECTIONS 18,000) and
 * than the largest boot storm the bench drives (18,000 new agents) — and a fleet's first
 * roll-out is never slowed. After that a leaked token yields DEFAULT_ENROLL_RATE registrations
 * per second instead of as many as the gateways can run; maxClients bounds it absolutely.
 */
import { LicensegateError } from '../errors.ts';
import { runJsonScript, type LedgerContext } from './ledger-context.ts';
import { authorizeSystem, type Actor } from './permissions.ts';

/** New registrations per second per tenant when the tenant sets none (TENANT_ENROLL_RATE). */
export const DEFAULT_ENROLL_RATE = 100;
/** Registrations a tenant may make at once when it sets none (TENANT_ENROLL_BURST). */
export const DEFAULT_ENROLL_BURST = 50_000;
/** Upper bound of every limit value (keeps the bucket's arithmetic exact). */
export const LIMIT_MAX = 10_000_000;

/** What an admin changes; undefined keeps the value, null returns to the gateway's default. */
export interface TenantLimitsChange {
  enrollRate?: number | null | undefined;
  enrollBurst?: number | null | undefined;
  /** 0 or null: no cap. */
  maxClients?: number | null | undefined;
  requireProof?: boolean | undefined;
}

/** A tenant's limits as stored; null: the gateway's default applies (no cap for maxClients). */
export interface TenantLimits {
  tenantId: string;
  enrollRate: number | null;
  enrollBurst: number | null;
  maxClients: number | null;
  requireProof: boolean;
  /** Client ids registered now (what maxClients counts). */
  clients: number;
}

function field(name: string, v: number | null | undefined, min: number): string {
  if (v === undefined) return '';
  if (v === null) return '-';
  if (!Number.isInteger(v) || v < min || v > LIMIT_MAX) throw new LicensegateError('INVALID_ARGUMENT', `${name} must be an integer ${min}-${LIMIT_MAX}`);
  return String(v);
}

/**
 * Sets a tenant's limits (system configuration: the default tenant's admins with Tenant
 * Management, like grants — a tenant's own admins must not lift the cap the technician set).
 * Retry-safe by op id (the reply is stored under it, SPEC F3).
 */
export async function setTenantLimits(ctx: LedgerContext, actor: Actor, tenantId: string, change: TenantLimitsChange, opId = ''): Promise<TenantLimits> {
  authorizeSystem(actor, 'setting enrollment limits');
  const args = [
    field('enrollRate', change.enrollRate, 1),
    field('enrollBurst', change.enrollBurst, 1),
    field('maxClients', change.maxClients === 0 ? null : change.maxClients, 1),
    change.requireProof === undefined ? '' : change.requireProof ? '1' : '0',
    opId,
  ];
  const r = await runJsonScript<Omit<TenantLimits, 'tenantId'>>(ctx, 'setLimits', tenantId, args);
  return { tenantId, ...r };
}
