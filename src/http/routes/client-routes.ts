/**
 * One Client over the admin API: its detail (read: tenant scope only, T6) and the licensing
 * changes assign, unassign, uninstall (admin jobs, C-rules). The list of a tenant's Clients with
 * filters and cursor pagination is its own module (branch live).
 */
import { z } from 'zod';
import { LicensegateError } from '../../errors.ts';
import { osTypeOf } from '../../licensing/views.ts';
import type { EndpointLicenseType } from '../../licensing/license-types.ts';
import { authorizeTenant } from '../../licensing/permissions.ts';
import { requireKnownTenant } from '../../licensing/tenant-detail.ts';
import type { RouteModule } from '../api-deps.ts';
import { route } from '../route.ts';
import { jobInput, principalOf } from './job-call.ts';
import { assignAnswerSchema, clientDetailSchema, releaseAnswerSchema } from './client-schemas.ts';
import { clientParams, endpointTypeSchema } from './schemas.ts';

const TAG = 'Clients';

export const clientRoutes: RouteModule = (deps) => [
  route({
    method: 'GET',
    path: '/tenants/{tenantId}/clients/{clientId}',
    operationId: 'getClient',
    summary: 'A Client: license, reason, online, lastSeen, OS',
    tag: TAG,
    auth: 'account',
    params: clientParams,
    response: clientDetailSchema,
    handler: async (ctx) => {
      const { tenantId, clientId } = ctx.params;
      authorizeTenant(principalOf(ctx).actor, tenantId, 'reading a Client');
      const { redis, keys } = deps.ctx;
      const [[, rec], [, conn]] = (await redis
        .multi()
        .hmget(keys.client(tenantId, clientId), 'status', 'type', 'reason', 'lastSeen', 'hostname', 'osFamily', 'osProduct', 'wantType')
        .hget(keys.online(tenantId), clientId)
        .exec())! as [[unknown, (string | null)[]], [unknown, string | null]];
      const [status, type, reason, lastSeen, hostname, family, product, wantType] = rec;
      if (!status) {
        // No record: say which is missing, the tenant or the Client (checked only on a miss).
        await requireKnownTenant(deps.ctx, tenantId);
        throw new LicensegateError('CLIENT_NOT_FOUND', `${clientId} in tenant ${tenantId}`);
      }
      return {
        tenantId,
        clientId,
        status: status === 'uninstalled' ? ('uninstalled' as const) : ('active' as const),
        online: conn !== null,
        license: type || null,
        reason: reason ?? '',
        lastSeen: Number(lastSeen ?? 0),
        hostname: hostname ?? '',
        os: [family, product].filter((x) => x && x !== 'unspecified').join('/'),
        osType: osTypeOf(wantType),
      };
    },
  }),
  route({
    method: 'POST',
    path: '/tenants/{tenantId}/clients/{clientId}/assign',
    operationId: 'assignClient',
    summary: "Assign a license to a Client (default: the type its OS maps to; force overrides a mismatch)",
    tag: TAG,
    auth: 'account',
    idempotent: true,
    params: clientParams,
    // prefault: no body at all means `{}` (curl -X POST …/assign).
    body: z.object({ type: endpointTypeSchema.optional(), force: z.boolean().default(false) }).prefault({}),
    response: assignAnswerSchema,
    handler: (ctx) =>
      deps.admin.assign({ ...jobInput(ctx), ...ctx.params, ...(ctx.body.type ? { type: ctx.body.type as EndpointLicenseType } : {}), force: ctx.body.force }),
  }),
  route({
    method: 'POST',
    path: '/tenants/{tenantId}/clients/{clientId}/unassign',
    operationId: 'unassignClient',
    summary: 'Take a Client\'s license away (it stays unlicensed until assigned again)',
    tag: TAG,
    auth: 'account',
    idempotent: true,
    params: clientParams,
    response: releaseAnswerSchema,
    handler: (ctx) => deps.admin.unassign({ ...jobInput(ctx), ...ctx.params }),
  }),
  route({
    method: 'POST',
    path: '/tenants/{tenantId}/clients/{clientId}/uninstall',
    operationId: 'uninstallClient',
    summary: 'Uninstall a Client: its license is freed and its agent is told to uninstall',
    tag: TAG,
    auth: 'account',
    idempotent: true,
    params: clientParams,
    response: releaseAnswerSchema,
    handler: (ctx) => deps.admin.uninstall({ ...jobInput(ctx), ...ctx.params }),
  }),
];
