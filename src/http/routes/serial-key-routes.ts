/**
 * Serial keys and availability (SPEC S1–S4) over the admin API. Reads span every tenant, so only
 * the default tenant's accounts may make them (T6); activation and removal run as admin jobs.
 * A serial key's own text is not returned by the list: it licenses a deployment, and an API
 * reader has no need to copy it elsewhere (`keyId` names it).
 */
import { z } from 'zod';
import { authorizeTenant } from '../../licensing/permissions.ts';
import { listSerialKeys } from '../../licensing/serial-key-ledger.ts';
import { availability } from '../../licensing/views.ts';
import { DEFAULT_TENANT } from '../../store/keys.ts';
import type { RouteModule } from '../api-deps.ts';
import { route } from '../route.ts';
import { jobInput, principalOf } from './job-call.ts';
import { availabilityRow, serialKeySchema } from './serial-key-schemas.ts';

const TAG = 'Serial keys';

export const serialKeyRoutes: RouteModule = (deps) => [
  route({
    method: 'GET',
    path: '/serial-keys',
    operationId: 'listSerialKeys',
    summary: 'Serial keys: id, kind, status, expiry, licenses, multi-tenant (default tenant accounts)',
    tag: TAG,
    auth: 'account',
    response: z.array(serialKeySchema),
    handler: async (ctx) => {
      authorizeTenant(principalOf(ctx).actor, DEFAULT_TENANT, 'listing serial keys');
      return (await listSerialKeys(deps.ctx)).map(({ key: _key, ...rest }) => rest);
    },
  }),
  route({
    method: 'POST',
    path: '/serial-keys',
    operationId: 'activateSerialKey',
    summary: 'Verify and activate a serial key (S1, S2)',
    tag: TAG,
    auth: 'account',
    idempotent: true,
    body: z.object({ key: z.string().min(8).max(16_384) }),
    response: z.object({ keyId: z.string(), status: z.enum(['ACTIVATED', 'ALREADY_ACTIVE']), expiredTrials: z.array(z.string()) }),
    handler: (ctx) => deps.admin.activateSerial({ ...jobInput(ctx), key: ctx.body.key }),
  }),
  route({
    method: 'DELETE',
    path: '/serial-keys/{keyId}',
    operationId: 'removeSerialKey',
    summary: 'Remove a serial key; its licenses are unassigned as on expiry (S4)',
    tag: TAG,
    auth: 'account',
    idempotent: true,
    params: z.object({ keyId: z.string().min(1).max(64) }),
    response: z.object({ keyId: z.string(), lost: z.number() }),
    handler: (ctx) => deps.admin.removeSerial({ ...jobInput(ctx), keyId: ctx.params.keyId }),
  }),
  route({
    method: 'GET',
    path: '/licenses',
    operationId: 'getAvailability',
    summary: "License availability per type (S3). `assigned` counts the default tenant's Clients only; `granted` is what other tenants were given",
    tag: 'Licenses',
    auth: 'account',
    response: z.array(availabilityRow),
    handler: async (ctx) => {
      authorizeTenant(principalOf(ctx).actor, DEFAULT_TENANT, 'reading availability');
      return availability(deps.ctx);
    },
  }),
];
