/**
 * Every retry is harmless (SPEC A3, F3): each admin job run twice with the same job id — a
 * BullMQ retry after a crash, or a caller's repeat after a lost reply — has exactly one effect
 * and returns the first result. Runs the worker's processor (processAdminJob) directly, so the
 * "first attempt" can be stopped at any point.
 */
import { Queue } from 'bullmq';
import type { AgentOs } from '../../agent-sim/agent.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvents } from '../../src/events/admin-events.ts';
import { processAdminJob } from '../../src/jobs/admin-worker.ts';
import type { JobName, JobPayload } from '../../src/jobs/contract.ts';
import { LedgerScheduler, SCHEDULER_QUEUE } from '../../src/jobs/scheduler.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import { listPamUsers } from '../../src/licensing/pam-seats.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { activateKeyStep, listSerialKeys } from '../../src/licensing/serial-key-ledger.ts';
import { listTenants } from '../../src/licensing/tenants.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { activatePool, mintKey } from '../helpers/ledger.ts';
import { openRedis } from '../helpers/redis.ts';

let gw: TestGateway;
let conn: RedisClient;
let scheduler: LedgerScheduler;
let ctx: LedgerContext;
beforeAll(async () => {
  gw = await startTestGateway({ gateway: { heartbeatIntervalMs: 60_000 } });
  conn = openRedis({ maxRetriesPerRequest: null });
  scheduler = new LedgerScheduler(conn, gw.keys.queuePrefix);
  ctx = { ...gw.ctx, scheduler };
  await activatePool(ctx, { linux: 2, workstation: 2, 'pam-seat': 2 }, { kind: 'perpetual', multiTenant: true });
});
afterAll(async () => {
  expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
  await scheduler.close();
  conn.disconnect();
  await gw.stop();
});

/** Runs a job's processor as the worker does. */
const run = <N extends JobName>(name: N, id: string, data: Omit<JobPayload<N>, 'actor'>) => processAdminJob(ctx, { name, id, data: { actor: TECHNICIAN, ...data } });
/** Runs a job twice with one id (the second is the retry after a lost reply); both results. */
async function twice<N extends JobName>(name: N, id: string, data: Omit<JobPayload<N>, 'actor'>): Promise<[unknown, unknown]> {
  const first = await run(name, id, data);
  return [first, await run(name, id, data)];
}
async function audit(tenant = DEFAULT_TENANT): Promise<Record<string, string>[]> {
  const entries = (await gw.redis.xrange(gw.keys.audit(tenant), '-', '+')) as [string, string[]][];
  return entries.map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]!]]))));
}
const linesOf = async (cause: string, tenant = DEFAULT_TENANT) => (await audit(tenant)).filter((e) => e.cause === cause).map((e) => `${e.action} ${e.holder}`);
async function enrolledOffline(os: AgentOs): Promise<string> {
  const a = newAgent(gw.url, { os });
  await a.connect();
  await a.close();
  await eventually(async () => (await gw.redis.hexists(gw.keys.online(DEFAULT_TENANT), a.clientId)) === 0, 'the Client is recorded offline');
  return a.clientId;
}

