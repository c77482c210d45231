import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Agent, type AgentOs } from '../../agent-sim/agent.ts';
import { AdminClient } from '../../src/admin/client.ts';
import { readEvents } from '../../src/events/admin-events.ts';
import { ADMIN_QUEUE } from '../../src/jobs/contract.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { PERMISSIONS, TECHNICIAN } from '../../src/licensing/permissions.ts';
import { createTenant, grantLicenses } from '../../src/licensing/tenants.ts';
import { tenantPools } from '../../src/licensing/views.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { LicenseType } from '../../src/protocol/wire.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { startTestAdmin, type TestAdmin } from '../helpers/admin.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { activatePool } from '../helpers/ledger.ts';
import { openRedis, redisTarget } from '../helpers/redis.ts';

let gw: TestGateway;
let t: TestAdmin;
beforeAll(async () => {
  gw = await startTestGateway({ gateway: { heartbeatIntervalMs: 300, lastSeenFlushMs: 100 } });
  t = await startTestAdmin(gw.ctx);
});
afterAll(async () => {
  expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
  await t.stop();
  await gw.stop();
});

async function licensed(os: AgentOs = OS.linux, extra = {}): Promise<Agent> {
  const a = newAgent(gw.url, { os, ...extra });
  await a.connect();
  await a.waitFor(() => a.monitoring);
  return a;
}
async function enrolledOffline(os: AgentOs = OS.linux): Promise<Agent> {
  const a = newAgent(gw.url, { os });
  await a.connect();
  await a.close();
  return a;
}
const audit = async (tenant = DEFAULT_TENANT) =>
  ((await gw.redis.xrange(gw.keys.audit(tenant), '-', '+')) as [string, string[]][]).map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]]]))) as Record<string, string>);

