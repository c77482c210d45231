/**
 * Tenants (SPEC T1–T6, Z2, Z3) over the admin API: list, create (the enrollment token is in the
 * answer once), grants and take-backs, Licenses Granted, token rotation, policy and limits.
 * Reads are scoped on the server (an account sees its own tenant; the default tenant's see all);
 * changes run as admin jobs whose worker checks the permissions again.
 */
import { z } from 'zod';
import { MAX_GRACE_MS } from '../../licensing/enrollment-tokens.ts';
import type { LicenseTypeName } from '../../licensing/license-types.ts';
import { authorizeTenant } from '../../licensing/permissions.ts';
import { readTenantDetail, readTenantPolicy } from '../../licensing/tenant-detail.ts';
import { listTenants } from '../../licensing/tenants.ts';
import { licensesGranted } from '../../licensing/views.ts';
import { DEFAULT_TENANT } from '../../store/keys.ts';
import type { RouteModule } from '../api-deps.ts';
import { route } from '../route.ts';
import { jobInput, principalOf } from './job-call.ts';
import { licenseTypeSchema, policySchema, tenantIdSchema, tenantInfoSchema, tenantParams } from './schemas.ts';

const TAG = 'Tenants';
const count = z.number().int().positive().max(1_000_000);
const limit = (min: number) => z.number().int().min(min).max(10_000_000).nullable().optional();

const tenantDetailSchema = tenantInfoSchema.extend({
  policy: z.object({ reclaimAfterDays: z.number(), freeNonPersistentOnDisconnect: z.boolean() }),
  limits: z.object({ enrollRate: z.number().nullable(), enrollBurst: z.number().nullable(), maxClients: z.number().nullable(), requireProof: z.boolean() }),
  pools: z.array(z.object({ type: z.string(), granted: z.number(), assigned: z.number(), available: z.number(), waiting: z.number() })),
  clients: z.number().describe('registered Client ids, uninstalled ones not yet purged included'),
  uninstalledClients: z.number(),
  pamUsers: z.number(),
});

