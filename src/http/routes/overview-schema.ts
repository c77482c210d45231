/**
 * The answer of `GET /tenants/{t}/overview` (SPEC H5): the zod schema the router validates it
 * against and the OpenAPI document is made from — and, through `z.infer`, the type the web
 * console's Overview page reads it with (type-only import). Dependency-free apart from zod, so the
 * console's tsc can check it without Node's types.
 */
import { z } from 'zod';

export const overviewSchema = z.object({
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
export type OverviewAnswer = z.infer<typeof overviewSchema>;
export type OverviewTypeRow = OverviewAnswer['types'][number];
