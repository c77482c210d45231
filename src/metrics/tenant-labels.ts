/**
 * Bounds the `tenant` label of the license gauges (SPEC H4): a deployment may hold thousands of
 * tenants, and a label value per tenant would make as many series per gauge. The N tenants
 * holding the most licenses (granted, summed over types; ties by id) keep their own label; every
 * other tenant is summed into `tenant="other"`. So a gauge has at most (N + 1) × types series.
 */
export const OTHER_TENANT_LABEL = 'other';

export interface TenantPoolRow {
  tenant: string;
  type: string;
  granted: number;
  assigned: number;
  available: number;
  waiting: number;
}

export function boundTenantLabels(rows: readonly TenantPoolRow[], topN: number): TenantPoolRow[] {
  const held = new Map<string, number>();
  for (const r of rows) held.set(r.tenant, (held.get(r.tenant) ?? 0) + r.granted);
  const ranked = [...held.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const named = new Set(ranked.slice(0, Math.max(0, topN)).map(([t]) => t));
  const out: TenantPoolRow[] = [];
  const other = new Map<string, TenantPoolRow>();
  for (const r of rows) {
    if (named.has(r.tenant)) {
      out.push({ ...r });
      continue;
    }
    const sum = other.get(r.type);
    if (!sum) other.set(r.type, { ...r, tenant: OTHER_TENANT_LABEL });
    else {
      sum.granted += r.granted;
      sum.assigned += r.assigned;
      sum.available += r.available;
      sum.waiting += r.waiting;
    }
  }
  return [...out, ...other.values()];
}
