/** How the issue-12 reads and tenant changes of `licensegate admin` read for people. */
import type { PamUser } from '../licensing/pam-seats.ts';
import type { TenantDetail } from '../licensing/tenant-detail.ts';
import type { PamSeatsJson } from './admin-json.ts';
import { formatTable, iso } from './admin-table.ts';

export function usersView(users: readonly PamUser[]): string {
  return formatTable(['USER ID', 'NAME', 'SEAT'], users.map((u) => [u.id, u.name, u.seat]));
}

export function pamSeatsView(p: PamSeatsJson): string {
  const pool = formatTable(['TENANT', 'PAM SEATS GRANTED', 'ASSIGNED', 'AVAILABLE'], [[p.tenant, p.granted, p.assigned, p.available]]);
  if (p.seats.length === 0) return `${pool}\n\nno PAM user holds a seat`;
  return `${pool}\n\n${formatTable(['SEAT HELD BY (USER ID)', 'NAME'], p.seats.map((s) => [s.userId, s.name]))}`;
}

export function tenantDetailView(t: TenantDetail): string {
  const head = formatTable(
    ['ID', 'NAME', 'CREATED', 'CLIENTS', 'UNINSTALLED', 'PAM USERS'],
    [[t.id, t.name, iso(t.createdAt), t.clients, t.uninstalledClients, t.pamUsers]],
  );
  const settings = formatTable(
    ['RECLAIM AFTER DAYS', 'FREE NON-PERSISTENT', 'ENROLL RATE /S', 'ENROLL BURST', 'MAX CLIENTS', 'REQUIRE PROOF'],
    [[t.policy.reclaimAfterDays || 'off', t.policy.freeNonPersistentOnDisconnect, t.limits.enrollRate ?? 'default', t.limits.enrollBurst ?? 'default', t.limits.maxClients ?? 'off', t.limits.requireProof ? 'on' : 'off']],
  );
  const pools = formatTable(
    ['TYPE', 'GRANTED', 'ASSIGNED', 'AVAILABLE', 'WAITING'],
    t.pools.map((p) => [p.type, p.granted, p.assigned, p.available, p.waiting]),
  );
  return `${head}\n\n${settings}\n\n${pools}`;
}

export function deletedView(r: { tenantId: string; deleted: true }): string {
  return formatTable(['TENANT', 'DELETED'], [[r.tenantId, r.deleted]]);
}
