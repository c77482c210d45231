/**
 * SPEC H4: a real `licensegate serve` process is scraped while agent-sim agents connect, fail,
 * get commands and leave; the text format is parsed strictly (every line) and the values must
 * move as the events happened. Values are compared as differences from a scrape taken before
 * each step, so the tests do not depend on each other's order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent-sim/agent.ts';
import { AdminClient } from '../../src/admin/client.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { createTenant, ensureTenant, grantLicenses } from '../../src/licensing/tenants.ts';
import { licensesGranted, availability } from '../../src/licensing/views.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { parsePrometheusText, scrape, type Scrape } from '../helpers/prometheus-text.ts';
import { connectRedis, newKeys, redisEnv, redisTarget } from '../helpers/redis.ts';

const DAY = 86_400_000;
let redis: RedisClient;
const keys = newKeys('met');
const ctx = () => ledgerContext(redis, keys);
let gw: GatewayProcess;
let admin: AdminClient;
let expiresAt: number;
const env = (extra: Record<string, string> = {}) => ({
  ...redisEnv(),
  KEY_PREFIX: keys.prefix,
  QUEUE_PREFIX: keys.queuePrefix,
  ENROLLMENT_TOKEN: TEST_TOKEN,
  METRICS_TENANT_LABELS: '3',
  // Every scrape reads Redis again: the gauges must follow each step at once here.
  METRICS_CACHE_MS: '0',
  ...extra,
});
const metrics = () => scrape(gw.healthUrl);

beforeAll(async () => {
  redis = await connectRedis();
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  expiresAt = Date.now() + 10 * DAY;
  await activatePool(ctx(), { linux: 40, workstation: 30, 'pam-seat': 2 }, { expiresAt });
  gw = await startGatewayProcess(env());
  admin = new AdminClient({ connection: redisTarget(), prefix: keys.queuePrefix, actor: TECHNICIAN, timeoutMs: 15_000 });
});
afterAll(async () => {
  await admin?.close();
  await gw?.stop();
  redis?.disconnect();
});

describe('SPEC H4: metrics of a real gateway process', () => {
  it('H4: /metrics is well-formed Prometheus text; every licensegate family has HELP and TYPE; Linux process metrics work', async () => {
    const res = await fetch(`${gw.healthUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const m = parsePrometheusText(text); // throws on any malformed line
    expect(m.samples.length).toBeGreaterThan(50);
    for (const name of m.type.keys()) {
      expect(name).toMatch(/^licensegate_/);
      expect(m.help.get(name), `HELP of ${name}`).toBeTruthy();
    }
    // Ours are never NaN (prom-client's event-loop statistics are NaN without a sample since the last scrape).
    for (const s of m.samples.filter((x) => !x.name.startsWith('licensegate_nodejs_eventloop_lag'))) expect(Number.isNaN(s.value), `${s.name} is NaN`).toBe(false);
    // prom-client's process metrics read /proc on Linux: open fds, heap, event-loop lag.
    expect(m.sum('licensegate_process_open_fds')).toBeGreaterThan(5);
    expect(m.sum('licensegate_process_max_fds')).toBeGreaterThan(100);
    expect(m.sum('licensegate_process_resident_memory_bytes')).toBeGreaterThan(1e6);
    expect(m.sum('licensegate_nodejs_heap_size_used_bytes')).toBeGreaterThan(1e6);
    expect(m.find('licensegate_nodejs_eventloop_lag_p99_seconds')).toHaveLength(1);
    // Bounded labels: the refusal counter has one series per catalogue code, made up front.
    expect(m.find('licensegate_refusals_total', { code: 'AUTH_FAILED' })).toHaveLength(1);
  });

  it('H4: connections go up then down; handshakes and enrollments are counted by outcome', async () => {
    const before = await metrics();
    const agents = Array.from({ length: 3 }, () => newAgent(gw.url, { os: OS.linux }));
    await Promise.all(agents.map((a) => a.connect()));
    const during = await metrics();
    expect(during.sum('licensegate_connections', { state: 'authenticated' }) - before.sum('licensegate_connections', { state: 'authenticated' })).toBe(3);
    expect(during.sum('licensegate_handshakes_total', { outcome: 'welcome' }) - before.sum('licensegate_handshakes_total', { outcome: 'welcome' })).toBe(3);
    expect(during.sum('licensegate_enrollments_total', { outcome: 'registered' }) - before.sum('licensegate_enrollments_total', { outcome: 'registered' })).toBe(3);
    // A reconnect with the credential is a handshake, not an enrollment.
    await agents[0]!.close();
    const again = new Agent({ url: gw.url, clientId: agents[0]!.clientId, credential: agents[0]!.credential!, os: OS.linux, lastAckedSeq: agents[0]!.lastAckedSeq });
    await again.connect();
    const after = await metrics();
    expect(after.sum('licensegate_handshakes_total', { outcome: 'welcome' }) - before.sum('licensegate_handshakes_total', { outcome: 'welcome' })).toBe(4);
    expect(after.sum('licensegate_enrollments_total') - before.sum('licensegate_enrollments_total')).toBe(3);
    await Promise.all([again.close(), agents[1]!.close(), agents[2]!.close()]);
    await eventually(async () => (await metrics()).sum('licensegate_connections') === before.sum('licensegate_connections'), 'connections back to where they were', 10_000, 100);
  });

  it('H4: refusals are counted by catalogue code: agents with a wrong enrollment token give AUTH_FAILED', async () => {
    const before = await metrics();
    for (let i = 0; i < 2; i++) {
      const bad = newAgent(gw.url, { enrollmentToken: 'wrong-token-wrong-token' });
      await expect(bad.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
      await bad.terminate();
    }
    const after = await metrics();
    expect(after.sum('licensegate_refusals_total', { code: 'AUTH_FAILED' }) - before.sum('licensegate_refusals_total', { code: 'AUTH_FAILED' })).toBe(2);
    expect(after.sum('licensegate_handshakes_total', { outcome: 'refused' }) - before.sum('licensegate_handshakes_total', { outcome: 'refused' })).toBe(2);
    expect(after.sum('licensegate_enrollments_total', { outcome: 'refused' }) - before.sum('licensegate_enrollments_total', { outcome: 'refused' })).toBe(2);
    expect(after.sum('licensegate_refusals_total', { code: 'OVERLOADED' })).toBe(before.sum('licensegate_refusals_total', { code: 'OVERLOADED' }));
  });

  it('H4: an admin unassign gives a doorbell, a command delivery latency observation, and admin job counters with durations', async () => {
    const agent = newAgent(gw.url, { os: OS.linux });
    await agent.connect();
    await agent.waitFor(() => agent.monitoring);
    const before = await metrics();
    const job = { job: 'client.unassign' };
    await admin.run('client.unassign', { tenantId: DEFAULT_TENANT, clientId: agent.clientId });
    await agent.waitFor(() => !agent.monitoring, 5000);
    let after: Scrape = before;
    await eventually(async () => {
      after = await metrics();
      return after.sum('licensegate_command_delivery_seconds_count') > before.sum('licensegate_command_delivery_seconds_count');
    }, 'a delivery latency observation', 5000, 50);
    expect(after.sum('licensegate_command_delivery_seconds_count') - before.sum('licensegate_command_delivery_seconds_count')).toBe(1);
    const seconds = after.sum('licensegate_command_delivery_seconds_sum') - before.sum('licensegate_command_delivery_seconds_sum');
    expect(seconds).toBeGreaterThanOrEqual(0);
    expect(seconds).toBeLessThan(5);
    // The StopMonitoring came by doorbell (rung by the unassign script in Redis).
    expect(after.sum('licensegate_doorbells_received_total', { kind: 'cmd' }) - before.sum('licensegate_doorbells_received_total', { kind: 'cmd' })).toBeGreaterThanOrEqual(1);
    expect(after.sum('licensegate_admin_jobs_total', { ...job, outcome: 'completed' }) - before.sum('licensegate_admin_jobs_total', { ...job, outcome: 'completed' })).toBe(1);
    expect(after.sum('licensegate_admin_job_duration_seconds_count', job) - before.sum('licensegate_admin_job_duration_seconds_count', job)).toBe(1);
    // A refused job (unknown Client) is counted as refused, not completed.
    await expect(admin.run('client.unassign', { tenantId: DEFAULT_TENANT, clientId: 'no-such-client' })).rejects.toMatchObject({ code: 'CLIENT_NOT_FOUND' });
    const refused = await metrics();
    expect(refused.sum('licensegate_admin_jobs_total', { ...job, outcome: 'refused' }) - before.sum('licensegate_admin_jobs_total', { ...job, outcome: 'refused' })).toBe(1);
    expect(refused.sum('licensegate_admin_job_duration_seconds_count', job) - before.sum('licensegate_admin_job_duration_seconds_count', job)).toBe(2);
    await agent.close();
  });

  it('H4: license gauges match the availability view; the earliest key expiry is in seconds', async () => {
    const agent = newAgent(gw.url, { os: OS.linux });
    await agent.connect();
    await agent.waitFor(() => agent.monitoring);
    const m = await metrics();
    const rows = await availability(ctx());
    for (const r of rows) expect(m.sum('licensegate_licenses_total', { type: r.type }), r.type).toBe(r.total);
    const own = (await licensesGranted(ctx())).filter((r) => r.tenant === DEFAULT_TENANT);
    for (const r of own) {
      expect(m.sum('licensegate_licenses_assigned', { tenant: DEFAULT_TENANT, type: r.type }), r.type).toBe(r.assigned);
      expect(m.sum('licensegate_licenses_available', { tenant: DEFAULT_TENANT, type: r.type }), r.type).toBe(r.available);
    }
    expect(m.sum('licensegate_licenses_assigned', { tenant: DEFAULT_TENANT, type: 'linux' })).toBeGreaterThanOrEqual(1);
    const left = m.sum('licensegate_serial_key_expiry_seconds', { type: 'linux' });
    expect(Math.abs(left - (expiresAt - Date.now()) / 1000)).toBeLessThan(120);
    expect(m.find('licensegate_serial_key_expiry_seconds', { type: 'cloud-server' })).toHaveLength(0); // no key holds it
    // One more assigned Client moves the gauges by one.
    const second = newAgent(gw.url, { os: OS.linux });
    await second.connect();
    await second.waitFor(() => second.monitoring);
    const n = await metrics();
    expect(n.sum('licensegate_licenses_assigned', { tenant: DEFAULT_TENANT, type: 'linux' }) - m.sum('licensegate_licenses_assigned', { tenant: DEFAULT_TENANT, type: 'linux' })).toBe(1);
    expect(n.sum('licensegate_licenses_available', { tenant: DEFAULT_TENANT, type: 'linux' }) - m.sum('licensegate_licenses_available', { tenant: DEFAULT_TENANT, type: 'linux' })).toBe(-1);
    // No key holds cloud-server licenses: such a Client waits for one.
    const waiting = newAgent(gw.url, { os: OS.cloudServer });
    await waiting.connect();
    const w = await metrics();
    expect(w.sum('licensegate_clients_waiting', { tenant: DEFAULT_TENANT, type: 'cloud-server' }) - n.sum('licensegate_clients_waiting', { tenant: DEFAULT_TENANT, type: 'cloud-server' })).toBe(1);
    await Promise.all([agent.close(), second.close(), waiting.close()]);
  });

  it('H4: 15 tenants with METRICS_TENANT_LABELS=3 give at most 3 tenant labels + other, and the sums still hold', async () => {
    for (let i = 1; i <= 15; i++) {
      const t = await createTenant(ctx(), TECHNICIAN, `Metrics tenant ${i}`, `mt-${String(i).padStart(2, '0')}`);
      await grantLicenses(ctx(), TECHNICIAN, t.id, 'workstation', 1);
    }
    // The three largest: the default tenant (it keeps the most), mt-15 (3) and mt-14 (2).
    await grantLicenses(ctx(), TECHNICIAN, 'mt-15', 'workstation', 2);
    await grantLicenses(ctx(), TECHNICIAN, 'mt-14', 'workstation', 1);
    const m = await metrics();
    const labels = new Set(m.find('licensegate_licenses_granted').map((s) => s.labels.tenant));
    expect(labels.size).toBeLessThanOrEqual(4);
    expect(labels).toEqual(new Set([DEFAULT_TENANT, 'mt-14', 'mt-15', 'other']));
    const all = await licensesGranted(ctx());
    const granted = all.filter((r) => r.type === 'workstation').reduce((a, r) => a + r.granted, 0);
    expect(m.sum('licensegate_licenses_granted', { type: 'workstation' })).toBe(granted);
    expect(m.sum('licensegate_licenses_granted', { tenant: 'other', type: 'workstation' })).toBe(all.filter((r) => r.type === 'workstation' && !labels.has(r.tenant)).reduce((a, r) => a + r.granted, 0));
    expect(m.sum('licensegate_tenants')).toBe(16);
    for (const name of ['licensegate_licenses_assigned', 'licensegate_licenses_available', 'licensegate_clients_waiting']) {
      expect(new Set(m.find(name).map((s) => s.labels.tenant)).size, name).toBeLessThanOrEqual(4);
    }
  });

  it('H4: Redis round trips are measured: the Hello script of each handshake and a PING per scrape', async () => {
    const before = await metrics();
    const agent = newAgent(gw.url, { os: OS.linux });
    await agent.connect();
    const after = await metrics();
    expect(after.sum('licensegate_redis_command_duration_seconds_count', { command: 'hello' }) - before.sum('licensegate_redis_command_duration_seconds_count', { command: 'hello' })).toBe(1);
    expect(after.sum('licensegate_redis_command_duration_seconds_count', { command: 'ping' }) - before.sum('licensegate_redis_command_duration_seconds_count', { command: 'ping' })).toBe(1);
    expect(after.find('licensegate_redis_reconnects_total', { connection: 'gateway' })).toHaveLength(1);
    await agent.close();
  });
});

describe('SPEC H4: METRICS=off, METRICS_TOKEN and OVERLOADED', () => {
  it('H4: METRICS=off: /metrics is 404 and /healthz still answers', async () => {
    const off = await startGatewayProcess(env({ METRICS: 'off' }));
    try {
      expect((await fetch(`${off.healthUrl}/metrics`)).status).toBe(404);
      expect((await fetch(`${off.healthUrl}/healthz`)).status).toBe(200);
      const agent = newAgent(off.url, { os: OS.linux });
      await agent.connect(); // the gateway works without its instruments
      await agent.close();
    } finally {
      await off.stop();
    }
  });

  it('H4 C13: METRICS_TOKEN makes /metrics 401 without it; OVERLOADED refusals are counted when the Hello queue is saturated', async () => {
    const token = 'metrics-scrape-token-0123456789';
    const busy = await startGatewayProcess(env({ METRICS_TOKEN: token, MAX_HANDSHAKES: '1', MAX_ENROLLMENTS: '1', HELLO_QUEUE_MAX: '0' }));
    try {
      expect((await fetch(`${busy.healthUrl}/metrics`)).status).toBe(401);
      expect((await fetch(`${busy.healthUrl}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
      const before = await scrape(busy.healthUrl, token);
      const agents = Array.from({ length: 20 }, () => newAgent(busy.url, { os: OS.linux }));
      const results = await Promise.allSettled(agents.map((a) => a.connect()));
      const overloaded = results.filter((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'OVERLOADED').length;
      expect(overloaded).toBeGreaterThan(0);
      const after = await scrape(busy.healthUrl, token);
      expect(after.sum('licensegate_overloaded_total') - before.sum('licensegate_overloaded_total')).toBe(overloaded);
      expect(after.sum('licensegate_refusals_total', { code: 'OVERLOADED' }) - before.sum('licensegate_refusals_total', { code: 'OVERLOADED' })).toBe(overloaded);
      await Promise.all(agents.map((a) => a.terminate()));
    } finally {
      await busy.stop();
    }
  });
});
