/**
 * `GET /tenants/{tenantId}/overview` (SPEC H5; docs/console.md): what the console's Overview page
 * shows that no other route gives in one bounded read — online now, enrollments over the last
 * hour, the nearest key expiry, overload events — next to the pools. Tenant scope only (T6):
 * reading needs no permission. Bounded work: src/licensing/tenant-overview.ts.
 */
import { authorizeTenant } from '../../licensing/permissions.ts';
import { readTenantOverview } from '../../licensing/tenant-overview.ts';
import type { RouteModule } from '../api-deps.ts';
import { route } from '../route.ts';
import { principalOf } from './job-call.ts';
import { overviewSchema } from './overview-schema.ts';
import { tenantParams } from './schemas.ts';

export const overviewRoutes: RouteModule = (deps) => [
  route({
    method: 'GET',
    path: '/tenants/{tenantId}/overview',
    operationId: 'getTenantOverview',
    summary: 'The tenant at a glance: online now, licensed vs waiting per type, enrollments in the last hour, nearest key expiry, overload events of the last day',
    tag: 'Tenants',
    auth: 'account',
    params: tenantParams,
    response: overviewSchema,
    handler: async (ctx) => {
      authorizeTenant(principalOf(ctx).actor, ctx.params.tenantId, 'reading a tenant overview');
      return readTenantOverview(deps.ctx, ctx.params.tenantId);
    },
  }),
];
