/**
 * SPEC X4 with real processes: `licensegate serve` told SIGTERM leaves the balancer's rotation
 * (`/readyz` 503) at once, waits DRAIN_NOTICE_MS, then hands its agents to another gateway in
 * slices over DRAIN_SECONDS — SHUTTING_DOWN with a jittered retry hint, recorded offline as an
 * ordinary disconnect — with zero license changes; SIGINT or a second signal stops at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { licenseDiff, licenseSnapshot } from '../../bench/lib/ledger-snapshot.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { setTenantPolicy } from '../../src/licensing/client-admin.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually, TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { connectRedis, redisEnv, uniquePrefix } from '../helpers/redis.ts';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connectRedis();
});
afterAll(() => redis.disconnect());

async function deployment(licenses: number): Promise<{ keys: Keys; env: Record<string, string> }> {
  const prefix = uniquePrefix('drain');
  const keys = new Keys(prefix, `{${prefix}}`);
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  await activatePool(ledgerContext(redis, keys), { workstation: licenses });
  return { keys, env: { ...redisEnv(), KEY_PREFIX: prefix, QUEUE_PREFIX: `{${prefix}}`, ENROLLMENT_TOKEN: TEST_TOKEN } };
}

const readyz = (gw: GatewayProcess) => fetch(`${gw.healthUrl}/readyz`).then((r) => r.status, () => 0);

/** Polls `/readyz` until it answers 503; resolves with the time it first did. */
async function notReadyAt(gw: GatewayProcess, timeoutMs = 5000): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if ((await readyz(gw)) === 503) return Date.now();
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`/readyz of ${gw.nodeId} still not 503 after ${timeoutMs} ms`);
}

/** Generous: on the shared box several processes start at once under a high load. */
const READY_MS = 60_000;
const start = (env: Record<string, string>) => startGatewayProcess(env, READY_MS);

