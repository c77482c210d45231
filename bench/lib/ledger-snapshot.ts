/** Who holds which license, and how long the audit trail is: compared before and after a restart. */
import type { RedisClient as Redis } from '../../src/store/redis-connection.ts';
import { ENDPOINT_LICENSE_TYPES } from '../../src/licensing/license-types.ts';
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';

export interface LicenseSnapshot {
  auditLength: number;
  lastAuditId: string | null;
  holders: Record<string, string[]>;
}

export async function licenseSnapshot(redis: Redis, keys: Keys, tenantId = DEFAULT_TENANT): Promise<LicenseSnapshot> {
  const holders: Record<string, string[]> = {};
  for (const type of ENDPOINT_LICENSE_TYPES) holders[type] = await redis.smembers(keys.holders(tenantId, type));
  const last = (await redis.xrevrange(keys.audit(tenantId), '+', '-', 'COUNT', 1)) as [string, string[]][];
  return { auditLength: await redis.xlen(keys.audit(tenantId)), lastAuditId: last[0]?.[0] ?? null, holders };
}

export interface LicenseDiff {
  /** Audit entries written between the snapshots. */
  auditEntries: number;
  /** Holders that appeared or disappeared, per type. */
  holdersAdded: number;
  holdersRemoved: number;
  /** auditEntries + holdersAdded + holdersRemoved. */
  changes: number;
  /** Up to 5 of the new audit entries. */
  sample: unknown[];
}

export async function licenseDiff(redis: Redis, keys: Keys, before: LicenseSnapshot, after: LicenseSnapshot, tenantId = DEFAULT_TENANT): Promise<LicenseDiff> {
  let added = 0;
  let removed = 0;
  for (const type of Object.keys(after.holders)) {
    const a = new Set(before.holders[type] ?? []);
    const b = new Set(after.holders[type] ?? []);
    for (const id of b) if (!a.has(id)) added++;
    for (const id of a) if (!b.has(id)) removed++;
  }
  const auditEntries = after.auditLength - before.auditLength;
  const sample = auditEntries > 0 ? await redis.xrange(keys.audit(tenantId), before.lastAuditId ? `(${before.lastAuditId}` : '-', '+', 'COUNT', 5) : [];
  return { auditEntries, holdersAdded: added, holdersRemoved: removed, changes: auditEntries + added + removed, sample };
}
