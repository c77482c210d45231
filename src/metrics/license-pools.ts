/**
 * License gauges computed at scrape time from Redis (SPEC H4): totals from the active serial
 * keys, granted / assigned / available / waiting per tenant and type (tenant label bounded by
 * tenant-labels.ts), and the seconds until the earliest active key of each type expires.
 *
 * Cost: one read costs one HGETALL of the serial keys, one SMEMBERS of the tenants and one
 * pipeline per tenant (1 HGETALL + 2 commands per type), 32 tenants in flight at a time. The
 * result is cached for METRICS_CACHE_MS, and concurrent scrapes share one read in flight, so
 * however often Prometheus (or anyone) scrapes, Redis sees at most one read per window per
 * gateway. No SCAN, no KEYS; nothing on the agents' hot paths.
 */
import { Gauge, type Registry } from 'prom-client';
import type { LedgerContext } from '../licensing/ledger-context.ts';
import { ALL_LICENSE_TYPES } from '../licensing/license-types.ts';
import { serialKeyExpiresAtMs } from '../licensing/serial-key.ts';
import { listSerialKeys, totalsOf } from '../licensing/serial-key-ledger.ts';
import { tenantPools } from '../licensing/views.ts';
import { boundTenantLabels, type TenantPoolRow } from './tenant-labels.ts';

export interface LicensePoolsSnapshot {
  totals: Map<string, number>;
  tenants: TenantPoolRow[];
  tenantCount: number;
  /** Seconds until the earliest active key holding this type expires (keys without expiry: none). */
  expirySeconds: Map<string, number>;
}

export interface LicensePoolsOptions {
  /** Tenants that keep their own label (METRICS_TENANT_LABELS); the rest are `other`. */
  topTenants: number;
  /** How long one read of Redis answers scrapes (METRICS_CACHE_MS). */
  cacheMs: number;
  now?: () => number;
}

const TENANTS_IN_FLIGHT = 32;

export async function readLicensePools(ctx: LedgerContext, topTenants: number, now: number): Promise<LicensePoolsSnapshot> {
  const keys = await listSerialKeys(ctx);
  const totals = new Map<string, number>(ALL_LICENSE_TYPES.map((t) => [t, totalsOf(keys)[t] ?? 0]));
  const expirySeconds = new Map<string, number>();
  for (const rec of keys) {
    const exp = serialKeyExpiresAtMs(rec.payload);
    if (rec.status !== 'active' || exp === null) continue;
    for (const [type, n] of Object.entries(rec.payload.licenses)) {
      if (!(n > 0)) continue;
      const left = (exp - now) / 1000;
      if (!expirySeconds.has(type) || left < expirySeconds.get(type)!) expirySeconds.set(type, left);
    }
  }
  const ids = await ctx.redis.smembers(ctx.keys.tenants());
  const rows: TenantPoolRow[] = [];
  for (let i = 0; i < ids.length; i += TENANTS_IN_FLIGHT) {
    const slice = ids.slice(i, i + TENANTS_IN_FLIGHT);
    const pools = await Promise.all(slice.map((id) => tenantPools(ctx, id)));
    pools.forEach((p, j) => {
      for (const r of p) rows.push({ tenant: slice[j]!, type: r.type, granted: r.granted, assigned: r.assigned, available: r.available, waiting: r.waiting });
    });
  }
  return { totals, tenants: boundTenantLabels(rows, topTenants), tenantCount: ids.length, expirySeconds };
}

/** Registers the license gauges on `registry`; they read through one cached snapshot. */
export class LicensePools {
  private cached: { at: number; value: LicensePoolsSnapshot } | undefined;
  private inFlight: Promise<LicensePoolsSnapshot> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly ctx: LedgerContext,
    private readonly options: LicensePoolsOptions,
    registry: Registry,
  ) {
    this.now = options.now ?? Date.now;
    const registers = [registry];
    const pools = this;
    const perTenant = (name: string, help: string, pick: (r: TenantPoolRow) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['tenant', 'type'],
        registers,
        async collect() {
          const snap = await pools.snapshot();
          this.reset();
          if (snap) for (const r of snap.tenants) this.set({ tenant: r.tenant, type: r.type }, pick(r));
        },
      });
    perTenant('licensegate_licenses_granted', 'Licenses a tenant holds (the default tenant: what it kept), by type; tenant label bounded to the top METRICS_TENANT_LABELS tenants + other.', (r) => r.granted);
    perTenant('licensegate_licenses_assigned', 'Licenses assigned to Clients or PAM users, by tenant (bounded) and type.', (r) => r.assigned);
    perTenant('licensegate_licenses_available', 'Licenses a tenant holds and has not assigned, by tenant (bounded) and type.', (r) => r.available);
    perTenant('licensegate_clients_waiting', 'Clients waiting for a license of this type, by tenant (bounded).', (r) => r.waiting);
    new Gauge({
      name: 'licensegate_licenses_total',
      help: 'Licenses of the active serial keys, by type.',
      labelNames: ['type'],
      registers,
      async collect() {
        const snap = await pools.snapshot();
        this.reset();
        if (snap) for (const [type, n] of snap.totals) this.set({ type }, n);
      },
    });
    new Gauge({
      name: 'licensegate_serial_key_expiry_seconds',
      help: 'Seconds until the earliest active serial key holding licenses of this type expires (types whose keys never expire: no series).',
      labelNames: ['type'],
      registers,
      async collect() {
        const snap = await pools.snapshot();
        this.reset();
        if (snap) for (const [type, s] of snap.expirySeconds) this.set({ type }, s);
      },
    });
    new Gauge({
      name: 'licensegate_tenants',
      help: 'Tenants, the default one included.',
      registers,
      async collect() {
        const snap = await pools.snapshot();
        if (snap) this.set(snap.tenantCount);
      },
    });
  }

  /** The cached snapshot, read again when older than cacheMs; undefined when Redis failed (the gauges are left empty). */
  async snapshot(): Promise<LicensePoolsSnapshot | undefined> {
    const now = this.now();
    if (this.cached && now - this.cached.at < this.options.cacheMs) return this.cached.value;
    this.inFlight ??= readLicensePools(this.ctx, this.options.topTenants, now).finally(() => (this.inFlight = undefined));
    try {
      const value = await this.inFlight;
      this.cached = { at: now, value };
      return value;
    } catch {
      this.cached = undefined;
      return undefined;
    }
  }
}
