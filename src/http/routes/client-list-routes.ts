/**
 * `GET /tenants/{tenantId}/clients` — a tenant's Clients a page at a time, with filters and a
 * cursor (SPEC H1, T6; docs/client-pages.md). A read: the tenant scope is checked on the server
 * (own tenant, or any for default-tenant accounts); each call's work is bounded (a scan budget),
 * so a sparse filter may answer a short page with a cursor — only `nextCursor: null` ends.
 */
import { z } from 'zod';
import { listClientsPage, DEFAULT_PAGE, MAX_PAGE } from '../../licensing/client-pages.ts';
import type { LicenseTypeName } from '../../licensing/license-types.ts';
import { authorizeTenant } from '../../licensing/permissions.ts';
import type { RouteModule } from '../api-deps.ts';
import { route } from '../route.ts';
import { principalOf } from './job-call.ts';
import { licenseTypeSchema, tenantParams } from './schemas.ts';

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
});

export const clientPageSchema = z.object({
  items: z.array(clientRowSchema),
  nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null: no more Clients'),
  total: z.number().int().describe('Clients in the tenant (whatever the filter)'),
});

export const clientPageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE),
  cursor: z.string().min(1).max(400).optional().describe('`nextCursor` of the previous page'),
  filter: z.enum(['all', 'online', 'offline', 'unlicensed']).default('all'),
  type: licenseTypeSchema.optional().describe('only Clients holding this license type'),
  search: z.string().min(1).max(128).optional().describe('case-insensitive substring of the hostname or the client id'),
});

export const clientListRoutes: RouteModule = (deps) => [
  route({
    method: 'GET',
    path: '/tenants/{tenantId}/clients',
    operationId: 'listClients',
    summary: "A page of the tenant's Clients in client-id order (filters, cursor; bounded work per call)",
    tag: 'Clients',
    auth: 'account',
    params: tenantParams,
    query: clientPageQuery,
    response: clientPageSchema,
    handler: async ({ params, query, principal }) => {
      authorizeTenant(principalOf({ principal }).actor, params.tenantId, 'listing Clients');
      return listClientsPage(deps.ctx, params.tenantId, { ...query, type: query.type as LicenseTypeName | undefined });
    },
  }),
];
