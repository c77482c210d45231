/**
 * Actors and permissions (SPEC A2, T2, T6). Every licensing change names who asks; the
 * permission names are part of the public job contract.
 */
import { z } from 'zod';
import { LicensegateError } from '../errors.ts';
import { DEFAULT_TENANT } from '../store/keys.ts';

import { PERMISSIONS, type Permission } from './permission-names.ts';

export { PERMISSIONS, type Permission } from './permission-names.ts';

export const actorSchema = z.object({
  userId: z.string().min(1).max(128),
  tenantId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  permissions: z.array(z.enum([PERMISSIONS.clients, PERMISSIONS.licenses, PERMISSIONS.tenants])),
});
export type Actor = z.infer<typeof actorSchema>;

/** The default tenant's admin with every permission: the dev default of the CLI. */
export const TECHNICIAN: Actor = {
  userId: 'technician',
  tenantId: DEFAULT_TENANT,
  permissions: [PERMISSIONS.clients, PERMISSIONS.licenses, PERMISSIONS.tenants],
};

/** The actor recorded for changes nobody asked for (expiry, auto-assignment). */
export const SYSTEM_ACTOR = 'system';

function need(actor: Actor, permissions: Permission[], what: string): void {
  const missing = permissions.filter((p) => !actor.permissions.includes(p));
  if (missing.length > 0) throw new LicensegateError('FORBIDDEN', `${what} needs ${missing.join(', ')}`);
}

/** Serial keys, tenants and grants: Tenant Management permission and the default tenant (T2). */
export function authorizeSystem(actor: Actor, what: string): void {
  need(actor, [PERMISSIONS.tenants], what);
  if (actor.tenantId !== DEFAULT_TENANT) throw new LicensegateError('FORBIDDEN', `${what} is reserved to the default tenant's admins`);
}

/** Assigning licenses inside a tenant: both license permissions, and the tenant's own admin or the technician (T6). */
export function authorizeLicenses(actor: Actor, tenantId: string, what: string): void {
  need(actor, [PERMISSIONS.clients, PERMISSIONS.licenses], what);
  authorizeTenant(actor, tenantId, what);
}

/** Acting on a tenant's data at all: its own admins, or the default tenant's (T6). */
export function authorizeTenant(actor: Actor, tenantId: string, what: string): void {
  if (actor.tenantId !== tenantId && actor.tenantId !== DEFAULT_TENANT) {
    throw new LicensegateError('FORBIDDEN', `${what}: actor of tenant ${actor.tenantId} cannot act on tenant ${tenantId}`);
  }
}
