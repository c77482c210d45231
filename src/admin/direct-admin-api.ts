/** AdminApi that runs every operation in this process against Redis (no job queue). */
import type { Redis } from 'ioredis';
import type { LedgerContext } from '../licensing/ledger-context.ts';
import { assignPamSeat, createPamUser, unassignPamSeat } from '../licensing/pam-seats.ts';
import { readAudit } from '../licensing/audit.ts';
import { assignClient, setTenantPolicy, unassignClient, uninstallClient } from '../licensing/client-admin.ts';
import { authorizeTenant, type Actor } from '../licensing/permissions.ts';
import { activateSerialKey, listSerialKeys, removeSerialKey } from '../licensing/serial-key-ledger.ts';
import { createTenant, grantLicenses, listTenants, takeBackLicenses } from '../licensing/tenants.ts';
import { availability, licensesGranted, listClients } from '../licensing/views.ts';
import type { AdminApi } from './admin-api.ts';

export function directAdminApi(ctx: LedgerContext, actor: Actor, owned: Redis[] = []): AdminApi {
  return {
    activateSerial: (key) => activateSerialKey(ctx, actor, key),
    removeSerial: (keyId) => removeSerialKey(ctx, actor, keyId),
    listSerials: () => listSerialKeys(ctx),
    availability: () => availability(ctx),
    createTenant: (name) => createTenant(ctx, actor, name),
    listTenants: () => listTenants(ctx),
    grant: (tenantId, type, count) => grantLicenses(ctx, actor, tenantId, type, count),
    takeBack: (tenantId, type, count, force) => takeBackLicenses(ctx, actor, tenantId, type, count, force),
    licensesGranted: () => licensesGranted(ctx),
    listClients: (tenantId, filter) => listClients(ctx, tenantId, filter),
    assignClient: (tenantId, clientId, opts) => assignClient(ctx, actor, tenantId, clientId, opts),
    unassignClient: (tenantId, clientId) => unassignClient(ctx, actor, tenantId, clientId),
    uninstallClient: (tenantId, clientId) => uninstallClient(ctx, actor, tenantId, clientId),
    setPolicy: (tenantId, policy) => setTenantPolicy(ctx, actor, tenantId, policy),
    audit: (tenantId, query) => {
      authorizeTenant(actor, tenantId, 'reading the audit trail');
      return readAudit(ctx, tenantId, query);
    },
    createUser: (tenantId, name) => createPamUser(ctx, actor, tenantId, name),
    pamAssign: (tenantId, userId) => assignPamSeat(ctx, actor, tenantId, userId),
    pamUnassign: (tenantId, userId) => unassignPamSeat(ctx, actor, tenantId, userId),
    async close() {
      for (const r of owned) await r.quit().catch(() => r.disconnect());
    },
  };
}
