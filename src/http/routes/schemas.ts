/**
 * zod schemas the route modules share: path parameters (the same patterns as the admin job
 * contract, src/jobs/contract.ts, so a request the API accepts is one the worker accepts) and
 * the answers that several routes give.
 */
import { z } from 'zod';
import { ALL_LICENSE_TYPES, ENDPOINT_LICENSE_TYPES } from '../../licensing/license-types.ts';

export const tenantIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).describe('tenant id (`default` is the technician\'s own tenant)');
export const clientIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/).describe('Client id');
export const userIdSchema = z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/).describe('PAM user id');
export const licenseTypeSchema = z.enum(ALL_LICENSE_TYPES as unknown as [string, ...string[]]);
export const endpointTypeSchema = z.enum(ENDPOINT_LICENSE_TYPES);

export const tenantParams = z.object({ tenantId: tenantIdSchema });
export const clientParams = z.object({ tenantId: tenantIdSchema, clientId: clientIdSchema });
export const userParams = z.object({ tenantId: tenantIdSchema, userId: userIdSchema });

/** A Client's licensing state, as the assign/unassign/uninstall jobs answer it. */
export const clientStateSchema = z.object({
  tenantId: z.string(),
  clientId: z.string(),
  status: z.enum(['active', 'uninstalled']),
  online: z.boolean(),
  license: z.string().nullable().describe('the license type held, or null'),
  reason: z.string().describe('why it holds none (NO_LICENSE_AVAILABLE, UNASSIGNED_BY_ADMIN, …), else empty'),
  lastSeen: z.number().describe('ms since the epoch; 0: never'),
});

export const tenantInfoSchema = z.object({ id: z.string(), name: z.string(), createdAt: z.number() });

export const pamUserSchema = z.object({ tenant: z.string(), id: z.string(), name: z.string(), seat: z.boolean() });
export const seatChangeSchema = z.object({ userId: z.string(), seat: z.boolean(), changed: z.boolean() });

export const policySchema = z.object({ tenantId: z.string(), reclaimAfterDays: z.number().int(), freeNonPersistentOnDisconnect: z.boolean() });

// The answers' types (z.infer): the web console reads these answers with them (type-only
// imports), so this file stays dependency-free apart from zod and license-types.ts.
export type TenantInfoAnswer = z.infer<typeof tenantInfoSchema>;
export type PamUserAnswer = z.infer<typeof pamUserSchema>;
export type PolicyAnswer = z.infer<typeof policySchema>;