describe('admin jobs', () => {
  it('C6 A4: assigning to an offline Client counts at once and StartMonitoring arrives at its next connect', async () => {
    await activatePool(gw.ctx, { 'infrastructure-server': 1 });
    const a = await enrolledOffline(OS.windowsServer);
    // It took the only license at enrollment; free it by admin, then assign again while offline.
    await t.admin.unassign({ tenantId: DEFAULT_TENANT, clientId: a.clientId });
    const state = await t.admin.assign({ tenantId: DEFAULT_TENANT, clientId: a.clientId });
    expect(state).toMatchObject({ clientId: a.clientId, license: 'infrastructure-server', online: false, reason: '' });
    expect((await tenantPools(gw.ctx, DEFAULT_TENANT)).find((p) => p.type === 'infrastructure-server')).toMatchObject({ assigned: 1, available: 0 });
    const welcome = await a.connect();
    expect(welcome.license).toMatchObject({ licensed: true, type: LicenseType.LICENSE_TYPE_INFRASTRUCTURE_SERVER });
    // Stop then Start waited in its log; replayed in order, they end where the Welcome said.
    await a.waitFor(() => a.commands.length === 2);
    expect(a.commands.map((c) => [c.seq, c.kind])).toEqual([[1, 'stop'], [2, 'start']]);
    expect(a.monitoring).toBe(true);
    await a.close();
  });

  it('C7 C10: unassigning an online Client sends StopMonitoring at once and pins it unlicensed', async () => {
    await activatePool(gw.ctx, { linux: 3 });
    const a = await licensed();
    const started = Date.now();
    const state = await t.admin.unassign({ tenantId: DEFAULT_TENANT, clientId: a.clientId });
    expect(state).toMatchObject({ license: null, reason: 'UNASSIGNED_BY_ADMIN', online: true });
    await a.waitFor(() => !a.monitoring, 2000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(a.commands.at(-1)).toMatchObject({ kind: 'stop', reason: 'UNASSIGNED_BY_ADMIN' });
    // Reconnect: still unlicensed although licenses are free (C10).
    await a.close();
    expect((await a.connect()).license).toMatchObject({ licensed: false, reason: 'UNASSIGNED_BY_ADMIN' });
    expect(await gw.redis.zscore(gw.keys.waiting(DEFAULT_TENANT, 'linux'), a.clientId)).toBeNull();
    // Until an admin assigns again.
    await t.admin.assign({ tenantId: DEFAULT_TENANT, clientId: a.clientId });
    await a.waitFor(() => a.monitoring);
    await a.close();
  });

  it('L2 L3: manual assign checks the OS type unless forced, and one license per Client', async () => {
    await activatePool(gw.ctx, { workstation: 2, linux: 2 });
    const a = await enrolledOffline(OS.linux);
    await expect(t.admin.assign({ tenantId: DEFAULT_TENANT, clientId: a.clientId })).rejects.toMatchObject({ code: 'CLIENT_ALREADY_LICENSED' });
    await t.admin.unassign({ tenantId: DEFAULT_TENANT, clientId: a.clientId });
    await expect(t.admin.assign({ tenantId: DEFAULT_TENANT, clientId: a.clientId, type: 'workstation' })).rejects.toMatchObject({ code: 'LICENSE_TYPE_MISMATCH' });
    expect(await t.admin.assign({ tenantId: DEFAULT_TENANT, clientId: a.clientId, type: 'workstation', force: true })).toMatchObject({ license: 'workstation' });
    await expect(t.admin.assign({ tenantId: DEFAULT_TENANT, clientId: 'no-such-client' })).rejects.toMatchObject({ code: 'CLIENT_NOT_FOUND' });
  });

  it('A2 T6: FORBIDDEN without the permissions or across tenants, and not retried', async () => {
    const a = await enrolledOffline();
    const weak = { ...TECHNICIAN, permissions: [PERMISSIONS.licenses] };
    const err = await t.admin.unassign({ tenantId: DEFAULT_TENANT, clientId: a.clientId, actor: weak }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORBIDDEN' });
    const queue = new Queue(ADMIN_QUEUE, { connection: openRedis({ maxRetriesPerRequest: null }), prefix: gw.keys.queuePrefix });
    expect((await queue.getJob((err as { jobId: string }).jobId))?.attemptsMade).toBe(1);
    await createTenant(gw.ctx, TECHNICIAN, 'Umbrella');
    const other = { userId: 'u', tenantId: 'umbrella', permissions: [PERMISSIONS.clients, PERMISSIONS.licenses] };
    await expect(t.admin.unassign({ tenantId: DEFAULT_TENANT, clientId: a.clientId, actor: other })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(t.admin.grant({ tenantId: 'umbrella', type: 'linux', count: 1, actor: other })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // An invalid payload sent with plain BullMQ: INVALID_JOB, one attempt.
    const bad = await queue.add('client.assign', { actor: TECHNICIAN, tenantId: DEFAULT_TENANT }, { jobId: 'bad-payload-1', attempts: 5 });
    await eventually(async () => (await bad.getState()) === 'failed', 'invalid job fails');
    const failed = await queue.getJob('bad-payload-1');
    expect(failed?.failedReason).toMatch(/^INVALID_JOB: /);
    expect(failed?.attemptsMade).toBe(1);
    await queue.close();
  });

  it('A3: a repeated idempotency key returns the first result with no second effect', async () => {
    await activatePool(gw.ctx, { 'cloud-server': 2 });
    const a = await enrolledOffline(OS.cloudServer);
    await t.admin.unassign({ tenantId: DEFAULT_TENANT, clientId: a.clientId });
    const first = await t.admin.assign({ tenantId: DEFAULT_TENANT, clientId: a.clientId, idempotencyKey: 'assign-once-1' });
    const again = await t.admin.assign({ tenantId: DEFAULT_TENANT, clientId: a.clientId, idempotencyKey: 'assign-once-1' });
    expect(again).toEqual(first);
    expect((await audit()).filter((e) => e.holder === a.clientId && e.action === 'assigned' && e.cause === 'job:assign-once-1')).toHaveLength(1);
  });

  it('A4: a brand-new AdminClient gets the result of its very first call, 80 clients at once', async () => {
    // The CLI is exactly this: a fresh client, one job, a worker that may finish before the
    // client's result listener has issued its first read. No call may miss its result.
    await activatePool(gw.ctx, { 'pam-seat': 1 }); // a multi-tenant key, so that tenants can be made
    const tenant = await createTenant(gw.ctx, TECHNICIAN, 'First Call Ltd');
    // 30 s, the CLI's own wait: on a Cluster each client first opens a connection per master
    // (80 × 2 Cluster clients at once on a busy machine); a missed result still times out.
    const clients = Array.from({ length: 80 }, () => new AdminClient({ connection: redisTarget(), prefix: gw.keys.queuePrefix, actor: TECHNICIAN, timeoutMs: 30_000 }));
    try {
      const results = await Promise.all(clients.map((c, i) => c.setPolicy({ tenantId: tenant.id, policy: { reclaimAfterDays: i + 1 } })));
      expect(results.map((r) => r.reclaimAfterDays)).toEqual(clients.map((_, i) => i + 1));
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('C8: the uninstall job frees the license, sends Uninstall, and revokes the credential', async () => {
    await activatePool(gw.ctx, { linux: 1 });
    const a = await licensed();
    const state = await t.admin.uninstall({ tenantId: DEFAULT_TENANT, clientId: a.clientId });
    expect(state).toMatchObject({ status: 'uninstalled', license: null });
    await a.waitFor(() => a.commands.some((c) => c.kind === 'uninstall'));
    expect(a.uninstalled).toBe(true);
    await a.close();
    // F4: the revoked credential learns it is uninstalled, never an AUTH_FAILED loop.
    const again = new Agent({ url: gw.url, clientId: a.clientId, credential: a.credential!, os: OS.linux });
    await expect(again.connect()).rejects.toMatchObject({ code: 'CLIENT_UNINSTALLED' });
  });

  it('C9: a freed license goes to the longest-waiting online Client before offline ones', async () => {
    const tenant = await createTenant(gw.ctx, TECHNICIAN, 'Queue Co');
    await activatePool(gw.ctx, { 'terminal-server': 1 });
    await grantLicenses(gw.ctx, TECHNICIAN, tenant.id, 'terminal-server', 1);
    const mk = () => newAgent(gw.url, { tenantId: tenant.id, enrollmentToken: tenant.enrollmentToken, os: OS.terminalServer });
    const holder = mk();
    await holder.connect();
    const offlineOldest = mk();
    await offlineOldest.connect();
    await offlineOldest.close();
    const onlineFirst = mk();
    await onlineFirst.connect();
    const onlineSecond = mk();
    await onlineSecond.connect();
    expect(await gw.redis.zrange(gw.keys.waiting(tenant.id, 'terminal-server'), '0', '-1')).toEqual([offlineOldest.clientId, onlineFirst.clientId, onlineSecond.clientId]);
    await t.admin.unassign({ tenantId: tenant.id, clientId: holder.clientId });
    await onlineFirst.waitFor(() => onlineFirst.monitoring);
    expect(onlineSecond.monitoring).toBe(false);
    // T3: the default tenant's free licenses never went to this tenant's queue.
    expect((await tenantPools(gw.ctx, tenant.id)).find((p) => p.type === 'terminal-server')).toMatchObject({ granted: 1, assigned: 1, waiting: 2 });
    await Promise.all([holder.close(), onlineFirst.close(), onlineSecond.close()]);
  });

  it('C11: with the reclaim policy, an empty pool takes the license of the Client offline longest', async () => {
    const tenant = await createTenant(gw.ctx, TECHNICIAN, 'Reclaim Inc');
    await activatePool(gw.ctx, { 'cloud-server': 1 });
    await grantLicenses(gw.ctx, TECHNICIAN, tenant.id, 'cloud-server', 1);
    const mk = () => newAgent(gw.url, { tenantId: tenant.id, enrollmentToken: tenant.enrollmentToken, os: OS.cloudServer });
    const stale = mk();
    await stale.connect();
    await stale.close();
    await eventually(async () => (await gw.redis.zscore(gw.keys.offlineHolders(tenant.id, 'cloud-server'), stale.clientId)) !== null, 'stale is an offline holder');
    // Policy off: a newcomer waits.
    const newcomer = mk();
    expect((await newcomer.connect()).license.licensed).toBe(false);
    await newcomer.close();
    expect(await t.admin.setPolicy({ tenantId: tenant.id, policy: { reclaimAfterDays: 3 } })).toMatchObject({ reclaimAfterDays: 3 });
    // Offline for 2 days: not yet.
    await gw.redis.zadd(gw.keys.offlineHolders(tenant.id, 'cloud-server'), Date.now() - 2 * 86_400_000, stale.clientId);
    expect((await newcomer.connect()).license.licensed).toBe(false);
    await newcomer.close();
    // Offline for 4 days: reclaimed.
    await gw.redis.zadd(gw.keys.offlineHolders(tenant.id, 'cloud-server'), Date.now() - 4 * 86_400_000, stale.clientId);
    expect((await newcomer.connect()).license.licensed).toBe(true);
    await stale.connect();
    await stale.waitFor(() => stale.commands.some((c) => c.kind === 'stop'));
    expect(stale.commands.at(-1)).toMatchObject({ kind: 'stop', reason: 'RECLAIMED' });
    await Promise.all([stale.close(), newcomer.close()]);
  });

  it('C12: a non-persistent Client frees its license on disconnect when the policy says so', async () => {
    const tenant = await createTenant(gw.ctx, TECHNICIAN, 'VDI Ltd');
    await activatePool(gw.ctx, { workstation: 1 });
    await grantLicenses(gw.ctx, TECHNICIAN, tenant.id, 'workstation', 1);
    await t.admin.setPolicy({ tenantId: tenant.id, policy: { freeNonPersistentOnDisconnect: true } });
    const vdi = newAgent(gw.url, { tenantId: tenant.id, enrollmentToken: tenant.enrollmentToken, os: OS.windows, nonPersistent: true });
    await vdi.connect();
    const waiter = newAgent(gw.url, { tenantId: tenant.id, enrollmentToken: tenant.enrollmentToken, os: OS.windows });
    expect((await waiter.connect()).license.licensed).toBe(false);
    await vdi.close();
    await waiter.waitFor(() => waiter.monitoring);
    expect(await gw.redis.hget(gw.keys.client(tenant.id, vdi.clientId), 'type')).toBe('');
    await waiter.close();
  });

  it('A5 A6: every change is audited with actor and job, and events tell admin services', async () => {
    const a = await enrolledOffline(OS.macos);
    await t.admin.unassign({ tenantId: DEFAULT_TENANT, clientId: a.clientId, idempotencyKey: 'audit-unassign-1' });
    const lines = (await audit()).filter((e) => e.holder === a.clientId);
    expect(lines.map((e) => [e.action, e.before, e.after, e.actor, e.cause])).toEqual([
      ['assigned', '', 'workstation', 'system', 'hello'],
      ['unassigned', 'workstation', '', 'technician', 'job:audit-unassign-1'],
    ]);
    const events = await readEvents(gw.redis, gw.keys, DEFAULT_TENANT);
    const types = new Set(events.map((e) => e.type));
    for (const ty of ['license.assigned', 'license.unassigned', 'pool.exhausted', 'pool.usage', 'key.activated']) expect(types).toContain(ty);
    const usage = events.filter((e) => e.type === 'pool.usage').map((e) => e.data.percent);
    expect(usage).toEqual(expect.arrayContaining([85, 90, 99]));
  });
});
