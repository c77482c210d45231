import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admission } from '../../src/gateway/admission.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { WebSocket } from 'ws';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

describe('admission control', () => {
  it('C13: retry hints stay within [base, max] and spread wider as refusals pile up', () => {
    const a = new Admission({ maxHandshakes: 10, maxEnrollments: 5, maxConnections: 100, retryBaseMs: 1000, retryMaxMs: 30_000 });
    const now = 1_000_000;
    const first = Array.from({ length: 5 }, () => a.retryAfter(now));
    const later = Array.from({ length: 500 }, () => a.retryAfter(now));
    for (const h of [...first, ...later]) {
      expect(h).toBeGreaterThanOrEqual(1000);
      expect(h).toBeLessThanOrEqual(30_000);
    }
    expect(Math.max(...first)).toBeLessThanOrEqual(1000 + 1000 * 1.5);
    expect(Math.max(...later)).toBeGreaterThan(10_000); // the herd is spread over a wide window
    expect(new Set(later).size).toBeGreaterThan(400);
    const fixed = new Admission({ maxHandshakes: 1, maxEnrollments: 1, maxConnections: 1, retryBaseMs: 100, retryMaxMs: 100 }, () => 0.5);
    expect(fixed.retryAfter(now)).toBe(100);
  });

  it('C13: handshakes and enrollments in flight are bounded', () => {
    const a = new Admission({ maxHandshakes: 2, maxEnrollments: 1, maxConnections: 3, retryBaseMs: 10, retryMaxMs: 20 });
    expect(a.admitHello(true)).toBe(true);
    a.begin(true);
    expect(a.admitHello(true)).toBe(false);
    expect(a.admitHello(false)).toBe(true);
    a.begin(false);
    expect(a.admitHello(false)).toBe(false);
    a.end(true);
    expect(a.admitHello(true)).toBe(true);
    expect(a.admitConnection(3)).toBe(true);
    expect(a.admitConnection(4)).toBe(false);
    // Beyond it, MAX_HANDSHAKES more are served their Hello and then closed.
    expect(a.admitOverflow(5)).toBe(true);
    expect(a.admitOverflow(6)).toBe(false);
    // A full process hints a long wait: [max / 2, max].
    const full = Array.from({ length: 200 }, () => a.retryAfterFull());
    expect(Math.min(...full)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...full)).toBeLessThanOrEqual(20);
    expect(new Set(full).size).toBeGreaterThan(5);
  });

  it('C13: a Hello the queue cannot keep is told to come back about when the Hellos ahead of it are served', () => {
    const a = new Admission({ maxHandshakes: 10, maxEnrollments: 5, maxConnections: 100, retryBaseMs: 100, retryMaxMs: 30_000 }, () => 1);
    const t0 = 5_000_000; // a whole second
    expect(a.serviceRate(t0)).toBe(0);
    // No Hello served yet: the spread hint (base + random x window).
    expect(a.retryAfterQueued(t0, 5_000)).toBeLessThanOrEqual(100 + 100 * 2);
    for (let i = 0; i < 500; i++) a.end(false, t0 + 999); // 500 served in the second before
    const now = t0 + 1_000;
    expect(a.serviceRate(now)).toBe(500);
    // 2,000 ahead at 500/s: 4 s, jittered by up to a quarter (random() = 1 here: 5 s).
    expect(a.retryAfterQueued(now, 2_000)).toBe(5_000);
    expect(a.retryAfterQueued(now, 100_000)).toBe(30_000); // capped at retryMaxMs
    expect(a.serviceRate(now + 5_000)).toBe(0); // history older than two seconds is forgotten
  });

  describe('at connection capacity', () => {
    let gw: TestGateway;
    const sockets: WebSocket[] = [];
    beforeAll(async () => {
      gw = await startTestGateway({ pool: { linux: 3 }, gateway: { maxConnections: 5, maxHandshakes: 3, maxEnrollments: 3, retryBaseMs: 20, retryMaxMs: 40, heartbeatIntervalMs: 60_000 } });
    });
    afterAll(async () => {
      for (const ws of sockets) ws.terminate();
      await gw.stop();
    });

    it('C13: beyond MAX_CONNECTIONS an agent still gets its license state and credential, then OVERLOADED; beyond that it is refused before Hello', async () => {
      const holding = Array.from({ length: 5 }, () => newAgent(gw.url, { os: OS.linux }));
      for (const a of holding) await a.connect();
      expect(holding.filter((a) => a.monitoring)).toHaveLength(3);

      // Over capacity: served, told its state, closed with OVERLOADED and recorded offline.
      const over = newAgent(gw.url, { os: OS.linux });
      const welcome = await over.connect();
      expect(welcome.license).toMatchObject({ licensed: false, reason: 'NO_LICENSE_AVAILABLE' });
      expect(welcome.clientCredential).toBeTruthy();
      await over.waitFor(() => over.lastClose !== null);
      expect(over.lastError).toMatchObject({ code: 'OVERLOADED' });
      expect(over.lastError!.retryAfterMs).toBeGreaterThanOrEqual(20); // [max / 2, max] of 20..40 ms
      expect(over.lastClose?.code).toBe(1013);
      expect(await gw.redis.hget(gw.keys.client('default', over.clientId), 'status')).toBe('active');
      expect(await gw.redis.zscore(gw.keys.waiting('default', 'linux'), over.clientId)).not.toBeNull();
      await eventually(async () => (await gw.redis.hexists(gw.keys.online('default'), over.clientId)) === 0, 'the overflow agent is recorded offline');

      // The overflow slots (MAX_HANDSHAKES of them) taken by sockets that say nothing: the next
      // agent is refused before its Hello and nothing of it is written.
      for (let i = 0; i < 3; i++) {
        const ws = new WebSocket(gw.url);
        sockets.push(ws);
        await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
      }
      const refused = newAgent(gw.url, { os: OS.linux });
      await expect(refused.connect()).rejects.toMatchObject({ code: 'OVERLOADED' });
      expect(await gw.redis.exists(gw.keys.client('default', refused.clientId))).toBe(0);
      for (const ws of sockets.splice(0)) ws.terminate();

      // A holder leaves: the overflow agent comes back with its credential and stays.
      await holding[4]!.close();
      await eventually(() => gw.gateway.connectionCount === 4, 'the slot is free');
      const back = await over.connect();
      expect(back.clientCredential).toBeUndefined();
      // Still held: its Heartbeat is answered (an overflow close would have followed the Welcome).
      const acked = new Promise<void>((resolve) => over.once('heartbeat-ack', () => resolve()));
      over.sendHeartbeat();
      await acked;
      expect(over.connected).toBe(true);
      expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
      await Promise.all([...holding.slice(0, 4), over].map((a) => a.close()));
    });
  });

  describe('under a storm', () => {
    let gw: TestGateway;
    beforeAll(async () => {
      // A small Hello queue: the storm overflows it (a storm the queue absorbs: hello-queue.test.ts).
      gw = await startTestGateway({ pool: { workstation: 150, linux: 150 }, gateway: { maxHandshakes: 4, maxEnrollments: 2, helloQueueMax: 8, retryBaseMs: 20, retryMaxMs: 400, heartbeatIntervalMs: 60_000 } });
    });
    afterAll(() => gw.stop());

    it('C13: a storm beyond the limits and the Hello queue gets OVERLOADED with retry hints, and every agent ends up connected and licensed once', async () => {
      const agents = Array.from({ length: 300 }, (_, i) => newAgent(gw.url, { os: i % 2 ? OS.windows : OS.linux, reconnect: true, backoff: { baseMs: 20, capMs: 200 } }));
      const hints: number[] = [];
      for (const a of agents) a.on('error-frame', (e) => e.code === 'OVERLOADED' && hints.push(e.retryAfterMs));
      for (const a of agents) a.connect().catch(() => {}); // refused ones retry by themselves
      await Promise.all(agents.map((a) => a.waitFor(() => a.connected && a.monitoring, 20_000)));
      expect(hints.length).toBeGreaterThan(0);
      for (const h of hints) {
        expect(h).toBeGreaterThanOrEqual(20);
        expect(h).toBeLessThanOrEqual(400);
      }
      expect(gw.gateway.admission.refusedTotal).toBe(hints.length);
      expect(gw.gateway.admission.handshakes).toBe(0);
      // Refused only with the queue full: it filled, and never beyond its bound.
      expect(gw.gateway.hellos.peak).toBe(8);
      expect(gw.gateway.hellos.size).toBe(0);
      expect(await gw.redis.scard(gw.keys.holders('default', 'workstation'))).toBe(150);
      expect(await gw.redis.scard(gw.keys.holders('default', 'linux'))).toBe(150);
      // No license flapped: each was licensed by its Welcome, and no command followed.
      expect(agents.every((a) => a.license?.licensed === true && a.commands.length === 0)).toBe(true);
      expect(await checkInvariants(gw.redis, gw.keys)).toEqual({ ok: true, violations: [] });
      await Promise.all(agents.map((a) => a.close()));
    });
  });
});
