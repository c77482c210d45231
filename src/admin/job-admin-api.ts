/**
 * AdminApi whose changes run as admin jobs (SPEC A1): the CLI uses it, so every change it
 * makes takes the same path as an admin service's — schema, permissions, idempotency, audit.
 * Reads go straight to Redis.
 */
import type { RedisClient } from '../store/redis-connection.ts';
import type { RedisTarget } from '../store/redis-target.ts';
import { readAuditPage } from '../licensing/audit.ts';
import type { LedgerContext } from '../licensing/ledger-context.ts';
import { authorizeTenant, type Actor } from '../licensing/permissions.ts';
import { listSerialKeys } from '../licensing/serial-key-ledger.ts';
import { listTenants } from '../licensing/tenants.ts';
import { listPamUsers } from '../licensing/pam-seats.ts';
import { readTenantDetail, readTenantPolicy, requireKnownTenant } from '../licensing/tenant-detail.ts';
import { availability, licensesGranted, listClients } from '../licensing/views.ts';
import { listClientsPage } from '../licensing/client-pages.ts';
import { DEFAULT_TENANT } from '../store/keys.ts';
import type { AdminApi } from './admin-api.ts';
import { AdminClient } from './client.ts';

export function jobAdminApi(ctx: LedgerContext, actor: Actor, redis: RedisTarget, owned: RedisClient[] = [], timeoutMs = 30_000): AdminApi {
  const client = new AdminClient({ connection: redis, prefix: ctx.keys.queuePrefix, actor, timeoutMs });
  return {
    activateSerial: (key) => client.activateSerial({ key }),
    removeSerial: (keyId) => client.removeSerial({ keyId }),
    // T6: what spans tenants is for the default tenant's admins; a tenant's admins see their own.
    listSerials: () => {
      authorizeTenant(actor, DEFAULT_TENANT, 'listing serial keys');
      return listSerialKeys(ctx);
    },
    availability: () => {
      authorizeTenant(actor, DEFAULT_TENANT, 'reading availability');
      return availability(ctx);
    },
    createTenant: (name, tenantId) => client.createTenant({ name, ...(tenantId === undefined ? {} : { tenantId }) }),
    showTenant: (tenantId) => {
      authorizeTenant(actor, tenantId, 'reading a tenant');
      return readTenantDetail(ctx, tenantId);
    },
    renameTenant: (tenantId, name) => client.renameTenant({ tenantId, name }),
    deleteTenant: (tenantId) => client.deleteTenant({ tenantId }),
    rotateEnrollmentToken: (tenantId, graceSeconds) => client.rotateToken({ tenantId, graceSeconds }),
    listTenants: async () => (await listTenants(ctx)).filter((t) => actor.tenantId === DEFAULT_TENANT || t.id === actor.tenantId),
    grant: (tenantId, type, count) => client.grant({ tenantId, type, count }),
    takeBack: (tenantId, type, count, force) => client.takeBack({ tenantId, type, count, force }),
    licensesGranted: async () => (await licensesGranted(ctx)).filter((r) => actor.tenantId === DEFAULT_TENANT || r.tenant === actor.tenantId),
    listClients: (tenantId, filter) => {
      authorizeTenant(actor, tenantId, 'listing Clients');
      return listClients(ctx, tenantId, filter);
    },
    clientsPage: async (tenantId, query) => {
      authorizeTenant(actor, tenantId, 'listing Clients');
      return listClientsPage(ctx, tenantId, query);
    },
    assignClient: (tenantId, clientId, opts) => client.assign({ tenantId, clientId, ...(opts.type ? { type: opts.type } : {}), force: opts.force ?? false }),
    unassignClient: (tenantId, clientId) => client.unassign({ tenantId, clientId }),
    uninstallClient: (tenantId, clientId) => client.uninstall({ tenantId, clientId }),
    getPolicy: (tenantId) => {
      authorizeTenant(actor, tenantId, 'reading the licensing policy');
      return readTenantPolicy(ctx, tenantId);
    },
    setPolicy: (tenantId, policy) => client.setPolicy({ tenantId, policy: stripUndefined(policy) }),
    setLimits: (tenantId, change) => client.setLimits({ tenantId, limits: stripUndefined(change) }),
    audit: async (tenantId, query) => {
      authorizeTenant(actor, tenantId, 'reading the audit trail');
      await requireKnownTenant(ctx, tenantId); // UNKNOWN_TENANT rather than an empty page
      return readAuditPage(ctx, tenantId, query);
    },
    createUser: (tenantId, name, userId) => client.createUser({ tenantId, name, ...(userId === undefined ? {} : { userId }) }),
    listPamUsers: async (tenantId) => {
      authorizeTenant(actor, tenantId, 'listing PAM users');
      await readTenantPolicy(ctx, tenantId); // UNKNOWN_TENANT rather than an empty list
      return listPamUsers(ctx, tenantId);
    },
    pamAssign: (tenantId, userId) => client.pamAssign({ tenantId, userId }),
    pamUnassign: (tenantId, userId) => client.pamUnassign({ tenantId, userId }),
    actorTenant: async () => actor.tenantId,
    async close() {
      await client.close();
      for (const r of owned) await r.quit().catch(() => r.disconnect());
    },
  };
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

