/**
 * What an admin (the CLI) can ask of licensegate, acting as one actor. Reads go straight to
 * Redis, scoped to the actor's tenant (T6); changes go through the admin job queue
 * (./job-admin-api.ts) so that every change is authorized, idempotent and audited in one place.
 */
import type { AuditPage, AuditQuery } from '../licensing/audit.ts';
import type { AssignOptions, ClientState, TenantPolicy } from '../licensing/client-admin.ts';
import type { ActivationResult, SerialKeyRecord } from '../licensing/serial-key-ledger.ts';
import type { LicenseTypeName } from '../licensing/license-types.ts';
import type { PamUser } from '../licensing/pam-seats.ts';
import type { TenantLimits, TenantLimitsChange } from '../licensing/tenant-limits.ts';
import type { CreatedTenant, TenantInfo } from '../licensing/tenants.ts';
import type { TenantDetail } from '../licensing/tenant-detail.ts';
import type { RotationResult } from '../licensing/enrollment-tokens.ts';
import type { AvailabilityRow, ClientFilter, ClientRow, GrantedRow } from '../licensing/views.ts';
import type { ClientPage, ClientPageQuery } from '../licensing/client-pages.ts';

export interface AdminApi {
  // --- serial keys (S2-S4) ---
  activateSerial(key: string): Promise<ActivationResult>;
  removeSerial(keyId: string): Promise<{ keyId: string; lost: number }>;
  listSerials(): Promise<SerialKeyRecord[]>;
  /** S3 availability per type. */
  availability(): Promise<AvailabilityRow[]>;
  // --- tenants (T1-T5) ---
  /** The new tenant with its enrollment token, shown this once (SPEC Z2). */
  createTenant(name: string, tenantId?: string): Promise<CreatedTenant>;
  /** Name, policy, limits, pools per type, Client and PAM-user counts (issue 12). */
  showTenant(tenantId: string): Promise<TenantDetail>;
  /** A new display name; the id stays. TENANT_EXISTS when another tenant has that name. */
  renameTenant(tenantId: string, name: string): Promise<TenantInfo>;
  /** TENANT_NOT_EMPTY while it holds licenses, Clients or PAM users; never the default tenant. */
  deleteTenant(tenantId: string): Promise<{ tenantId: string; deleted: true }>;
  /** A new enrollment token (shown once); the old one enrolls for graceSeconds more (0: dies at once). */
  rotateEnrollmentToken(tenantId: string, graceSeconds: number): Promise<RotationResult & { enrollmentToken: string }>;
  listTenants(): Promise<TenantInfo[]>;
  grant(tenantId: string, type: LicenseTypeName, count: number): Promise<{ tenantId: string; type: LicenseTypeName; granted: number; promoted: string[] }>;
  takeBack(tenantId: string, type: LicenseTypeName, count: number, force: boolean): Promise<{ tenantId: string; type: LicenseTypeName; takenBack: number; unassigned: string[] }>;
  /** T5 Licenses Granted. */
  licensesGranted(): Promise<GrantedRow[]>;
  // --- Clients ---
  listClients(tenantId: string, filter: ClientFilter): Promise<ClientRow[]>;
  /** H1: one page in client-id order, bounded work per call (docs/client-pages.md). */
  clientsPage(tenantId: string, query: ClientPageQuery): Promise<ClientPage>;
  assignClient(tenantId: string, clientId: string, opts: AssignOptions): Promise<ClientState & { reclaimed: string | null }>;
  unassignClient(tenantId: string, clientId: string): Promise<ClientState & { promoted: string[] }>;
  uninstallClient(tenantId: string, clientId: string): Promise<ClientState & { promoted: string[] }>;
  getPolicy(tenantId: string): Promise<Required<TenantPolicy> & { tenantId: string }>;
  setPolicy(tenantId: string, policy: TenantPolicy): Promise<Required<TenantPolicy> & { tenantId: string }>;
  /** A5 audit trail of a tenant: one page from the end, newest first (Z5: never the whole stream). */
  audit(tenantId: string, query: AuditQuery): Promise<AuditPage>;
  /** Z3 enrollment limits and identity policy of a tenant. */
  setLimits(tenantId: string, change: TenantLimitsChange): Promise<TenantLimits>;
  // --- PAM (P1) ---
  /** USER_EXISTS when a user of that name exists in the tenant, unless userId is given. */
  createUser(tenantId: string, name: string, userId?: string): Promise<PamUser>;
  /** PAM users with their ids and whether each holds a seat. */
  listPamUsers(tenantId: string): Promise<PamUser[]>;
  pamAssign(tenantId: string, userId: string): Promise<{ userId: string; seat: boolean; changed: boolean }>;
  pamUnassign(tenantId: string, userId: string): Promise<{ userId: string; seat: boolean; changed: boolean }>;
  /** The tenant of the actor (direct mode) or of the API token's account (remote mode). */
  actorTenant(): Promise<string>;
  close(): Promise<void>;
}
