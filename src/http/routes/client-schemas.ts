/**
 * The answers of the Client reads (`GET /tenants/{t}/clients`, `GET /tenants/{t}/clients/{c}`;
 * docs/client-pages.md): the zod schemas the router validates every answer against and the
 * OpenAPI document is made from — and, through `z.infer`, the types the web console reads them
 * with (console/src/pages/clients-page.tsx imports them type-only). One source: renaming a field
 * here fails the console's typecheck. Dependency-free apart from zod and ./schemas.ts (the
 * console's tsc checks this file without Node's types).
 */
import { z } from 'zod';
import { clientStateSchema, endpointTypeSchema } from './schemas.ts';

const osTypeSchema = endpointTypeSchema
  .nullable()
  .describe(
    'the license type its OS maps to (SPEC L2, the OS table as it stood at its last Hello): what an assign without `type` gives it; null when no type fits its OS',
  );

export const clientRowSchema = z.object({
  tenant: z.string(),
  clientId: z.string(),
  hostname: z.string(),
  status: z.enum(['active', 'uninstalled']),
  online: z.boolean(),
  license: z.string().nullable().describe('the license type held, or null'),
  reason: z.string().describe('why it holds none (NO_LICENSE_AVAILABLE, UNASSIGNED_BY_ADMIN, …), else empty'),
  lastSeen: z.number().describe('ms since the epoch; 0: never'),
  os: z.string().describe('OS family/product as the agent reported it'),
  osType: osTypeSchema,
});
export type ClientRowAnswer = z.infer<typeof clientRowSchema>;

export const clientPageSchema = z.object({
  items: z.array(clientRowSchema),
  nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null: no more Clients'),
  total: z.number().int().describe('Clients in the tenant (whatever the filter)'),
});
export type ClientPageAnswer = z.infer<typeof clientPageSchema>;

export const clientDetailSchema = clientStateSchema.extend({
  hostname: z.string(),
  os: z.string().describe('OS family/product as the agent reported it, e.g. `windows/workstation`'),
  osType: osTypeSchema,
});
export type ClientDetailAnswer = z.infer<typeof clientDetailSchema>;

/** What assign, unassign and uninstall answer: the Client's licensing state after the change. */
export type ClientStateAnswer = z.infer<typeof clientStateSchema>;
export const assignAnswerSchema = clientStateSchema.extend({ reclaimed: z.string().nullable() });
export type AssignAnswer = z.infer<typeof assignAnswerSchema>;
/** Unassign and uninstall: the state, and the waiting Clients the freed license went to. */
export const releaseAnswerSchema = clientStateSchema.extend({ promoted: z.array(z.string()) });
export type ReleaseAnswer = z.infer<typeof releaseAnswerSchema>;
