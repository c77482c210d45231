/**
 * The answers of `GET /serial-keys` and `GET /licenses` (SPEC S1–S3): the zod schemas the router
 * validates them against and the OpenAPI document is made from — and, through `z.infer`, the
 * types the web console's Serial Key Management page reads them with (type-only imports).
 * Dependency-free apart from zod and ./schemas.ts, so the console's tsc can check it without
 * Node's types.
 */
import { z } from 'zod';
import { licenseTypeSchema } from './schemas.ts';

export const serialKeySchema = z.object({
  payload: z.object({
    v: z.number(),
    keyId: z.string(),
    edition: z.string(),
    kind: z.string(),
    licenses: z.record(z.string(), z.number()),
    issuedAt: z.string(),
    expiresAt: z.string().optional(),
    supportUntil: z.string().optional(),
    multiTenant: z.boolean(),
  }),
  status: z.enum(['active', 'expiring', 'removing', 'expired', 'removed']),
  activatedAt: z.number(),
  endedAt: z.number().optional(),
});

export const availabilityRow = z
  .object({
    type: licenseTypeSchema,
    total: z.number().describe('from active serial keys'),
    granted: z.number().describe('given to tenants other than the default one'),
    assigned: z.number().describe("held by the DEFAULT tenant's Clients and PAM users only (other tenants' use is inside `granted`)"),
    available: z.number().describe('total − granted − assigned'),
  })
  .describe('S3 availability of one license type');
export type SerialKeyAnswer = z.infer<typeof serialKeySchema>;
export type AvailabilityAnswer = z.infer<typeof availabilityRow>;
