/**
 * The answer of `GET /tenants/{t}/audit` (SPEC A5): the zod schema the router validates every
 * page against and the OpenAPI document is made from — and, through `z.infer`, the type the web
 * console's Audit page reads it with (type-only import). Dependency-free apart from zod, so the
 * console's tsc can check it without Node's types.
 */
import { z } from 'zod';

export const auditEntrySchema = z.object({
  id: z.string(),
  ts: z.number(),
  tenant: z.string(),
  holder: z.string(),
  holderKind: z.enum(['client', 'user', '']),
  type: z.string(),
  action: z.string(),
  before: z.string(),
  after: z.string(),
  reason: z.string(),
  actor: z.string(),
  cause: z.string(),
});
export type AuditEntryAnswer = z.infer<typeof auditEntrySchema>;

export const auditPageSchema = z.object({ entries: z.array(auditEntrySchema), next: z.string().nullable() });
export type AuditPageAnswer = z.infer<typeof auditPageSchema>;
