/**
 * Admin uninstall reaches the agent (SPEC C8, F4): an online Client gets Command{uninstall}
 * and, once it acknowledges it (or after a grace of two heartbeat intervals), is closed with
 * UNINSTALLED and recorded offline; an offline Client is served the queued Uninstall at its
 * next connect with its (revoked) credential, never an endless AUTH_FAILED loop. Nothing is
 * revealed to a wrong credential.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, type AgentOptions } from '../../agent-sim/agent.ts';
import { uninstallClient } from '../../src/licensing/client-admin.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, QUIET_NODE, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { snapshot } from '../helpers/snapshot.ts';

const HEARTBEAT_MS = 300;
let gw: TestGateway;
beforeAll(async () => {
  // The failed-auth audit (Z3, test/auth/identity-audit.test.ts) writes after the file ends, not inside a snapshot comparison.
  gw = await startTestGateway({ pool: { linux: 20 }, gateway: { heartbeatIntervalMs: HEARTBEAT_MS, lastSeenFlushMs: 100, ...QUIET_NODE, authAuditWindowMs: 3_600_000 } });
});
afterAll(() => gw.stop());

const uninstall = (id: string) => uninstallClient(gw.ctx, TECHNICIAN, DEFAULT_TENANT, id);
const isOnline = async (id: string) => (await gw.redis.hexists(gw.keys.online(DEFAULT_TENANT), id)) === 1;
const client = (id: string) => gw.redis.hgetall(gw.keys.client(DEFAULT_TENANT, id));

/** A licensed agent that enrolled, then went away. */
async function offlineAgent(): Promise<Agent> {
  const a = newAgent(gw.url, { os: OS.linux });
  await a.connect();
  await a.waitFor(() => a.monitoring);
  await a.close();
  await eventually(async () => !(await isOnline(a.clientId)), 'agent recorded offline');
  return a;
}

/** The same agent coming back with its credential, reconnecting on its own with a short backoff. */
function returning(a: Agent, extra: Partial<AgentOptions> = {}): { agent: Agent; attempts: () => number } {
  const agent = new Agent({ url: gw.url, clientId: a.clientId, credential: a.credential!, os: OS.linux, lastAckedSeq: a.lastAckedSeq, reconnect: true, backoff: { baseMs: 20, capMs: 50 }, ...extra });
  let n = 0;
  agent.on('connecting', () => n++);
  return { agent, attempts: () => n };
}

/** Proves the agent stays away: with a 20-50 ms backoff a reconnecting agent would try ~10 times in this window. */
async function expectNoReconnect(attempts: () => number, seen: number): Promise<void> {
  const until = Date.now() + 600;
  await eventually(() => attempts() > seen || Date.now() > until, 'reconnect window', 2000);
  expect(attempts()).toBe(seen);
}

