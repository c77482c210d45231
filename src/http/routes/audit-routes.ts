/**
 * A tenant's audit trail (SPEC A5) over the admin API: one page of JSON, newest first, with
 * filters and a `next` cursor; or a CSV export streamed page by page (bounded work per page,
 * Z5; the socket's back-pressure paces the reads). Tenant scope only (T6): reading needs no
 * permission. A tenant that does not exist is UNKNOWN_TENANT (404), checked after the scope.
 */
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import { z } from 'zod';
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, readAuditPage, type AuditQuery } from '../../licensing/audit.ts';
import { authorizeTenant } from '../../licensing/permissions.ts';
import { requireKnownTenant } from '../../licensing/tenant-detail.ts';
import type { RouteModule } from '../api-deps.ts';
import { route } from '../route.ts';
import { auditPageSchema } from './audit-schema.ts';
import { csvRow } from './csv.ts';
import { principalOf } from './job-call.ts';
import { clientIdSchema, tenantParams } from './schemas.ts';

const TAG = 'Audit';
/** Rows one CSV export holds at most; continue with `before` = the last row's id. */
export const AUDIT_CSV_MAX = 100_000;
const CSV_PAGE = 1000;
const CSV_COLUMNS = ['id', 'ts', 'tenant', 'holder', 'holderKind', 'type', 'action', 'before', 'after', 'reason', 'actor', 'cause'] as const;

const filters = {
  before: z.string().regex(/^\d{1,20}-\d{1,20}$/).optional().describe('an entry id: only older entries (the `next` of the previous page)'),
  since: z.coerce.number().int().min(0).optional().describe('only entries at or after this time (ms since the epoch)'),
  until: z.coerce.number().int().min(0).optional().describe('only entries at or before this time (ms since the epoch)'),
  clientId: clientIdSchema.optional().describe('only entries of this Client (or PAM user id)'),
  action: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/).optional().describe('only entries with this action (assign, unassign, …)'),
  actor: z.string().min(1).max(128).optional().describe('only entries made by this actor (account id, or `system`)'),
};

function auditQuery(q: { [K in keyof typeof filters]?: unknown } & { limit?: number }): AuditQuery {
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as AuditQuery;
}

async function write(res: ServerResponse, chunk: string): Promise<void> {
  if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
}

export const auditRoutes: RouteModule = (deps) => [
  route({
    method: 'GET',
    path: '/tenants/{tenantId}/audit',
    operationId: 'readAudit',
    summary: 'One page of the audit trail, newest first; pass `next` as `before` for the following page (null: no more)',
    tag: TAG,
    auth: 'account',
    params: tenantParams,
    query: z.object({ limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(AUDIT_PAGE_DEFAULT), ...filters }),
    response: auditPageSchema,
    handler: async (ctx) => {
      authorizeTenant(principalOf(ctx).actor, ctx.params.tenantId, 'reading the audit trail');
      await requireKnownTenant(deps.ctx, ctx.params.tenantId); // UNKNOWN_TENANT rather than an empty page
      return readAuditPage(deps.ctx, ctx.params.tenantId, auditQuery(ctx.query));
    },
  }),
  route({
    method: 'GET',
    path: '/tenants/{tenantId}/audit.csv',
    operationId: 'exportAuditCsv',
    summary: `The audit trail as CSV (RFC 4180), newest first, at most \`limit\` rows (≤ ${AUDIT_CSV_MAX}); formula-like cells are prefixed with '`,
    tag: TAG,
    auth: 'account',
    raw: { contentType: 'text/csv' },
    params: tenantParams,
    query: z.object({ limit: z.coerce.number().int().min(1).max(AUDIT_CSV_MAX).default(10_000), ...filters }),
    response: z.string(),
    handler: async (ctx) => {
      const { tenantId } = ctx.params;
      authorizeTenant(principalOf(ctx).actor, tenantId, 'reading the audit trail');
      await requireKnownTenant(deps.ctx, tenantId); // a problem answer, not an empty CSV
      const { limit, ...rest } = ctx.query;
      const q = auditQuery(rest);
      // The first page before the headers: a bad query still gets a problem answer.
      let page = await readAuditPage(deps.ctx, tenantId, { ...q, limit: Math.min(CSV_PAGE, limit) });
      const res = ctx.res;
      res.writeHead(200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="audit-${tenantId}.csv"`,
        'cache-control': 'no-store',
      });
      if (ctx.req.method === 'HEAD') return void res.end();
      await write(res, csvRow(CSV_COLUMNS));
      let rows = 0;
      // A sparse filter can return short pages: the page count is bounded too (each page ≤ AUDIT_SCAN_MAX entries read).
      for (let pages = 1; ; pages++) {
        for (const e of page.entries) await write(res, csvRow(CSV_COLUMNS.map((c) => e[c])));
        rows += page.entries.length;
        if (page.next === null || rows >= limit || res.destroyed || pages >= AUDIT_CSV_MAX / 10) break;
        page = await readAuditPage(deps.ctx, tenantId, { ...q, before: page.next, limit: Math.min(CSV_PAGE, limit - rows) });
      }
      res.end();
      return '';
    },
  }),
];