export const tenantRoutes: RouteModule = (deps) => [
  route({
    method: 'GET',
    path: '/tenants',
    operationId: 'listTenants',
    summary: "Tenants: all for the default tenant's accounts, else the account's own",
    tag: TAG,
    auth: 'account',
    response: z.array(tenantInfoSchema),
    handler: async (ctx) => {
      const actor = principalOf(ctx).actor;
      return (await listTenants(deps.ctx)).filter((t) => actor.tenantId === DEFAULT_TENANT || t.id === actor.tenantId);
    },
  }),
  route({
    method: 'POST',
    path: '/tenants',
    operationId: 'createTenant',
    summary: 'Create a tenant (T1); its enrollment token is in this answer only (a retry with the same Idempotency-Key answers "")',
    tag: TAG,
    auth: 'account',
    idempotent: true,
    status: 201,
    body: z.object({ name: z.string().trim().min(1).max(128), tenantId: tenantIdSchema.optional() }),
    response: tenantInfoSchema.extend({ enrollmentToken: z.string().describe('shown once; "" on a repeated Idempotency-Key') }),
    handler: (ctx) => deps.admin.createTenant({ ...jobInput(ctx), name: ctx.body.name, ...(ctx.body.tenantId ? { tenantId: ctx.body.tenantId } : {}) }),
  }),
  route({
    method: 'GET',
    path: '/tenants/{tenantId}',
    operationId: 'getTenant',
    summary: 'A tenant: name, policy, limits, pools per type, Client and PAM user counts',
    tag: TAG,
    auth: 'account',
    params: tenantParams,
    response: tenantDetailSchema,
    handler: async (ctx) => {
      authorizeTenant(principalOf(ctx).actor, ctx.params.tenantId, 'reading a tenant');
      return readTenantDetail(deps.ctx, ctx.params.tenantId);
    },
  }),
  route({
    method: 'PATCH',
    path: '/tenants/{tenantId}',
    operationId: 'renameTenant',
    summary: 'Rename a tenant (its id stays); TENANT_EXISTS when another tenant has that name',
    tag: TAG,
    auth: 'account',
    idempotent: true,
    params: tenantParams,
    body: z.object({ name: z.string().trim().min(1).max(128) }),
    response: tenantInfoSchema,
    handler: (ctx) => deps.admin.renameTenant({ ...jobInput(ctx), tenantId: ctx.params.tenantId, name: ctx.body.name }),
  }),
  route({
    method: 'DELETE',
    path: '/tenants/{tenantId}',
    operationId: 'deleteTenant',
    summary: 'Delete a tenant; TENANT_NOT_EMPTY while it holds licenses, Clients or PAM users; never the default tenant',
    tag: TAG,
    auth: 'account',
    idempotent: true,
    params: tenantParams,
    response: z.object({ tenantId: z.string(), deleted: z.literal(true) }),
    handler: (ctx) => deps.admin.deleteTenant({ ...jobInput(ctx), tenantId: ctx.params.tenantId }),
  }),
  route({
    method: 'POST',
    path: '/tenants/{tenantId}/grants',
    operationId: 'grantLicenses',
    summary: 'Grant licenses of a type to a tenant (T3)',
    tag: TAG,
    auth: 'account',
    idempotent: true,
    params: tenantParams,
    body: z.object({ type: licenseTypeSchema, count }),
    response: z.object({ tenantId: z.string(), type: z.string(), granted: z.number(), promoted: z.array(z.string()) }),
    handler: (ctx) => deps.admin.grant({ ...jobInput(ctx), tenantId: ctx.params.tenantId, type: ctx.body.type as LicenseTypeName, count: ctx.body.count }),
  }),
  route({
    method: 'POST',
    path: '/tenants/{tenantId}/take-back',
    operationId: 'takeBackLicenses',
    summary: 'Take licenses back from a tenant (T4); assigned ones only with force (their Clients lose them)',
    tag: TAG,
    auth: 'account',
    idempotent: true,
    params: tenantParams,
    body: z.object({ type: licenseTypeSchema, count, force: z.boolean().default(false) }),
    response: z.object({ tenantId: z.string(), type: z.string(), takenBack: z.number(), unassigned: z.array(z.string()) }),
    handler: (ctx) => deps.admin.takeBack({ ...jobInput(ctx), tenantId: ctx.params.tenantId, type: ctx.body.type as LicenseTypeName, count: ctx.body.count, force: ctx.body.force }),
  }),
  route({
    method: 'GET',
    path: '/licenses-granted',
    operationId: 'listLicensesGranted',
    summary: "Licenses Granted per tenant and type (T5), scoped like GET /tenants",
    tag: 'Licenses',
    auth: 'account',
    response: z.array(z.object({ tenant: z.string(), type: z.string(), granted: z.number(), assigned: z.number(), available: z.number() })),
    handler: async (ctx) => {
      const actor = principalOf(ctx).actor;
      return (await licensesGranted(deps.ctx)).filter((r) => actor.tenantId === DEFAULT_TENANT || r.tenant === actor.tenantId);
    },
  }),
  route({
    method: 'POST',
    path: '/tenants/{tenantId}/rotate-token',
    operationId: 'rotateEnrollmentToken',
    summary: 'A new enrollment token (shown once); the old one keeps enrolling for graceSeconds (Z2)',
    tag: TAG,
    auth: 'account',
    idempotent: true,
    params: tenantParams,
    body: z.object({ graceSeconds: z.number().int().min(0).max(MAX_GRACE_MS / 1000).default(0) }).prefault({}),
    response: z.object({ tenantId: z.string(), rotatedAt: z.number(), previousValidUntil: z.number(), enrollmentToken: z.string().describe('shown once; "" on a repeated Idempotency-Key') }),
    handler: (ctx) => deps.admin.rotateToken({ ...jobInput(ctx), tenantId: ctx.params.tenantId, graceSeconds: ctx.body.graceSeconds }),
  }),
  route({
    method: 'GET',
    path: '/tenants/{tenantId}/policy',
    operationId: 'getPolicy',
    summary: "A tenant's licensing policy (C11 reclaim, C12 non-persistent Clients)",
    tag: TAG,
    auth: 'account',
    params: tenantParams,
    response: policySchema,
    handler: async (ctx) => {
      authorizeTenant(principalOf(ctx).actor, ctx.params.tenantId, 'reading the licensing policy');
      return readTenantPolicy(deps.ctx, ctx.params.tenantId);
    },
  }),
  route({
    method: 'PUT',
    path: '/tenants/{tenantId}/policy',
    operationId: 'setPolicy',
    summary: "Set a tenant's licensing policy; fields left out keep their value",
    tag: TAG,
    auth: 'account',
    idempotent: true,
    params: tenantParams,
    body: z.object({ reclaimAfterDays: z.number().int().min(0).max(3650).optional(), freeNonPersistentOnDisconnect: z.boolean().optional() }),
    response: policySchema,
    handler: (ctx) => deps.admin.setPolicy({ ...jobInput(ctx), tenantId: ctx.params.tenantId, policy: defined(ctx.body) }),
  }),
  route({
    method: 'PUT',
    path: '/tenants/{tenantId}/limits',
    operationId: 'setLimits',
    summary: "Set a tenant's enrollment limits and identity policy (Z3); null returns a limit to the gateway's default",
    tag: TAG,
    auth: 'account',
    idempotent: true,
    params: tenantParams,
    body: z.object({ enrollRate: limit(1), enrollBurst: limit(1), maxClients: limit(0), requireProof: z.boolean().optional() }),
    response: z.object({
      tenantId: z.string(),
      enrollRate: z.number().nullable(),
      enrollBurst: z.number().nullable(),
      maxClients: z.number().nullable(),
      requireProof: z.boolean(),
      clients: z.number(),
    }),
    handler: (ctx) => deps.admin.setLimits({ ...jobInput(ctx), tenantId: ctx.params.tenantId, limits: defined(ctx.body) }),
  }),
];

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
