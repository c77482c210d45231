/**
 * How a new enrollment token reads on the CLI (SPEC Z2): printed this once, with a line saying
 * so — it is stored only as a hash, so nothing can show it again; a lost token is replaced
 * with `tenants rotate-token`.
 */
import type { RotationResult } from '../licensing/enrollment-tokens.ts';
import type { CreatedTenant } from '../licensing/tenants.ts';
import { formatTable, iso } from './admin-table.ts';

const ONCE = 'This token is shown only once (licensegate keeps only its hash): store it now. A lost token is replaced with `licensegate admin tenants rotate-token TENANT`.';

export function createdTenantView(t: CreatedTenant): string {
  const table = formatTable(['ID', 'NAME', 'CREATED'], [[t.id, t.name, iso(t.createdAt)]]);
  return t.enrollmentToken ? `${table}\n\nenrollment token: ${t.enrollmentToken}\n${ONCE}` : table;
}

export function rotationView(r: RotationResult & { enrollmentToken: string }): string {
  const previous = r.previousValidUntil > r.rotatedAt ? `the previous token enrolls until ${iso(r.previousValidUntil)}` : 'the previous token no longer enrolls';
  return `new enrollment token for ${r.tenantId}: ${r.enrollmentToken}\n${previous}\n${ONCE}`;
}

/** `--grace`: 0, or a span like 90s, 30m, 24h, 7d; at most MAX_GRACE_MS. Seconds, or null when unreadable. */
export function graceSeconds(text: string, maxMs: number): number | null {
  if (text === '0') return 0;
  const m = /^(\d{1,7})(s|m|h|d)$/.exec(text);
  if (!m) return null;
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return seconds * 1000 <= maxMs ? seconds : null;
}
