/**
 * SPEC C13 with the Hello queue (src/gateway/hello-queue.ts): a herd beyond MAX_HANDSHAKES /
 * MAX_ENROLLMENTS waits in the gateway and is served without OVERLOADED; the queue is bounded
 * by size and by wait; a socket closed while queued leaves nothing behind.
 *
 * To hold handshake slots on purpose, the tests block the gateway's own Redis connection with a
 * BLPOP on a key nobody pushes (Redis answers a connection's commands in order, so every
 * Hello script sent after it waits): only this gateway stalls, the shared redis-server does not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { connectRedis } from '../helpers/redis.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';

let gw: TestGateway | undefined;
let probe: RedisClient | undefined;
let fleet: Agent[] = [];

afterEach(async () => {
  await Promise.all(fleet.map((a) => a.close().catch(() => {})));
  fleet = [];
  probe?.disconnect();
  probe = undefined;
  await gw?.stop();
  gw = undefined;
});

/** Blocks the gateway's Redis connection for `seconds` (BLPOP on a key nobody pushes). */
function stallGatewayRedis(g: TestGateway, seconds: number): Promise<unknown> {
  return g.redis.blpop(g.keys.prefix + ':test:never', seconds);
}

function overloadedHints(agents: Agent[]): number[] {
  const hints: number[] = [];
  for (const a of agents) a.on('error-frame', (e) => e.code === 'OVERLOADED' && hints.push(e.retryAfterMs));
  return hints;
}