describe('offline uninstall (F4)', () => {
  it('F4 C8: an agent uninstalled while offline is served the queued Uninstall at its next connect, acks it, is closed with UNINSTALLED and stays away', async () => {
    const a = await offlineAgent();
    await uninstall(a.clientId);
    const { agent, attempts } = returning(a);
    const welcome = await agent.connect();
    expect(welcome.license).toMatchObject({ licensed: false, reason: 'UNINSTALLED' });
    await agent.waitFor(() => agent.lastClose !== null, 5000);
    expect(agent.commands.map((c) => [c.kind, c.duplicate])).toEqual([['stop', false], ['uninstall', false]]);
    expect(agent.uninstalled).toBe(true);
    expect(agent.monitoring).toBe(false);
    expect(agent.lastError?.code).toBe('UNINSTALLED');
    expect(agent.lastClose?.code).toBe(1000);
    await eventually(async () => !(await isOnline(a.clientId)), 'uninstalled agent recorded offline');
    expect(await client(a.clientId)).toMatchObject({ status: 'uninstalled', credHash: '' });
    await expectNoReconnect(attempts, 1);
    // A copy of the agent with the same credential (a VM restored from a snapshot) is told it
    // was uninstalled, never AUTH_FAILED.
    const copy = new Agent({ url: gw.url, clientId: a.clientId, credential: a.credential!, lastAckedSeq: 0, os: OS.linux });
    await expect(copy.connect()).rejects.toMatchObject({ code: 'CLIENT_UNINSTALLED' });
  });

  it('F4: a wrong credential for an uninstalled Client is AUTH_FAILED and changes nothing', async () => {
    const a = await offlineAgent();
    await uninstall(a.clientId);
    const before = await snapshot(gw.redis, gw.keys.prefix);
    const impostor = new Agent({ url: gw.url, clientId: a.clientId, credential: 'not-the-credential-of-this-client', os: OS.linux });
    await expect(impostor.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(impostor.commands).toEqual([]);
    expect(await snapshot(gw.redis, gw.keys.prefix)).toEqual(before);
    // The real agent still learns it afterwards.
    const { agent } = returning(a);
    await agent.connect();
    await agent.waitFor(() => agent.uninstalled && agent.lastClose !== null, 5000);
  });

  it('F4: an agent that applied the Uninstall but whose ack was lost gets CLIENT_UNINSTALLED and stays away', async () => {
    const a = await offlineAgent();
    await uninstall(a.clientId);
    const uninstallSeq = Number((await client(a.clientId)).seq);
    const { agent, attempts } = returning(a, { lastAckedSeq: uninstallSeq });
    await expect(agent.connect()).rejects.toMatchObject({ code: 'CLIENT_UNINSTALLED' });
    expect(agent.lastClose?.code).toBe(4410);
    expect(agent.uninstalled).toBe(true);
    expect(await isOnline(a.clientId)).toBe(false);
    await expectNoReconnect(attempts, 1);
  });

  it('F4 C8: an agent that answers the replayed Uninstall with UninstallNotice is closed and recorded offline', async () => {
    const a = await offlineAgent();
    await uninstall(a.clientId);
    const agent = new Agent({ url: gw.url, clientId: a.clientId, credential: a.credential!, os: OS.linux, autoAck: false });
    await agent.connect();
    await agent.waitFor(() => agent.commands.some((c) => c.kind === 'uninstall'));
    agent.sendUninstallNotice();
    await agent.waitFor(() => agent.lastClose !== null, 5000);
    expect(agent.lastError?.code).toBe('UNINSTALLED');
    await eventually(async () => !(await isOnline(a.clientId)), 'recorded offline');
  });
});

describe('online uninstall (C8)', () => {
  it('C8: an admin-uninstalled online Client gets Uninstall, acks, is closed with UNINSTALLED, leaves the online hash and does not reconnect', async () => {
    const a = newAgent(gw.url, { os: OS.linux, reconnect: true, backoff: { baseMs: 20, capMs: 50 } });
    let attempts = 0;
    a.on('connecting', () => attempts++);
    await a.connect();
    await a.waitFor(() => a.monitoring);
    expect(await isOnline(a.clientId)).toBe(true);
    await uninstall(a.clientId);
    await a.waitFor(() => a.commands.some((c) => c.kind === 'uninstall'), 5000);
    await a.waitFor(() => a.lastClose !== null, 5000);
    expect(a.lastError?.code).toBe('UNINSTALLED');
    expect(a.lastClose?.code).toBe(1000);
    expect(a.uninstalled).toBe(true);
    await eventually(async () => !(await isOnline(a.clientId)), 'online hash no longer lists it');
    // Last seen stops advancing once it is gone.
    const seen = (await client(a.clientId)).lastSeen;
    await expectNoReconnect(() => attempts, 1);
    expect((await client(a.clientId)).lastSeen).toBe(seen);
  });

  it('C8: an online Client that never acks its Uninstall is closed with UNINSTALLED after two heartbeat intervals, and is told again next time', async () => {
    const a = newAgent(gw.url, { os: OS.linux, autoAck: false });
    await a.connect();
    await a.waitFor(() => a.monitoring);
    await uninstall(a.clientId);
    await a.waitFor(() => a.commands.some((c) => c.kind === 'uninstall'), 5000);
    const sentAt = Date.now();
    await a.waitFor(() => a.lastClose !== null, 10 * HEARTBEAT_MS + 5000);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(2 * HEARTBEAT_MS - 50);
    expect(a.lastError?.code).toBe('UNINSTALLED');
    await eventually(async () => !(await isOnline(a.clientId)), 'recorded offline after the grace');
    // It never acknowledged: the Uninstall is still owed to it, and only to its credential.
    const again = new Agent({ url: gw.url, clientId: a.clientId, credential: a.credential!, os: OS.linux });
    await again.connect();
    await again.waitFor(() => again.uninstalled && again.lastClose !== null, 5000);
    expect(again.commands.filter((c) => c.kind === 'uninstall')).toHaveLength(1);
  });
});
