/**
 * Reading the audit trail (SPEC A5): one stream per tenant, appended by the same Lua step that
 * changes a license, so nothing changes a license without a line here.
 */
import type { LedgerContext } from './ledger-context.ts';

export interface AuditEntry {
  id: string;
  ts: number;
  tenant: string;
  holder: string;
  holderKind: 'client' | 'user' | '';
  type: string;
  action: string;
  before: string;
  after: string;
  reason: string;
  /** User id of the admin, or `system`. */
  actor: string;
  /** Why: `job:<id>`, `hello`, `expiry:<key>`, `disconnect`, … */
  cause: string;
}

export interface AuditQuery {
  clientId?: string | undefined;
  /** Only entries at or after this time (ms). */
  since?: number | undefined;
  /** Only entries older than this entry id: the cursor of the previous page (its `next`). */
  before?: string | undefined;
  /** At most this many entries, newest first. Default AUDIT_PAGE_DEFAULT, at most AUDIT_PAGE_MAX. */
  limit?: number | undefined;
  /** Only entries at or before this time (ms). */
  until?: number | undefined;
  /** Only entries with this action (`assign`, `unassign`, …). */
  action?: string | undefined;
  /** Only entries of this actor (an account's user id, or `system`). */
  actor?: string | undefined;
}

/** One page of the audit trail, newest first. */
export interface AuditPage {
  entries: AuditEntry[];
  /** Pass as `before` to read the page after this one (older entries); null at the stream's start. */
  next: string | null;
}

export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 10_000;
/**
 * Entries one call examines at most when a client filter skips most of them: a page costs a
 * bounded amount of work however long the trail (SPEC Z5); `next` says where it stopped.
 */
export const AUDIT_SCAN_MAX = 100_000;
const CHUNK = 1000;

/** A stream entry id (`<ms>-<seq>`), as XREVRANGE accepts it. */
export function isStreamId(text: string): boolean {
  return /^\d{1,20}-\d{1,20}$/.test(text);
}

function entryOf(tenantId: string, id: string, f: string[]): AuditEntry {
  const m: Record<string, string> = {};
  for (let i = 0; i + 1 < f.length; i += 2) m[f[i]!] = f[i + 1]!;
  return {
    id,
    ts: Number(m.ts ?? id.split('-')[0]),
    tenant: tenantId,
    holder: m.holder ?? '',
    holderKind: (m.holderKind ?? '') as AuditEntry['holderKind'],
    type: m.type ?? '',
    action: m.action ?? '',
    before: m.before ?? '',
    after: m.after ?? '',
    reason: m.reason ?? '',
    actor: m.actor ?? '',
    cause: m.cause ?? '',
  };
}

/**
 * Reads one page from the end of the trail (XREVRANGE … COUNT), never the whole stream: newest
 * first, starting below `before`, down to `since`. Cost is bounded by the page (and by
 * AUDIT_SCAN_MAX entries when a client filter skips entries), whatever the trail's length.
 */
export async function readAuditPage(ctx: LedgerContext, tenantId: string, q: AuditQuery = {}): Promise<AuditPage> {
  const limit = Math.min(Math.max(1, q.limit ?? AUDIT_PAGE_DEFAULT), AUDIT_PAGE_MAX);
  if (q.before !== undefined && !isStreamId(q.before)) throw new Error(`not an audit entry id: ${JSON.stringify(q.before)}`);
  const low = q.since !== undefined ? `${Math.max(0, Math.floor(q.since))}-0` : '-';
  const key = ctx.keys.audit(tenantId);
  const entries: AuditEntry[] = [];
  let high = q.before !== undefined ? `(${q.before}` : '+';
  // `until` is one more upper bound: the lower of it and `before` (stream ids start with their ms).
  if (q.until !== undefined) {
    const untilId = `${Math.max(0, Math.floor(q.until))}-18446744073709551615`;
    if (q.before === undefined || compareIds(untilId, q.before) < 0) high = untilId;
  }
  const filtered = Boolean(q.clientId || q.action || q.actor);
  let examined = 0;
  for (;;) {
    // Without a filter every entry counts, so ask for exactly what is missing.
    const want = filtered ? CHUNK : Math.min(CHUNK, limit - entries.length);
    const page = (await ctx.redis.xrevrange(key, high, low, 'COUNT', want)) as [string, string[]][];
    for (const [id, f] of page) {
      examined++;
      const e = entryOf(tenantId, id, f);
      if (q.clientId && e.holder !== q.clientId) continue;
      if (q.action && e.action !== q.action) continue;
      if (q.actor && e.actor !== q.actor) continue;
      entries.push(e);
      if (entries.length === limit) return { entries, next: id };
    }
    if (page.length < want) return { entries, next: null };
    const last = page[page.length - 1]![0];
    if (examined >= AUDIT_SCAN_MAX) return { entries, next: last };
    high = `(${last}`;
  }
}

/** Orders two stream ids (`<ms>-<seq>`) numerically. */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? (as === bs ? 0 : as < bs ? -1 : 1) : am < bm ? -1 : 1;
}

/** The newest `limit` entries (newest first) matching the query: readAuditPage's entries. */
export async function readAudit(ctx: LedgerContext, tenantId: string, q: AuditQuery = {}): Promise<AuditEntry[]> {
  return (await readAuditPage(ctx, tenantId, q)).entries;
}
