/**
 * SPEC H4: the license gauges' bounded cost and bounded labels, in one process against the real
 * Redis: one read per METRICS_CACHE_MS however often scraped (concurrent scrapes share it), the
 * top-N tenant labels with `other`, the open-fds gauge, and the no-op instruments.
 */
import { openSync, closeSync } from 'node:fs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { LicensePools } from '../../src/metrics/license-pools.ts';
import { NOOP_METRICS } from '../../src/metrics/instruments.ts';
import { openFileDescriptors } from '../../src/metrics/open-fds.ts';
import { PromMetrics } from '../../src/metrics/prom-metrics.ts';
import { boundTenantLabels, OTHER_TENANT_LABEL, type TenantPoolRow } from '../../src/metrics/tenant-labels.ts';
import { activateSerialKey } from '../../src/licensing/serial-key-ledger.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { TEST_TOKEN } from '../helpers/gateway.ts';
import { ledgerContext, mintKey } from '../helpers/ledger.ts';
import { parsePrometheusText } from '../helpers/prometheus-text.ts';
import { connectRedis, newKeys } from '../helpers/redis.ts';

let redis: RedisClient;
const keys = newKeys('mlp');

beforeAll(async () => {
  redis = await connectRedis();
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
});
afterAll(() => redis?.disconnect());

/** The same Redis, counting the SMEMBERS of the tenant set: one per read of the pools. */
function countingContext(): { ctx: ReturnType<typeof ledgerContext>; reads: () => number } {
  let reads = 0;
  const counted = new Proxy(redis, {
    get(target, prop) {
      if (prop === 'smembers') reads++;
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { ctx: ledgerContext(counted, keys), reads: () => reads };
}

describe('SPEC H4: license gauges and labels', () => {
  it('H4: license gauges read Redis once per METRICS_CACHE_MS however often scraped; concurrent scrapes share one read', async () => {
    let now = 1_000_000;
    const { ctx, reads } = countingContext();
    const registry = new Registry();
    new LicensePools(ctx, { topTenants: 10, cacheMs: 10_000, now: () => now }, registry);
    await activateSerialKey(ctx, TECHNICIAN, mintKey({ linux: 7 }));
    const total = async () => parsePrometheusText(await registry.metrics()).sum('licensegate_licenses_total', { type: 'linux' });
    const first = await Promise.all(Array.from({ length: 5 }, () => registry.metrics()));
    expect(reads()).toBe(1);
    for (const text of first) expect(parsePrometheusText(text).sum('licensegate_licenses_total', { type: 'linux' })).toBe(7);
    await activateSerialKey(ctx, TECHNICIAN, mintKey({ linux: 3 }));
    now += 9_999;
    expect(await total()).toBe(7); // cached: the new key is not read yet
    expect(reads()).toBe(1);
    now += 1;
    expect(await total()).toBe(10);
    expect(reads()).toBe(2);
  });

  it('H4: the tenant label keeps the top N tenants by licenses held; the rest are summed into other', () => {
    const rows: TenantPoolRow[] = [];
    for (let i = 0; i < 15; i++) {
      for (const type of ['linux', 'workstation']) rows.push({ tenant: `t${i}`, type, granted: i, assigned: 1, available: i - 1, waiting: i % 2 });
    }
    const bounded = boundTenantLabels(rows, 3);
    expect(new Set(bounded.map((r) => r.tenant))).toEqual(new Set(['t14', 't13', 't12', OTHER_TENANT_LABEL]));
    expect(bounded).toHaveLength(8);
    for (const field of ['granted', 'assigned', 'available', 'waiting'] as const) {
      for (const type of ['linux', 'workstation']) {
        const sum = (rs: TenantPoolRow[]) => rs.filter((r) => r.type === type).reduce((a, r) => a + r[field], 0);
        expect(sum(bounded), `${field} ${type}`).toBe(sum(rows));
      }
    }
    expect(boundTenantLabels(rows, 0).every((r) => r.tenant === OTHER_TENANT_LABEL)).toBe(true);
    // Ties are broken by tenant id, so the chosen labels do not flap between scrapes.
    const tied = ['b', 'a', 'c'].map((tenant) => ({ tenant, type: 'linux', granted: 1, assigned: 0, available: 1, waiting: 0 }));
    expect(new Set(boundTenantLabels(tied, 2).map((r) => r.tenant))).toEqual(new Set(['a', 'b', OTHER_TENANT_LABEL]));
  });

  it('H4: open file descriptors are counted with one stat of /proc/self/fd and follow opens and closes', async () => {
    const before = openFileDescriptors()!;
    const fds = Array.from({ length: 50 }, () => openSync('/dev/null', 'r'));
    expect(openFileDescriptors()! - before).toBe(50);
    const m = new PromMetrics();
    expect(parsePrometheusText(await m.registry.metrics()).sum('licensegate_process_open_fds')).toBe(openFileDescriptors());
    for (const fd of fds) closeSync(fd);
    expect(openFileDescriptors()).toBe(before);
  });

  it('H4: one registry per PromMetrics (not the global one); the no-op instruments report nothing and cost no timing', async () => {
    const a = new PromMetrics();
    const b = new PromMetrics();
    a.errorSent('OVERLOADED');
    a.adminJob('no.such.job', 'failed', 0.5);
    const ma = parsePrometheusText(await a.registry.metrics());
    const mb = parsePrometheusText(await b.registry.metrics());
    expect(ma.sum('licensegate_overloaded_total')).toBe(1);
    expect(ma.sum('licensegate_refusals_total', { code: 'OVERLOADED' })).toBe(1);
    expect(mb.sum('licensegate_overloaded_total')).toBe(0);
    // Job names outside the contract never become label values.
    expect(ma.sum('licensegate_admin_jobs_total', { job: 'unknown', outcome: 'failed' })).toBe(1);
    expect(ma.find('licensegate_admin_jobs_total', { job: 'no.such.job' })).toHaveLength(0);
    expect(NOOP_METRICS.enabled).toBe(false);
    expect(NOOP_METRICS.errorSent('OVERLOADED')).toBeUndefined();
  });
});
