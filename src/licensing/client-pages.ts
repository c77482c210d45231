/**
 * One page of a tenant's Clients (SPEC H1; docs/client-pages.md), for tenants of 100,000
 * Clients and more: the work of a call is bounded whatever the tenant's size.
 *
 * Pages walk the tenant's paging index (./client-index.ts) in client-id order with ZRANGE BYLEX
 * from the cursor, the last id examined. So each Client present for the whole walk is seen
 * exactly once, whatever enrolls or is purged between pages (a SCAN cursor can repeat ids and
 * has no order). A call examines at most SCAN_BUDGET ids: with a sparse filter (`unlicensed` in a
 * licensed fleet, a rare search) it answers a short — even empty — page with a cursor to go on
 * from; only `nextCursor: null` means the end.
 */
import { LicensegateError } from '../errors.ts';
import type { LedgerContext } from './ledger-context.ts';
import type { LicenseTypeName } from './license-types.ts';
import { requireClientIndex } from './client-index.ts';
import { osTypeOf, type ClientFilter, type ClientRow } from './views.ts';

/** Ids examined per call at most: about 5,000 HMGETs, a few ms of Redis time. */
export const SCAN_BUDGET = 5_000;
export const MAX_PAGE = 1_000;
export const DEFAULT_PAGE = 100;

export interface ClientPageQuery {
  /** 1..1000, default 100. */
  limit?: number;
  /** `nextCursor` of the previous page; absent: from the start. */
  cursor?: string | undefined;
  filter?: ClientFilter;
  /** Only Clients holding a license of this type. */
  type?: LicenseTypeName | undefined;
  /** Case-insensitive substring of the hostname or the client id. */
  search?: string | undefined;
}

export interface ClientPage {
  items: ClientRow[];
  /** Where the next page starts; null when the walk reached the last Client. */
  nextCursor: string | null;
  /** Clients in the tenant (whatever the filter: counting matches would need the whole walk). */
  total: number;
}

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Cursors are opaque to callers: the base64url of the last id examined. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(`c:${lastId}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = text.startsWith('c:') ? text.slice(2) : '';
  if (!CLIENT_ID.test(id)) throw new LicensegateError('INVALID_REQUEST', 'cursor is not one this API gave out');
  return id;
}

const FIELDS = ['hostname', 'status', 'type', 'reason', 'lastSeen', 'osFamily', 'osProduct', 'wantType'] as const;

function rowOf(tenant: string, clientId: string, f: (string | null)[], online: boolean): ClientRow | null {
  const [hostname, status, type, reason, lastSeen, family, product, wantType] = f;
  if (status === null || status === undefined) return null; // purged between the index read and this one
  return {
    tenant,
    clientId,
    hostname: hostname ?? '',
    status: status === 'uninstalled' ? 'uninstalled' : 'active',
    online,
    license: type || null,
    reason: reason ?? '',
    lastSeen: Number(lastSeen ?? 0),
    os: [family, product].filter((x) => x && x !== 'unspecified').join('/'),
    osType: osTypeOf(wantType),
  };
}

function matcher(q: ClientPageQuery): (r: ClientRow) => boolean {
  const needle = q.search?.toLowerCase();
  return (r) => {
    if (q.filter === 'online' && !r.online) return false;
    if (q.filter === 'offline' && r.online) return false;
    if (q.filter === 'unlicensed' && !(r.status === 'active' && r.license === null)) return false;
    if (q.type && r.license !== q.type) return false;
    if (needle && !r.clientId.toLowerCase().includes(needle) && !r.hostname.toLowerCase().includes(needle)) return false;
    return true;
  };
}

/** One page of Clients in id order; at most SCAN_BUDGET ids examined. */
export async function listClientsPage(ctx: LedgerContext, tenantId: string, q: ClientPageQuery = {}): Promise<ClientPage> {
  const limit = q.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new LicensegateError('INVALID_REQUEST', `limit must be 1-${MAX_PAGE}`);
  let after = q.cursor ? decodeCursor(q.cursor) : null;
  if ((await ctx.redis.exists(ctx.keys.tenant(tenantId))) === 0) throw new LicensegateError('UNKNOWN_TENANT', tenantId);
  await requireClientIndex(ctx, tenantId);
  const index = ctx.keys.clientIndex(tenantId);
  const filtered = (q.filter ?? 'all') !== 'all' || q.type !== undefined || !!q.search;
  const chunk = filtered ? MAX_PAGE : limit;
  const matches = matcher(q);
  const items: ClientRow[] = [];
  let scanned = 0;
  let end = false;
  while (items.length < limit && scanned < SCAN_BUDGET && !end) {
    const n = Math.min(chunk, SCAN_BUDGET - scanned);
    // One id more than examined: whether the walk ends here, so the last page says so itself.
    const ids = await ctx.redis.zrange(index, after === null ? '-' : `(${after}`, '+', 'BYLEX', 'LIMIT', 0, n + 1);
    if (ids.length <= n) end = true;
    else ids.pop();
    if (ids.length === 0) break;
    const p = ctx.redis.pipeline();
    p.hmget(ctx.keys.online(tenantId), ...ids);
    for (const id of ids) p.hmget(ctx.keys.client(tenantId, id), ...FIELDS);
    const res = (await p.exec()) ?? [];
    const online = (res[0]?.[1] ?? []) as (string | null)[];
    for (let i = 0; i < ids.length; i++) {
      scanned++;
      after = ids[i]!;
      const row = rowOf(tenantId, ids[i]!, (res[i + 1]?.[1] ?? []) as (string | null)[], online[i] !== null && online[i] !== undefined);
      if (row && matches(row)) items.push(row);
      if (items.length === limit) {
        if (i < ids.length - 1) end = false;
        break;
      }
    }
  }
  const total = await ctx.redis.zcard(index);
  return { items, nextCursor: end || after === null ? null : encodeCursor(after), total };
}
