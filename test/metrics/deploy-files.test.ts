/**
 * SPEC H4: the deploy files (Prometheus scrape config, alert rules, Grafana dashboard) use only
 * metrics that exist. Every `licensegate_…` name in an alert expression or a dashboard query
 * must appear in a real scrape of `licensegate serve` — as a family (# TYPE) or a sample name
 * (a histogram's _bucket/_sum/_count). Names are read with a regex: no promtool needed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { metricNamesIn, scrape, type Scrape } from '../helpers/prometheus-text.ts';
import { connectRedis, newKeys, redisEnv } from '../helpers/redis.ts';

const deploy = join(import.meta.dirname, '../../deploy');
const keys = newKeys('mdep');
let redis: RedisClient;
let gw: GatewayProcess;
let scraped: Scrape;

/** The PromQL of every rule: the `expr:` value, one line or a `|` block. */
function alertRules(text: string): { alert: string; expr: string }[] {
  const rules: { alert: string; expr: string }[] = [];
  const blocks = text.split(/^\s*- alert: /m).slice(1);
  for (const block of blocks) {
    const alert = block.split('\n')[0]!.trim();
    const m = /^ *expr: (?:\|\n((?: {10,}.*\n)+)|(.+))/m.exec(block);
    rules.push({ alert, expr: (m?.[1] ?? m?.[2] ?? '').trim() });
  }
  return rules;
}

beforeAll(async () => {
  redis = await connectRedis();
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  // A key with an expiry, so the expiry gauge has a series too.
  await activatePool(ledgerContext(redis, keys), { linux: 2 }, { expiresAt: Date.now() + 30 * 86_400_000 });
  gw = await startGatewayProcess({ ...redisEnv(), KEY_PREFIX: keys.prefix, QUEUE_PREFIX: keys.queuePrefix, ENROLLMENT_TOKEN: TEST_TOKEN });
  scraped = await scrape(gw.healthUrl);
});
afterAll(async () => {
  await gw?.stop();
  redis?.disconnect();
});

describe('SPEC H4: deploy files', () => {
  it('H4: every alert rule has an expression, the required rules exist, and their metrics appear in a real scrape', () => {
    const rules = alertRules(readFileSync(join(deploy, 'prometheus/alerts.yml'), 'utf8'));
    const names = rules.map((r) => r.alert);
    for (const wanted of ['LicensePoolExhausted', 'LicensePoolNearlyExhausted', 'SerialKeyExpiresWithin15Days', 'SerialKeyExpiresWithin1Day', 'LicensegateOverloaded', 'LicensegateCommandDeliverySlow', 'LicensegateGatewayDown']) {
      expect(names).toContain(wanted);
    }
    const exists = scraped.names();
    for (const r of rules) {
      expect(r.expr, `${r.alert} has an expr`).not.toBe('');
      for (const metric of metricNamesIn(r.expr)) expect(exists.has(metric), `${r.alert} uses ${metric}`).toBe(true);
    }
    expect(rules.flatMap((r) => metricNamesIn(r.expr)).length).toBeGreaterThan(10);
  });

  it('H4: every Grafana panel query uses metrics that appear in a real scrape, and every family is on the dashboard', () => {
    const dashboard = JSON.parse(readFileSync(join(deploy, 'grafana/licensegate.json'), 'utf8')) as { panels: { type: string; title: string; targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThan(20);
    const exists = scraped.names();
    const used = new Set<string>();
    for (const { title, expr } of exprs) {
      for (const metric of metricNamesIn(expr)) {
        expect(exists.has(metric), `panel "${title}" uses ${metric}`).toBe(true);
        used.add(metric.replace(/_(bucket|sum|count)$/, ''));
      }
    }
    // Every licensegate family of our own (not prom-client's process set) has a panel.
    const ours = [...scraped.type.keys()].filter((n) => !/^licensegate_(process|nodejs)_/.test(n));
    for (const family of ours) expect(used.has(family), `${family} is on the dashboard`).toBe(true);
  });

  it('H4: the Prometheus example scrapes two gateways on /metrics and loads the alert rules', () => {
    const text = readFileSync(join(deploy, 'prometheus.yml'), 'utf8');
    expect(text).toMatch(/^rule_files:\n\s+- prometheus\/alerts\.yml$/m);
    expect(text).toMatch(/metrics_path: \/metrics/);
    const targets = /targets: \[([^\]]*)\]/.exec(text)?.[1]?.split(',').map((t) => t.trim()) ?? [];
    expect(targets).toHaveLength(2);
  });
});
