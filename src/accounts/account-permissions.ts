/**
 * Who may manage admin accounts (SPEC H2, A2, T6), checked on the server for every request:
 * - the Tenant Management permission (`tenant-management-and-system-configuration`);
 * - a default-tenant account manages any tenant's accounts, any other account only its own
 *   tenant's (T6);
 * - nobody grants a permission they do not hold;
 * - the default tenant's last enabled account with every permission (a "technician") cannot be
 *   disabled, deleted or stripped of a permission: there would be nobody left to manage the system.
 *   That check runs inside the write itself (AccountStore.update/delete, change-account-7.lua),
 *   so two simultaneous changes of the last two technicians cannot both pass.
 */
import { LicensegateError } from '../errors.ts';
import { PERMISSIONS, type Actor, type Permission } from '../licensing/permissions.ts';
import { DEFAULT_TENANT } from '../store/keys.ts';

/** Managing the accounts of `tenantId` at all (list, create, change, delete, reset). */
export function authorizeAccountAdmin(actor: Actor, tenantId: string, what: string): void {
  if (!actor.permissions.includes(PERMISSIONS.tenants)) throw new LicensegateError('FORBIDDEN', `${what} needs ${PERMISSIONS.tenants}`);
  if (actor.tenantId !== DEFAULT_TENANT && actor.tenantId !== tenantId) {
    throw new LicensegateError('FORBIDDEN', `${what}: an account of tenant ${actor.tenantId} cannot manage tenant ${tenantId}'s accounts`);
  }
}

/** Granting permissions: only those the actor holds. */
export function authorizeGrant(actor: Actor, permissions: readonly Permission[], what: string): void {
  const missing = permissions.filter((p) => !actor.permissions.includes(p));
  if (missing.length > 0) throw new LicensegateError('FORBIDDEN', `${what}: cannot grant ${missing.join(', ')} (not held)`);
}