describe('hello queue', () => {
  it('C13: a herd of 300 first connects, then 300 reconnects, all at once against MAX_HANDSHAKES=2 are every one served with 0 OVERLOADED', async () => {
    // Waits far longer than the herd needs, even on a loaded machine: this test is about the
    // queue absorbing the herd, not about its time bound (tested below).
    gw = await startTestGateway({ pool: { workstation: 150, linux: 150 }, gateway: { maxHandshakes: 2, maxEnrollments: 2, helloQueueWaitMs: 90_000, heartbeatIntervalMs: 60_000 } });
    const g = gw;
    fleet = Array.from({ length: 300 }, (_, i) => newAgent(g.url, { os: i % 2 ? OS.windows : OS.linux, handshakeTimeoutMs: 100_000 }));
    const hints = overloadedHints(fleet);
    await Promise.all(fleet.map((a) => a.connect()));
    await Promise.all(fleet.map((a) => a.waitFor(() => a.monitoring, 60_000)));
    expect(hints).toEqual([]);
    expect(g.gateway.admission.refusedTotal).toBe(0);
    expect(g.gateway.hellos.peak).toBeGreaterThan(2); // they did wait
    expect(g.gateway.hellos.size).toBe(0);
    expect(g.gateway.admission.handshakes).toBe(0);

    // The reconnect herd: everyone leaves and comes back with its credential at once.
    await Promise.all(fleet.map((a) => a.close()));
    await eventually(async () => (await g.redis.hlen(g.keys.online('default'))) === 0, 'everyone recorded offline');
    const queuedBefore = g.gateway.hellos.queuedTotal;
    const welcomes = await Promise.all(fleet.map((a) => a.connect()));
    expect(welcomes.every((w) => w.license.licensed && w.clientCredential === undefined)).toBe(true);
    expect(hints).toEqual([]);
    expect(g.gateway.hellos.queuedTotal - queuedBefore).toBeGreaterThan(2);
    expect(await g.redis.hlen(g.keys.online('default'))).toBe(300);
    expect(await g.redis.scard(g.keys.holders('default', 'workstation'))).toBe(150);
    expect(await g.redis.scard(g.keys.holders('default', 'linux'))).toBe(150);
    expect(await checkInvariants(g.redis, g.keys)).toEqual({ ok: true, violations: [] });
  });

  it('C13: with a tiny HELLO_QUEUE_MAX the excess gets OVERLOADED with a spread retry hint, and after retrying every agent is licensed once', async () => {
    gw = await startTestGateway({ pool: { workstation: 100, linux: 50 }, gateway: { maxHandshakes: 2, maxEnrollments: 1, helloQueueMax: 3, retryBaseMs: 20, retryMaxMs: 400, heartbeatIntervalMs: 60_000 } });
    const g = gw;
    fleet = Array.from({ length: 200 }, (_, i) => newAgent(g.url, { os: i % 2 ? OS.windows : OS.linux, reconnect: true, backoff: { baseMs: 20, capMs: 200 } }));
    const hints = overloadedHints(fleet);
    for (const a of fleet) a.connect().catch(() => {}); // refused ones retry by themselves
    await Promise.all(fleet.map((a) => a.waitFor(() => a.connected && a.license !== null, 60_000)));
    expect(hints.length).toBeGreaterThan(0);
    for (const h of hints) {
      expect(h).toBeGreaterThanOrEqual(20);
      expect(h).toBeLessThanOrEqual(400);
    }
    expect(g.gateway.admission.refusedTotal).toBe(hints.length);
    expect(g.gateway.hellos.peak).toBe(3);
    // Nothing lost: 150 licensed (monitoring), the 50 linux agents beyond the pool waiting.
    await Promise.all(fleet.filter((a) => a.license?.licensed).map((a) => a.waitFor(() => a.monitoring, 10_000)));
    expect(fleet.filter((a) => a.license?.licensed)).toHaveLength(150);
    expect(fleet.filter((a) => a.license?.reason === 'NO_LICENSE_AVAILABLE')).toHaveLength(50);
    expect(await g.redis.zcard(g.keys.waiting('default', 'linux'))).toBe(50);
    expect(await g.redis.hlen(g.keys.online('default'))).toBe(200);
    expect(await checkInvariants(g.redis, g.keys)).toEqual({ ok: true, violations: [] });
  });

  it('C13: a socket closed while its Hello is queued leaves the queue and no record; a queued Hello past HELLO_QUEUE_WAIT_MS gets OVERLOADED', async () => {
    gw = await startTestGateway({ pool: { workstation: 10 }, gateway: { maxHandshakes: 1, maxEnrollments: 1, helloQueueWaitMs: 600, retryBaseMs: 50, retryMaxMs: 500, heartbeatIntervalMs: 60_000 } });
    const g = gw;
    probe = await connectRedis();
    const p = probe;
    const stalled = stallGatewayRedis(g, 4); // Hello scripts from now on wait ~4 s
    const first = newAgent(g.url);
    const quitter = newAgent(g.url);
    const patient = newAgent(g.url);
    fleet = [first, quitter, patient];
    const firstWelcome = first.connect();
    await eventually(() => g.gateway.admission.handshakes === 1, 'the first Hello holds the only slot');
    const quitterDone = quitter.connect().catch((err: unknown) => err);
    await eventually(() => g.gateway.hellos.size === 1, 'the second Hello is queued');
    quitter.terminate();
    await eventually(() => g.gateway.hellos.size === 0, 'the closed socket left the queue');
    await quitterDone;

    // Queued longer than HELLO_QUEUE_WAIT_MS (while the slot is still held): OVERLOADED, not HELLO_TIMEOUT.
    const hints = overloadedHints([patient]);
    const t0 = Date.now();
    await expect(patient.connect()).rejects.toMatchObject({ code: 'OVERLOADED' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
    expect(hints).toHaveLength(1);
    expect(hints[0]).toBeGreaterThanOrEqual(50);
    expect(hints[0]).toBeLessThanOrEqual(500);
    expect(g.gateway.hellos.expiredTotal).toBe(1);
    expect(g.gateway.admission.handshakes).toBe(1); // the first one is still waiting for Redis

    await stalled;
    expect((await firstWelcome).license.licensed).toBe(true);
    const online = await p.hkeys(g.keys.online('default'));
    expect(online).toEqual([first.clientId]);
    expect(await p.exists(g.keys.client('default', quitter.clientId))).toBe(0);
    expect(await p.exists(g.keys.client('default', patient.clientId))).toBe(0);
    // The refused agent comes back after its hint and is served.
    expect((await patient.connect()).license.licensed).toBe(true);
  });
});
