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
import { clientPageSchema } from './client-schemas.ts';
import { principalOf } from './job-call.ts';
import { licenseTypeSchema, tenantParams } from './schemas.ts';

// The answer's schemas live with the console-shared ones (./client-schemas.ts).
export { clientPageSchema, clientRowSchema } from './client-schemas.ts';

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
