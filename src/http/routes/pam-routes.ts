/**
 * PAM users and their seats (SPEC P1) over the admin API: list (tenant scope), create, and the
 * seat as a sub-resource (PUT gives one, DELETE takes it), each change an admin job.
 */
import { z } from 'zod';
import { authorizeTenant } from '../../licensing/permissions.ts';
import { listPamUsers } from '../../licensing/pam-seats.ts';
import { readTenantPolicy } from '../../licensing/tenant-detail.ts';
import type { RouteModule } from '../api-deps.ts';
import { route } from '../route.ts';
import { jobInput, principalOf } from './job-call.ts';
import { pamUserSchema, seatChangeSchema, tenantParams, userIdSchema, userParams } from './schemas.ts';

const TAG = 'PAM users';

export const pamRoutes: RouteModule = (deps) => [
  route({
    method: 'GET',
    path: '/tenants/{tenantId}/users',
    operationId: 'listPamUsers',
    summary: "A tenant's PAM users with their ids and seats",
    tag: TAG,
    auth: 'account',
    params: tenantParams,
    response: z.array(pamUserSchema),
    handler: async (ctx) => {
      authorizeTenant(principalOf(ctx).actor, ctx.params.tenantId, 'listing PAM users');
      await readTenantPolicy(deps.ctx, ctx.params.tenantId); // UNKNOWN_TENANT rather than an empty list
      return listPamUsers(deps.ctx, ctx.params.tenantId);
    },
  }),
  route({
    method: 'POST',
    path: '/tenants/{tenantId}/users',
    operationId: 'createPamUser',
    summary: 'Create a PAM user (userId: your own id; else one is made from the name)',
    tag: TAG,
    auth: 'account',
    idempotent: true,
    status: 201,
    params: tenantParams,
    body: z.object({ name: z.string().trim().min(1).max(128), userId: userIdSchema.optional() }),
    response: pamUserSchema,
    handler: (ctx) => deps.admin.createUser({ ...jobInput(ctx), tenantId: ctx.params.tenantId, name: ctx.body.name, ...(ctx.body.userId ? { userId: ctx.body.userId } : {}) }),
  }),
  route({
    method: 'PUT',
    path: '/tenants/{tenantId}/users/{userId}/pam-seat',
    operationId: 'assignPamSeat',
    summary: 'Give a PAM user a seat (changed: false when it had one)',
    tag: TAG,
    auth: 'account',
    idempotent: true,
    params: userParams,
    response: seatChangeSchema,
    handler: (ctx) => deps.admin.pamAssign({ ...jobInput(ctx), ...ctx.params }),
  }),
  route({
    method: 'DELETE',
    path: '/tenants/{tenantId}/users/{userId}/pam-seat',
    operationId: 'unassignPamSeat',
    summary: "Take a PAM user's seat back",
    tag: TAG,
    auth: 'account',
    idempotent: true,
    params: userParams,
    response: seatChangeSchema,
    handler: (ctx) => deps.admin.pamUnassign({ ...jobInput(ctx), ...ctx.params }),
  }),
];
