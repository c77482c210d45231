/**
 * A tenant at a glance for the console's Overview page (SPEC H5, S5, A6; docs/console.md): online
 * now, licensed vs waiting per type, enrollments over the last hour, the nearest key expiry with
 * the 15-day/1-day warnings, and overload events (pools exhausted or crossing 85/90/99 %) over the
 * last day. Reads only, and bounded (Z5): counts are O(1) Redis calls (HLEN, SCARD, ZCOUNT), the
 * two stream reads stop at a time bound and at a fixed number of entries (then `capped` says the
 * count is a lower bound). The tenant scope is checked by the caller.
 */
import { LicensegateError } from '../errors.ts';
import { TENANT_SEGMENTS } from '../store/keys.ts';
import type { LedgerContext } from './ledger-context.ts';
import { ENDPOINT_LICENSE_TYPES, type LicenseTypeName } from './license-types.ts';
import { tenantPools } from './views.ts';

export const ENROLLMENT_WINDOW_MS = 3_600_000;
export const ENROLLMENT_BUCKETS = 12;
export const OVERLOAD_WINDOW_MS = 86_400_000;
/** Audit entries read at most for the last hour's enrollments. */
export const ENROLLMENT_SCAN_MAX = 20_000;
/** Events read at most for the last day's overload events. */
export const OVERLOAD_SCAN_MAX = 5_000;
const DAY_MS = 86_400_000;
const READ_BATCH = 1_000;

export type ExpiryLevel = 'ok' | 'warn15' | 'warn1' | 'expired';

export interface TenantOverview {
  tenantId: string;
  /** When it was read (ms). */
  at: number;
  clients: { total: number; online: number };
  types: { type: LicenseTypeName; granted: number; assigned: number; available: number; waiting: number; waitingLastHour: number }[];
  enrollments: {
    windowMs: number;
    /** Clients licensed on their first connect in the window (audit reason `first-connect`). */
    licensedAtFirstConnect: number;
    /** Clients that began to wait for a license in the window (new enrollments without one, mostly). */
    startedWaiting: number;
    /** first-connect licenses per 5 minutes, oldest first. */
    buckets: number[];
    capped: boolean;
  };
  keys: {
    /** Keys with licenses or holders in this tenant that have not ended. */
    count: number;
    nearest: { keyId: string; expiresAt: number; daysLeft: number; level: ExpiryLevel } | null;
    within15Days: number;
    within1Day: number;
  };
  overload: {
    windowMs: number;
    poolExhausted: number;
    usageWarnings: number;
    last: { type: string; ts: number; licenseType: string; percent: number | null } | null;
    capped: boolean;
  };
}

export function expiryLevel(expiresAt: number, now: number): ExpiryLevel {
  const left = expiresAt - now;
  if (left <= 0) return 'expired';
  if (left <= DAY_MS) return 'warn1';
  if (left <= 15 * DAY_MS) return 'warn15';
  return 'ok';
}

type StreamEntry = [id: string, fields: string[]];

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/**
 * Newest-first entries of a stream from now back to `since` (by entry id, which is the Redis
 * time in ms; a minute of slack is read and the `ts` field decides), at most `max` entries.
 */
async function readBack(ctx: LedgerContext, key: string, since: number, max: number, visit: (fields: string[]) => void): Promise<boolean> {
  let end = '+';
  let read = 0;
  const start = `${Math.max(0, since - 60_000)}-0`;
  while (read < max) {
    const batch = (await ctx.redis.xrevrange(key, end, start, 'COUNT', Math.min(READ_BATCH, max - read))) as StreamEntry[];
    for (const [, fields] of batch) visit(fields);
    read += batch.length;
    if (batch.length < READ_BATCH || batch.length === 0) return false;
    end = `(${batch[batch.length - 1]![0]}`;
  }
  return true;
}

