/** How each `licensegate admin` result reads for people (the --json output is the result itself). */
import type { AuditPage } from '../licensing/audit.ts';
import type { ClientState } from '../licensing/client-admin.ts';
import type { PamUser } from '../licensing/pam-seats.ts';
import type { ActivationResult, SerialKeyRecord } from '../licensing/serial-key-ledger.ts';
import type { TenantInfo } from '../licensing/tenants.ts';
import type { ClientRow } from '../licensing/views.ts';
import type { AvailabilityJson, GrantedJson } from './admin-json.ts';
import { formatTable, iso } from './admin-table.ts';
import { safeText } from './safe-text.ts';

/** A table, then one `label: ids` line when there are ids to name. */
function withIds(table: string, label: string, ids: readonly string[]): string {
  return ids.length ? `${table}\n\n${label}: ${safeText(ids.join(' '))}` : table;
}

export function activationView(r: ActivationResult): string {
  return formatTable(['KEY ID', 'STATUS', 'EXPIRED TRIALS'], [[r.keyId, r.status, r.expiredTrials.join(',')]]);
}

export function serialListView(records: readonly SerialKeyRecord[]): string {
  return formatTable(
    ['KEY ID', 'KIND', 'STATUS', 'EXPIRES', 'LICENSES', 'MULTI-TENANT'],
    records.map((r) => [
      r.payload.keyId,
      r.payload.kind,
      r.status,
      r.payload.expiresAt ? iso(r.payload.expiresAt) : 'never',
      Object.entries(r.payload.licenses)
        .filter(([, n]) => (n ?? 0) > 0)
        .map(([t, n]) => `${t}=${n}`)
        .join(','),
      r.payload.multiTenant,
    ]),
  );
}

export function serialRemoveView(r: { keyId: string; lost: number }): string {
  return formatTable(['KEY ID', 'UNASSIGNED'], [[r.keyId, r.lost]]);
}

export function availabilityView(rows: readonly AvailabilityJson[]): string {
  const table = formatTable(
    ['TYPE', 'TOTAL', 'GRANTED', 'ASSIGNED', 'AVAILABLE'],
    rows.map((r) => [r.type, r.total, r.granted, r.assigned, r.available]),
  );
  // Issue 12: a reader could not tell whether ASSIGNED spans every tenant.
  return `${table}\n\nASSIGNED counts the default tenant only; licenses granted to other tenants count under GRANTED\n(how many of those each tenant has assigned: tenants granted)`;
}

export function tenantsView(tenants: readonly TenantInfo[]): string {
  return formatTable(
    ['ID', 'NAME', 'CREATED'],
    tenants.map((t) => [t.id, t.name, iso(t.createdAt)]),
  );
}

export function grantView(r: { tenantId: string; type: string; granted: number; promoted: string[] }): string {
  const table = formatTable(['TENANT', 'TYPE', 'GRANTED', 'LICENSED FROM QUEUE'], [[r.tenantId, r.type, r.granted, r.promoted.length]]);
  return withIds(table, 'licensed from queue', r.promoted);
}

export function takeBackView(r: { tenantId: string; type: string; takenBack: number; unassigned: string[] }): string {
  const table = formatTable(['TENANT', 'TYPE', 'TAKEN BACK', 'UNASSIGNED'], [[r.tenantId, r.type, r.takenBack, r.unassigned.length]]);
  return withIds(table, 'unassigned', r.unassigned);
}

export function grantedView(rows: readonly GrantedJson[]): string {
  return formatTable(
    ['TENANT', 'TYPE', 'GRANTED', 'ASSIGNED', 'AVAILABLE'],
    rows.map((r) => [r.tenant, r.type, r.granted, r.assigned, r.available]),
  );
}

export function clientsView(rows: readonly ClientRow[]): string {
  return formatTable(
    ['CLIENT ID', 'HOSTNAME', 'OS', 'STATE', 'LICENSE', 'REASON', 'LAST SEEN'],
    rows.map((c) => [
      c.clientId,
      c.hostname,
      c.os,
      c.status === 'uninstalled' ? 'uninstalled' : c.online ? 'online' : 'offline',
      c.license,
      c.reason,
      iso(c.lastSeen),
    ]),
  );
}

export function userView(u: PamUser): string {
  return formatTable(['TENANT', 'USER ID', 'NAME', 'SEAT'], [[u.tenant, u.id, u.name, u.seat]]);
}

export function seatView(r: { userId: string; seat: boolean; changed: boolean }): string {
  return formatTable(['USER ID', 'SEAT', 'CHANGED'], [[r.userId, r.seat, r.changed]]);
}

export function clientStateView(s: ClientState & { reclaimed?: string | null; promoted?: string[] }): string {
  const table = formatTable(
    ['TENANT', 'CLIENT', 'STATUS', 'ONLINE', 'LICENSE', 'REASON', 'LAST SEEN'],
    [[s.tenantId, s.clientId, s.status, s.online, s.license ?? '-', s.reason, iso(s.lastSeen)]],
  );
  if (s.reclaimed) return withIds(table, 'reclaimed from', [s.reclaimed]);
  return withIds(table, 'licensed from the waiting queue', s.promoted ?? []);
}

export function policyView(p: { tenantId: string; reclaimAfterDays: number; freeNonPersistentOnDisconnect: boolean }): string {
  return formatTable(['TENANT', 'RECLAIM AFTER DAYS', 'FREE NON-PERSISTENT ON DISCONNECT'], [[p.tenantId, p.reclaimAfterDays || 'off', p.freeNonPersistentOnDisconnect]]);
}

export function limitsView(l: { tenantId: string; enrollRate: number | null; enrollBurst: number | null; maxClients: number | null; requireProof: boolean; clients: number }): string {
  return formatTable(
    ['TENANT', 'ENROLL RATE /S', 'ENROLL BURST', 'MAX CLIENTS', 'CLIENTS', 'REQUIRE PROOF'],
    [[l.tenantId, l.enrollRate ?? 'default', l.enrollBurst ?? 'default', l.maxClients ?? 'off', l.clients, l.requireProof ? 'on' : 'off']],
  );
}

export function auditView(page: AuditPage): string {
  const table = formatTable(
    ['TIME', 'HOLDER', 'TYPE', 'ACTION', 'BEFORE', 'AFTER', 'REASON', 'ACTOR', 'CAUSE'],
    page.entries.map((r) => [iso(r.ts), r.holder, r.type, r.action, r.before, r.after, r.reason, r.actor, r.cause]),
  );
  // The cursor last, where a reader of a long trail looks for "more".
  return page.next ? `${table}\n\nolder entries: --before ${page.next}` : table;
}