describe('retried admin jobs', () => {
  it('F3 S2: serial.activate retried after its Lua step still ends the trials, schedules expiry and emits key.activated once; it returns the first result', async () => {
    const trial = await activatePool(ctx, { 'infrastructure-server': 1 }, { kind: 'trial' });
    const key = mintKey({ 'infrastructure-server': 1 }, { kind: 'subscription' });
    const keyId = (await activateKeyStep(ctx, TECHNICIAN, key, 'job:act-1', 'job:act-1')).keyId; // the first attempt crashed here
    const first = await run('serial.activate', 'act-1', { key });
    expect(first).toEqual({ keyId, status: 'ACTIVATED', expiredTrials: [trial] });
    expect(await run('serial.activate', 'act-1', { key })).toEqual(first);
    expect((await listSerialKeys(ctx)).find((k) => k.payload.keyId === trial)?.status).toBe('expired');
    const queue = new Queue(SCHEDULER_QUEUE, { connection: conn, prefix: gw.keys.queuePrefix });
    expect((await queue.getJob(`expire-${keyId}`))?.name).toBe('serial.expire');
    await queue.close();
    const activated = (await readEvents(gw.redis, gw.keys, DEFAULT_TENANT)).filter((e) => e.type === 'key.activated' && e.data.keyId === keyId);
    expect(activated).toHaveLength(1);
    expect(activated[0]!.data).toMatchObject({ keyId, kind: 'subscription', licenses: { 'infrastructure-server': 1 } });
  });

  it('F3 T1: tenant.create retried makes one tenant, and finishes one a crash left half-built', async () => {
    const [a, b] = await twice('tenant.create', 'tc-1', { name: 'Retry Corp' });
    expect(b).toEqual(a);
    expect(a).toMatchObject({ id: 'retry-corp', name: 'Retry Corp' });
    expect((await listTenants(ctx)).map((t) => t.id).filter((id) => id.startsWith('retry-corp'))).toEqual(['retry-corp']);

    // The first attempt claimed the id and crashed before the tenant existed.
    await gw.redis.hset(gw.keys.tenantClaims(), 'half-built', 'job:tc-2');
    const [c, d] = await twice('tenant.create', 'tc-2', { name: 'Half Built' });
    expect(c).toMatchObject({ id: 'half-built', name: 'Half Built', enrollmentToken: expect.any(String) });
    expect(d).toEqual(c);
    expect((await listTenants(ctx)).map((t) => t.id).filter((id) => id.startsWith('half-built'))).toEqual(['half-built']);
    // Another job cannot take a claimed id (another name: one tenant per name, issue 12).
    expect(await run('tenant.create', 'tc-3', { name: 'Half-Built' })).toMatchObject({ id: 'half-built-2' });
  });

  it('F3 C6: client.assign retried after a lost reply returns the first result; one audit line', async () => {
    const id = await enrolledOffline(OS.windows);
    await run('client.unassign', 'prep-unassign-1', { tenantId: DEFAULT_TENANT, clientId: id });
    const [a, b] = await twice('client.assign', 'assign-1', { tenantId: DEFAULT_TENANT, clientId: id });
    expect(a).toMatchObject({ clientId: id, license: 'workstation' });
    expect(b).toEqual(a);
    expect(await linesOf('job:assign-1')).toEqual([`assigned ${id}`]);
  });

  it('F3 C7: client.unassign retried returns the first result, with the Client it promoted; one audit line each', async () => {
    const holder = await enrolledOffline(OS.linux);
    await enrolledOffline(OS.linux);
    const waiter = await enrolledOffline(OS.linux); // the pool holds 2: this one waits
    const [a, b] = await twice('client.unassign', 'unassign-1', { tenantId: DEFAULT_TENANT, clientId: holder });
    expect(a).toMatchObject({ clientId: holder, license: null, reason: 'UNASSIGNED_BY_ADMIN', promoted: [waiter] });
    expect(b).toEqual(a);
    expect(await linesOf('job:unassign-1')).toEqual([`unassigned ${holder}`, `assigned ${waiter}`]);
  });

  it('F3 P1: user.create, pam.assign and pam.unassign retried return the first result and act once', async () => {
    const [u1, u2] = await twice('user.create', 'user-1', { tenantId: DEFAULT_TENANT, name: 'Grace Hopper' });
    expect(u2).toEqual(u1);
    expect((await listPamUsers(ctx, DEFAULT_TENANT)).filter((u) => u.name === 'Grace Hopper')).toHaveLength(1);
    const userId = (u1 as { id: string }).id;
    const [a1, a2] = await twice('pam.assign', 'seat-1', { tenantId: DEFAULT_TENANT, userId });
    expect(a1).toEqual({ userId, seat: true, changed: true });
    expect(a2).toEqual(a1);
    const [r1, r2] = await twice('pam.unassign', 'seat-2', { tenantId: DEFAULT_TENANT, userId });
    expect(r1).toEqual({ userId, seat: false, changed: true });
    expect(r2).toEqual(r1);
    expect(await linesOf('job:seat-1')).toEqual([`assigned ${userId}`]);
    expect(await linesOf('job:seat-2')).toEqual([`unassigned ${userId}`]);
  });

  it('F3 C11: policy.set retried after a later change returns the first result and does not undo the change', async () => {
    const first = await run('policy.set', 'policy-1', { tenantId: DEFAULT_TENANT, policy: { reclaimAfterDays: 3 } });
    expect(first).toMatchObject({ reclaimAfterDays: 3 });
    expect(await run('policy.set', 'policy-2', { tenantId: DEFAULT_TENANT, policy: { reclaimAfterDays: 0 } })).toMatchObject({ reclaimAfterDays: 0 });
    expect(await run('policy.set', 'policy-1', { tenantId: DEFAULT_TENANT, policy: { reclaimAfterDays: 3 } })).toEqual(first);
    expect(await gw.redis.hget(gw.keys.tenant(DEFAULT_TENANT), 'reclaimAfterDays')).toBe('0');
  });

  it('F3 T1 T4: tenant.grant and tenant.takeBack retried return the first result and move licenses once', async () => {
    await run('tenant.create', 'tc-grant', { name: 'Grantee' });
    const [g1, g2] = await twice('tenant.grant', 'grant-1', { tenantId: 'grantee', type: 'pam-seat', count: 1 });
    expect(g2).toEqual(g1);
    const [t1, t2] = await twice('tenant.takeBack', 'takeback-1', { tenantId: 'grantee', type: 'pam-seat', count: 1 });
    expect(t2).toEqual(t1);
    expect(await linesOf('grant:grant-1', 'grantee')).toEqual(['granted-in ']);
    expect(await linesOf('takeback:takeback-1', 'grantee')).toEqual(['taken-back ']);
  });

  it('F3 C8: client.uninstall retried returns the first result, with the Client it promoted', async () => {
    const id = await enrolledOffline(OS.windows); // takes the last workstation license
    const waiter = await enrolledOffline(OS.windows);
    const [a, b] = await twice('client.uninstall', 'uninstall-1', { tenantId: DEFAULT_TENANT, clientId: id });
    expect(a).toMatchObject({ clientId: id, status: 'uninstalled', promoted: [waiter] });
    expect(b).toEqual(a);
  });

  it('F3 S4: serial.remove retried returns the first result', async () => {
    const keyId = await activatePool(ctx, { 'cloud-server': 1 });
    const client = newAgent(gw.url, { os: OS.cloudServer });
    await client.connect();
    await client.close();
    const [a, b] = await twice('serial.remove', 'remove-1', { keyId });
    expect(a).toEqual({ keyId, lost: 1 });
    expect(b).toEqual(a);
  });
});