export async function readTenantOverview(ctx: LedgerContext, tenantId: string): Promise<TenantOverview> {
  const now = ctx.now ? ctx.now() : Date.now();
  const hourAgo = now - ENROLLMENT_WINDOW_MS;
  const k = ctx.keys;
  if ((await ctx.redis.sismember(k.tenants(), tenantId)) === 0) throw new LicensegateError('UNKNOWN_TENANT', tenantId);
  const counts = ctx.redis.multi().scard(k.clients(tenantId)).hlen(k.online(tenantId));
  for (const t of ENDPOINT_LICENSE_TYPES) counts.zcount(k.waiting(tenantId, t), hourAgo, '+inf');
  const [pools, countReplies, keyExpiries, ended] = await Promise.all([
    tenantPools(ctx, tenantId),
    counts.exec(),
    ctx.redis.hgetall(k.tenantKeys(tenantId)),
    ctx.redis.smembers(k.tenantBase(tenantId) + TENANT_SEGMENTS.ended),
  ]);
  const n = (countReplies ?? []).map(([, v]) => Number(v ?? 0));
  const waitingLastHour = new Map(ENDPOINT_LICENSE_TYPES.map((t, i) => [t as string, n[2 + i] ?? 0]));

  // Enrollments: first-connect licenses in the last hour, in 5-minute buckets.
  const bucketMs = ENROLLMENT_WINDOW_MS / ENROLLMENT_BUCKETS;
  const buckets = new Array<number>(ENROLLMENT_BUCKETS).fill(0);
  let licensedAtFirstConnect = 0;
  const enrollCapped = await readBack(ctx, k.audit(tenantId), hourAgo, ENROLLMENT_SCAN_MAX, (f) => {
    if (field(f, 'reason') !== 'first-connect') return;
    const ts = Number(field(f, 'ts') ?? 0);
    if (ts < hourAgo || ts > now) return;
    licensedAtFirstConnect++;
    buckets[Math.min(ENROLLMENT_BUCKETS - 1, Math.floor((ts - hourAgo) / bucketMs))]!++;
  });

  // Overload: pools that ran out or crossed 85/90/99 % in the last day.
  const dayAgo = now - OVERLOAD_WINDOW_MS;
  let poolExhausted = 0;
  let usageWarnings = 0;
  let last: TenantOverview['overload']['last'] = null;
  const overloadCapped = await readBack(ctx, k.events(tenantId), dayAgo, OVERLOAD_SCAN_MAX, (f) => {
    const type = field(f, 'type');
    if (type !== 'pool.exhausted' && type !== 'pool.usage') return;
    const ts = Number(field(f, 'ts') ?? 0);
    if (ts < dayAgo) return;
    if (type === 'pool.exhausted') poolExhausted++;
    else usageWarnings++;
    if (!last) {
      let data: { type?: unknown; percent?: unknown } = {};
      try {
        data = JSON.parse(field(f, 'data') ?? '{}') as typeof data;
      } catch {
        /* an unreadable payload still counts */
      }
      last = { type, ts, licenseType: typeof data.type === 'string' ? data.type : '', percent: typeof data.percent === 'number' ? data.percent : null };
    }
  });

  // Keys: the nearest expiry among the keys this tenant has licenses or holders of.
  const endedSet = new Set(ended);
  const live = Object.entries(keyExpiries).filter(([id]) => !endedSet.has(id));
  let nearest: TenantOverview['keys']['nearest'] = null;
  let within15Days = 0;
  let within1Day = 0;
  for (const [keyId, raw] of live) {
    const expiresAt = Number(raw);
    if (!(expiresAt > 0)) continue;
    const level = expiryLevel(expiresAt, now);
    if (level === 'warn15' || level === 'warn1') within15Days++;
    if (level === 'warn1') within1Day++;
    if (!nearest || expiresAt < nearest.expiresAt) nearest = { keyId, expiresAt, daysLeft: Math.max(0, Math.floor((expiresAt - now) / DAY_MS)), level };
  }

  return {
    tenantId,
    at: now,
    clients: { total: n[0] ?? 0, online: n[1] ?? 0 },
    types: pools.map((p) => ({ ...p, waitingLastHour: waitingLastHour.get(p.type) ?? 0 })),
    enrollments: {
      windowMs: ENROLLMENT_WINDOW_MS,
      licensedAtFirstConnect,
      startedWaiting: [...waitingLastHour.values()].reduce((a, b) => a + b, 0),
      buckets,
      capped: enrollCapped,
    },
    keys: { count: live.length, nearest, within15Days, within1Day },
    overload: { windowMs: OVERLOAD_WINDOW_MS, poolExhausted, usageWarnings, last, capped: overloadCapped },
  };
}
