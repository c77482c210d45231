/**
 * The admin job contract (SPEC A1): queue name, job names and payload schemas. Public: admin
 * services enqueue these with plain BullMQ (see the README) or with AdminClient. Every payload
 * names its actor (A2); the BullMQ job id is the caller's idempotency key (A3).
 */
import { z } from 'zod';
import { ALL_LICENSE_TYPES, ENDPOINT_LICENSE_TYPES } from '../licensing/license-types.ts';
import { actorSchema } from '../licensing/permissions.ts';
import { SECRET_HASH } from '../auth/secrets.ts';
import { MAX_GRACE_MS } from '../licensing/enrollment-tokens.ts';

export const ADMIN_QUEUE = 'licensegate-admin';

const tenantId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'tenantId must be 1-64 characters of [A-Za-z0-9._-]');
const clientId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'clientId must be 1-128 characters of [A-Za-z0-9._:-]');
const userId = z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, 'userId must be 1-128 characters of [A-Za-z0-9._@-]');
const name = z.string().trim().min(1).max(128);
const count = z.number().int().positive().max(1_000_000);
const base = { actor: actorSchema };
const secretHash = z.string().regex(SECRET_HASH, 'must be a SHA-256 hash in lower-case hex');

export const jobSchemas = {
  'serial.activate': z.strictObject({ ...base, key: z.string().min(8).max(16_384) }),
  'serial.remove': z.strictObject({ ...base, keyId: z.string().min(1).max(64) }),
  // enrollTokenHash: SHA-256 (hex) of a token the caller made and shows once (SPEC Z2). Results
  // never carry a token (BullMQ keeps them in Redis): without a hash the tenant's token is one
  // nobody is shown, and tenant.rotateToken gives it one.
  'tenant.create': z.strictObject({ ...base, name, tenantId: tenantId.optional(), enrollTokenHash: secretHash.optional() }),
  // issue 12: rename keeps the id; delete is refused (TENANT_NOT_EMPTY) while the tenant holds
  // granted licenses, Client ids or PAM users, and never applies to the default tenant.
  'tenant.rename': z.strictObject({ ...base, tenantId, name }),
  'tenant.delete': z.strictObject({ ...base, tenantId }),
  'tenant.rotateToken': z.strictObject({ ...base, tenantId, enrollTokenHash: secretHash, graceSeconds: z.number().int().min(0).max(MAX_GRACE_MS / 1000).default(0) }),
  'tenant.grant': z.strictObject({ ...base, tenantId, type: z.enum(ALL_LICENSE_TYPES as [string, ...string[]]), count }),
  'tenant.takeBack': z.strictObject({ ...base, tenantId, type: z.enum(ALL_LICENSE_TYPES as [string, ...string[]]), count, force: z.boolean().default(false) }),
  'client.assign': z.strictObject({ ...base, tenantId, clientId, type: z.enum(ENDPOINT_LICENSE_TYPES).optional(), force: z.boolean().default(false) }),
  'client.unassign': z.strictObject({ ...base, tenantId, clientId }),
  'client.uninstall': z.strictObject({ ...base, tenantId, clientId }),
  'user.create': z.strictObject({ ...base, tenantId, name, userId: userId.optional() }),
  'pam.assign': z.strictObject({ ...base, tenantId, userId }),
  'pam.unassign': z.strictObject({ ...base, tenantId, userId }),
  'policy.set': z.strictObject({
    ...base,
    tenantId,
    policy: z.strictObject({
      reclaimAfterDays: z.number().int().min(0).max(3650).optional(),
      freeNonPersistentOnDisconnect: z.boolean().optional(),
    }),
  }),
  // SPEC Z3 (docs/identity.md): null returns a limit to the gateway's default (maxClients: no cap).
  'tenant.limits': z.strictObject({
    ...base,
    tenantId,
    limits: z.strictObject({
      enrollRate: z.number().int().min(1).max(10_000_000).nullable().optional(),
      enrollBurst: z.number().int().min(1).max(10_000_000).nullable().optional(),
      maxClients: z.number().int().min(0).max(10_000_000).nullable().optional(),
      requireProof: z.boolean().optional(),
    }),
  }),
} as const;

export type JobName = keyof typeof jobSchemas;
export const JOB_NAMES = Object.keys(jobSchemas) as JobName[];
/** What a caller sends (defaults not yet applied). */
export type JobPayload<N extends JobName> = z.input<(typeof jobSchemas)[N]>;
/** What the worker runs with (validated, defaults applied). */
export type ParsedJob<N extends JobName> = z.output<(typeof jobSchemas)[N]>;

/** Idempotency keys become BullMQ job ids. */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._-]{1,128}$/;

/** Failed jobs carry `CODE: message` as their failedReason; this splits it. */
export function parseFailedReason(reason: string | undefined): { code: string; message: string } {
  const m = /^([A-Z][A-Z0-9_]+): ([\s\S]*)$/.exec(reason ?? '');
  return m ? { code: m[1]!, message: m[2]! } : { code: 'INTERNAL_ERROR', message: reason ?? 'job failed' };
}
