/**
 * `GET /tenants/{tenantId}/overview` (SPEC H5; docs/console.md): what the console's Overview page
 * shows that no other route gives in one bounded read — online now, enrollments over the last
 * hour, the nearest key expiry, overload events — next to the pools. Tenant scope only (T6):
 * reading needs no permission. Bounded work: src/licensing/tenant-overview.ts.
 */
import { z } from 'zod';
import { authorizeTenant } from '../../licensing/permissions.ts';
import { readTenantOverview } from '../../licensing/tenant-overview.ts';
import type { RouteModule } from '../api-deps.ts';
import { route } from '../route.ts';
import { principalOf } from './job-call.ts';
import { tenantParams } from './schemas.ts';

const overviewSchema = z.object({
  tenantId: z.string(),
  at: z.number().int().describe('when it was read (ms)'),
  clients: z.object({ total: z.number().int(), online: z.number().int() }),
  types: z.array(
    z.object({
      type: z.string(),
      granted: z.number().int(),
      assigned: z.number().int(),
      available: z.number().int(),
      waiting: z.number().int(),
      waitingLastHour: z.number().int().describe('Clients that began to wait for this type in the last hour'),
    }),
  ),
  enrollments: z.object({
    windowMs: z.number().int(),
    licensedAtFirstConnect: z.number().int().describe('Clients licensed on their first connect in the window'),
    startedWaiting: z.number().int().describe('Clients that began to wait for a license in the window'),
    buckets: z.array(z.number().int()).describe('first-connect licenses per 5 minutes, oldest first'),
    capped: z.boolean().describe('the audit read stopped at its bound: the counts are lower bounds'),
  }),
  keys: z.object({
    count: z.number().int(),
    nearest: z
      .object({ keyId: z.string(), expiresAt: z.number().int(), daysLeft: z.number().int(), level: z.enum(['ok', 'warn15', 'warn1', 'expired']) })
      .nullable()
      .describe('the key with licenses or holders here that expires first (null: none expires)'),
    within15Days: z.number().int(),
    within1Day: z.number().int(),
  }),
  overload: z.object({
    windowMs: z.number().int(),
    poolExhausted: z.number().int().describe('pool.exhausted events in the window'),
    usageWarnings: z.number().int().describe('pool.usage events (85/90/99 % crossed) in the window'),
    last: z.object({ type: z.string(), ts: z.number().int(), licenseType: z.string(), percent: z.number().nullable() }).nullable(),
    capped: z.boolean(),
  }),
});

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
