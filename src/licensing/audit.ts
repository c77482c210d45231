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
  /** At most this many entries, newest last. Default 1 000. */
  limit?: number | undefined;
}

export async function readAudit(ctx: LedgerContext, tenantId: string, q: AuditQuery = {}): Promise<AuditEntry[]> {
  const limit = q.limit ?? 1000;
  const start = q.since !== undefined ? `${q.since}-0` : '-';
  const out: AuditEntry[] = [];
  let cursor = start;
  // Page through the stream so a client filter still returns up to `limit` matches.
  for (;;) {
    const page = (await ctx.redis.xrange(ctx.keys.audit(tenantId), cursor, '+', 'COUNT', 1000)) as [string, string[]][];
    for (const [id, f] of page) {
      const m: Record<string, string> = {};
      for (let i = 0; i + 1 < f.length; i += 2) m[f[i]!] = f[i + 1]!;
      if (q.clientId && m.holder !== q.clientId) continue;
      out.push({
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
      });
    }
    if (page.length < 1000) break;
    cursor = `(${page[page.length - 1]![0]}`;
  }
  return out.slice(-limit);
}