/** Resolves with the exit code, or rejects when the process is still running after ms. */
async function exitWithin(gw: GatewayProcess, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${gw.nodeId} still running ${ms} ms later:\n${gw.output().slice(-2000)}`)), ms)));
  return Promise.race([gw.exited, late]).finally(() => clearTimeout(timer));
}

/** Per agent: when A closed it, the hint it got, when it tried again and when B welcomed it. */
interface Handover { closedAt: number; hintMs: number; retriedAt: number; welcomedAt: number; url: string }

function watch(agent: Agent): Partial<Handover> {
  const h: Partial<Handover> = {};
  agent.on('error-frame', (e) => {
    if (e.code === 'SHUTTING_DOWN' && h.hintMs === undefined) h.hintMs = e.retryAfterMs;
  });
  agent.on('close', () => (h.closedAt ??= Date.now()));
  agent.on('connecting', () => {
    if (h.closedAt !== undefined) h.retriedAt ??= Date.now();
  });
  agent.on('welcome', () => {
    if (h.closedAt !== undefined && h.welcomedAt === undefined) {
      h.welcomedAt = Date.now();
      h.url = agent.socketUrl ?? '';
    }
  });
  return h;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

/** Largest number of times falling into one bucket of `ms`. */
function peakPerBucket(times: number[], ms: number): number {
  const buckets = new Map<number, number>();
  for (const t of times) buckets.set(Math.floor(t / ms), (buckets.get(Math.floor(t / ms)) ?? 0) + 1);
  return Math.max(...buckets.values());
}

/** Times of the `agent online` debug lines a gateway logged after `since`: the Hellos it served. */
function onlineTimes(output: string, since: number): number[] {
  return output
    .split('\n')
    .filter((line) => line.includes('"msg":"agent online"'))
    .map((line) => Number(/"time":(\d+)/.exec(line)?.[1]))
    .filter((t) => t >= since);
}

describe('graceful drain of a gateway process (SIGTERM)', () => {
  it('X4: 300 agents move from A to B in slices over DRAIN_SECONDS: /readyz 503 first, hints honoured, zero license changes, A exits 0', async () => {
    const N = 300;
    const NOTICE_MS = 300;
    const WINDOW_MS = 2000;
    const { keys, env } = await deployment(250); // 50 agents stay unlicensed: nothing may promote them
    const [a, b] = await Promise.all([
      start({ ...env, DRAIN_SECONDS: String(WINDOW_MS / 1000), DRAIN_NOTICE_MS: String(NOTICE_MS) }),
      start({ ...env, LOG_LEVEL: 'debug' }), // its 'agent online' lines time the handshakes it served
    ]);
    const agents = Array.from({ length: N }, () => newAgent(a!.url, { urls: [a!.url, b!.url], os: OS.windows, reconnect: true }));
    try {
      await Promise.all(agents.map((x) => x.connect()));
      expect(agents.every((x) => x.socketUrl === a!.url)).toBe(true);
      const licenseBefore = agents.map((x) => x.lastWelcome!.license);
      expect(licenseBefore.filter((l) => l.licensed)).toHaveLength(250);
      const before = await licenseSnapshot(redis, keys);
      const handovers = agents.map(watch);

      expect(await readyz(a!)).toBe(200); // also warms the HTTP client: the poll below measures the gateway
      const signalledAt = Date.now();
      a!.signal('SIGTERM');
      const readyzFailedAt = await notReadyAt(a!);
      await eventually(() => agents.every((x) => x.connected && x.socketUrl === b!.url), 'every agent welcomed by B', 20_000);
      expect(await exitWithin(a!, NOTICE_MS + WINDOW_MS + 10_000)).toBe(0);
      const exitedAt = Date.now();

      const hs = handovers as Handover[];
      const closes = hs.map((h) => h.closedAt);
      // Out of rotation before anyone was closed, and the notice was kept.
      expect(Math.min(...closes)).toBeGreaterThan(readyzFailedAt);
      expect(Math.min(...closes) - signalledAt).toBeGreaterThanOrEqual(NOTICE_MS - 50);
      // Spread over the window (10 slices of 200 ms), not one herd: the closes span most of it
      // and no 200 ms bucket holds half the fleet (a starved test process sees a few slices at
      // once; a stop closes all of them in one).
      expect(Math.max(...closes) - Math.min(...closes)).toBeGreaterThanOrEqual(WINDOW_MS / 2);
      expect(peakPerBucket(closes, 200)).toBeLessThanOrEqual(N / 2);
      // Each got a small jittered hint and waited at least that long before trying B.
      const hints = hs.map((h) => h.hintMs);
      expect(hints.every((ms) => ms >= 1 && ms <= 1000)).toBe(true);
      expect(new Set(hints).size).toBeGreaterThan(N / 10);
      expect(hs.every((h) => h.retriedAt - h.closedAt >= h.hintMs - 2)).toBe(true);
      expect(hs.every((h) => h.url === b!.url)).toBe(true);

      // Zero license changes: same license per agent, same holders, no audit entry.
      expect(agents.map((x) => x.lastWelcome!.license)).toEqual(licenseBefore);
      const diff = await licenseDiff(redis, keys, before, await licenseSnapshot(redis, keys));
      expect(diff).toMatchObject({ auditEntries: 0, holdersAdded: 0, holdersRemoved: 0, changes: 0 });
      const online = await redis.hgetall(keys.online(DEFAULT_TENANT));
      expect(Object.keys(online)).toHaveLength(N);
      expect(Object.values(online).every((token) => token.startsWith(`${b!.nodeId}:`))).toBe(true);
      expect(await checkInvariants(redis, keys)).toEqual({ ok: true, violations: [] });

      const reconnectMs = hs.map((h) => h.welcomedAt - h.closedAt);
      const waitMs = hs.map((h) => h.retriedAt - h.closedAt);
      const handshakeMs = hs.map((h) => h.welcomedAt - h.retriedAt);
      const handshakesOnB = onlineTimes(b!.output(), signalledAt);
      expect(handshakesOnB).toHaveLength(N);
      console.info(
        `X4 drain, ${N} agents, notice ${NOTICE_MS} ms, window ${WINDOW_MS} ms: /readyz 503 after ${readyzFailedAt - signalledAt} ms; ` +
          `closes over ${Math.max(...closes) - Math.min(...closes)} ms (peak ${peakPerBucket(closes, 200)}/200 ms); ` +
          `reconnect close→Welcome p50 ${quantile(reconnectMs, 0.5)} ms p99 ${quantile(reconnectMs, 0.99)} ms ` +
          `(waiting out the hint p50 ${quantile(waitMs, 0.5)} ms, handshake on B p50 ${quantile(handshakeMs, 0.5)} p99 ${quantile(handshakeMs, 0.99)} ms); ` +
          `peak handshakes on B ${peakPerBucket(handshakesOnB, 100)}/100 ms (its log; agents saw ${peakPerBucket(hs.map((h) => h.welcomedAt), 100)}, retried ${peakPerBucket(hs.map((h) => h.retriedAt), 100)}), ${peakPerBucket(handshakesOnB, 1000)}/s; ` +
          `A exited ${exitedAt - signalledAt} ms after SIGTERM; license changes ${diff.changes}`,
      );
    } finally {
      for (const x of agents) x.terminate();
      await Promise.all([a!.stop(), b!.stop()]);
    }
  });

  it('X4 C12: non-persistent agents handed over keep their licenses (no free and re-assign); one that does not come back is freed after the grace', async () => {
    const N = 40;
    const { keys, env } = await deployment(N - 10); // 10 wait: a freed license would promote one of them
    await setTenantPolicy(ledgerContext(redis, keys), TECHNICIAN, DEFAULT_TENANT, { freeNonPersistentOnDisconnect: true });
    const [a, b] = await Promise.all([start({ ...env, DRAIN_SECONDS: '1', DRAIN_NOTICE_MS: '100' }), start(env)]);
    const agents = Array.from({ length: N }, () => newAgent(a!.url, { urls: [a!.url, b!.url], os: OS.windows, reconnect: true, nonPersistent: true }));
    try {
      for (const x of agents) await x.connect(); // in order: the first N - 10 hold the licenses
      const licensed = agents.filter((x) => x.lastWelcome!.license.licensed);
      expect(licensed).toHaveLength(N - 10);
      // One licensed agent goes away for good when A closes it (a destroyed desktop).
      const gone = licensed[0]!;
      gone.on('close', () => gone.terminate());
      const stay = agents.filter((x) => x !== gone);
      const licenseBefore = stay.map((x) => x.lastWelcome!.license);
      const before = await licenseSnapshot(redis, keys);
      a!.signal('SIGTERM');
      await eventually(() => stay.every((x) => x.connected && x.socketUrl === b!.url), 'every other agent welcomed by B', 20_000);
      // The handed-over agents kept what they had: no free and re-assignment on the way (at most
      // the one Client promoted to the license of the agent that did not come back can differ).
      const changed = stay.filter((x, i) => JSON.stringify(x.lastWelcome!.license) !== JSON.stringify(licenseBefore[i]));
      expect(changed.length).toBeLessThanOrEqual(1);
      expect(await exitWithin(a!, 15_000)).toBe(0);
      // The one that never came back was freed when A finished (C12), and a waiting Client took
      // it: one holder out, one in, and only those audit entries (not one per handed-over agent).
      const after = await licenseDiff(redis, keys, before, await licenseSnapshot(redis, keys));
      expect(after.auditEntries).toBeLessThanOrEqual(3);
      expect(after).toMatchObject({ holdersAdded: 1, holdersRemoved: 1 });
      expect(await checkInvariants(redis, keys)).toEqual({ ok: true, violations: [] });
    } finally {
      for (const x of agents) x.terminate();
      await Promise.all([a!.stop(), b!.stop()]);
    }
  });

  it('X4: a second SIGTERM during the drain stops at once; new connections meanwhile get SHUTTING_DOWN with a retry hint', async () => {
    const { keys, env } = await deployment(100);
    const a = await start({ ...env, DRAIN_SECONDS: '30', DRAIN_NOTICE_MS: '200' });
    const agents = Array.from({ length: 100 }, () => newAgent(a.url));
    await Promise.all(agents.map((x) => x.connect()));
    a.signal('SIGTERM');
    await notReadyAt(a);
    expect(await fetch(`${a.healthUrl}/readyz`).then((r) => r.json())).toMatchObject({ status: 'draining' });
    const late = newAgent(a.url);
    const refusal = await late.connect().then(() => null, (err: { code: string; retryAfterMs: number }) => err);
    expect(refusal).toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(refusal!.retryAfterMs).toBeGreaterThanOrEqual(1);
    expect(refusal!.retryAfterMs).toBeLessThanOrEqual(1000);
    // The first slices went (a slice of 100 / 150 every 200 ms); most agents are still there.
    await eventually(() => agents.some((x) => x.lastClose !== null), 'the first slice closed', 5000);
    expect(agents.filter((x) => x.lastClose !== null).length).toBeLessThan(50);
    const secondAt = Date.now();
    a.signal('SIGTERM');
    expect(await exitWithin(a, 10_000)).toBe(0);
    expect(Date.now() - secondAt).toBeLessThan(10_000); // far inside the 30 s window
    await Promise.all(agents.map((x) => x.waitFor(() => x.lastClose !== null)));
    expect(agents.every((x) => x.lastError?.code === 'SHUTTING_DOWN' && x.lastClose?.code === 1001)).toBe(true);
    expect(await redis.hlen(keys.online(DEFAULT_TENANT))).toBe(0);
    expect(await redis.scard(keys.holders(DEFAULT_TENANT, 'workstation'))).toBe(100);
  });

  it('X4: SIGINT stops at once although a drain is configured', async () => {
    const { keys, env } = await deployment(20);
    const a = await start({ ...env, DRAIN_SECONDS: '30', DRAIN_NOTICE_MS: '30000' });
    const agents = Array.from({ length: 20 }, () => newAgent(a.url));
    await Promise.all(agents.map((x) => x.connect()));
    a.signal('SIGINT');
    expect(await exitWithin(a, 10_000)).toBe(0);
    await Promise.all(agents.map((x) => x.waitFor(() => x.lastClose !== null)));
    expect(agents.every((x) => x.lastError?.code === 'SHUTTING_DOWN' && x.lastClose?.code === 1001)).toBe(true);
    expect(await redis.hlen(keys.online(DEFAULT_TENANT))).toBe(0);
  });

  it('X4: DRAIN_SECONDS=0 keeps the old SIGTERM (every agent closed at once, no notice); an empty gateway skips the waits', async () => {
    const { keys, env } = await deployment(20);
    const [old, empty] = await Promise.all([
      start({ ...env, DRAIN_SECONDS: '0', DRAIN_NOTICE_MS: '30000' }),
      start({ ...env, DRAIN_SECONDS: '30', DRAIN_NOTICE_MS: '30000' }),
    ]);
    const agents = Array.from({ length: 20 }, () => newAgent(old.url));
    await Promise.all(agents.map((x) => x.connect()));
    old.signal('SIGTERM');
    empty.signal('SIGTERM');
    expect(await exitWithin(old, 10_000)).toBe(0);
    expect(await exitWithin(empty, 10_000)).toBe(0);
    await Promise.all(agents.map((x) => x.waitFor(() => x.lastClose !== null)));
    expect(agents.every((x) => x.lastError?.code === 'SHUTTING_DOWN' && x.lastError.retryAfterMs === 0)).toBe(true);
    expect(await redis.hlen(keys.online(DEFAULT_TENANT))).toBe(0);
  });
});
