import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent-sim/agent.ts';
import { newAgent, OS, rawExchange } from '../helpers/agents.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const HEARTBEAT_MS = 200;
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ pool: { workstation: 50 }, gateway: { heartbeatIntervalMs: HEARTBEAT_MS, helloTimeoutMs: 300, lastSeenFlushMs: 100 } });
});
afterAll(() => gw.stop());

const online = (id: string) => gw.redis.hget(gw.keys.online('default'), id);
const lastSeen = async (id: string) => Number(await gw.redis.hget(gw.keys.client('default', id), 'lastSeen'));

describe('presence', () => {
  it('C4: a connected Client is online; a clean close marks it offline at once with its last-seen', async () => {
    const agent = newAgent(gw.url);
    await agent.connect();
    expect(await online(agent.clientId)).toMatch(new RegExp(`^${gw.gateway.nodeId}:\\d+$`));
    const before = Date.now();
    await agent.close();
    await eventually(async () => (await online(agent.clientId)) === null, 'offline after close');
    expect(await lastSeen(agent.clientId)).toBeGreaterThanOrEqual(before);
  });

  it('C4: heartbeats keep a connection alive and refresh last-seen in batches', async () => {
    const agent = newAgent(gw.url);
    await agent.connect();
    const first = await lastSeen(agent.clientId);
    let acks = 0;
    agent.on('heartbeat-ack', () => acks++);
    // Five heartbeat intervals: far beyond the two-interval timeout, so only heartbeats keep it.
    await agent.waitFor(() => acks >= 5, 10 * HEARTBEAT_MS);
    expect(agent.connected).toBe(true);
    await eventually(async () => (await lastSeen(agent.clientId)) > first, 'last-seen refreshed by the batch flush');
    await agent.close();
  });

  it('C4: a silent connection is dropped within two heartbeat intervals and marked offline', async () => {
    const agent = newAgent(gw.url, { heartbeat: false });
    await agent.connect();
    const connectedAt = Date.now();
    await agent.waitFor(() => agent.lastClose !== null, 10 * HEARTBEAT_MS);
    expect(agent.lastError?.code).toBe('HEARTBEAT_TIMEOUT');
    expect(agent.lastClose?.code).toBe(4408);
    // Two intervals plus the sweep granularity (a quarter interval) and scheduling slack.
    expect(Date.now() - connectedAt).toBeLessThan(2 * HEARTBEAT_MS + HEARTBEAT_MS / 4 + 400);
    await eventually(async () => (await online(agent.clientId)) === null, 'offline after heartbeat timeout');
  });

  it('C1: no Hello within the timeout is HELLO_TIMEOUT', async () => {
    const outcome = await rawExchange(gw.url, []);
    expect(outcome.errors.map((e) => e.code)).toEqual(['HELLO_TIMEOUT']);
    expect(outcome.closeCode).toBe(4408);
  });

  it('C5: a second valid connection replaces the first, which gets SUPERSEDED', async () => {
    const first = newAgent(gw.url);
    await first.connect();
    const second = new Agent({ url: gw.url, clientId: first.clientId, credential: first.credential!, os: OS.windows });
    await second.connect();
    await first.waitFor(() => first.lastClose !== null);
    expect(first.lastError?.code).toBe('SUPERSEDED');
    expect(first.lastClose?.code).toBe(4000);
    // The superseded connection's close does not mark the Client offline.
    const conn = await online(first.clientId);
    expect(conn).not.toBeNull();
    await new Promise((r) => setTimeout(r, 50));
    expect(await online(first.clientId)).toBe(conn);
    expect(second.connected).toBe(true);
    await second.close();
    await eventually(async () => (await online(first.clientId)) === null, 'offline after the second closes');
  });

  it('C5: a reconnecting agent that supersedes itself many times leaves exactly one connection online', async () => {
    const base = newAgent(gw.url);
    await base.connect();
    await base.close();
    const copies = Array.from({ length: 10 }, () => new Agent({ url: gw.url, clientId: base.clientId, credential: base.credential!, os: OS.windows }));
    const results = await Promise.allSettled(copies.map((a) => a.connect()));
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(0);
    await eventually(() => copies.filter((a) => a.connected).length === 1, 'exactly one copy stays connected');
    const survivor = copies.find((a) => a.connected)!;
    await survivor.sendHeartbeat();
    await new Promise<void>((resolve) => survivor.once('heartbeat-ack', () => resolve()));
    expect(await gw.redis.hexists(gw.keys.online('default'), base.clientId)).toBe(1);
    await survivor.close();
  });
});
