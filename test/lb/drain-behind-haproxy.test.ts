/**
 * X4 behind real HAProxy: a gateway told to stop (SIGTERM, DRAIN_SECONDS > 0) fails /readyz,
 * HAProxy's health check marks it DOWN before the drain closes anyone, and its agents —
 * closed in slices over the window with SHUTTING_DOWN and a retry hint — reconnect through the
 * same HAProxy URL to the other gateway: no license changes, every agent back within the
 * retry hint plus one reconnect. Reconnect times and the peak handshake rate on the remaining
 * gateway are printed for the report (the bench's `drain` scenario measures them at scale).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licenseDiff, licenseSnapshot } from '../../bench/lib/ledger-snapshot.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { eventually } from '../helpers/gateway.ts';
import { LbStack } from '../helpers/lb-stack.ts';
import { ObservedFleet, percentile } from '../helpers/observed-fleet.ts';
import { connectRedis } from '../helpers/redis.ts';

const AGENTS = 300;
const DRAIN_SECONDS = 2;
const DRAIN_NOTICE_MS = 1_000;
/** Longest retry hint a drained agent gets (src/gateway/drain.ts) plus one reconnect on a busy box. */
const ONE_RECONNECT_MS = 1_000 + 2_000;
let redis: RedisClient;
let stack: LbStack;
let fleet: ObservedFleet;

beforeAll(async () => {
  redis = await connectRedis();
  stack = await LbStack.start(redis, {
    gateways: 2,
    pool: { workstation: AGENTS },
    env: { DRAIN_SECONDS: String(DRAIN_SECONDS), DRAIN_NOTICE_MS: String(DRAIN_NOTICE_MS), HEARTBEAT_INTERVAL_MS: '1000' },
  });
});
afterAll(async () => {
  await fleet?.closeAll();
  await stack?.stop();
  redis?.disconnect();
});

describe('a gateway drained behind HAProxy', () => {
  it('X4: SIGTERM → HAProxy marks it DOWN before the first close; its agents move to the other gateway with 0 license changes', async () => {
    fleet = new ObservedFleet(stack.url, AGENTS);
    expect(await fleet.connectAll()).toBe(AGENTS);
    const onDrained = (await stack.readyz(0)).connections;
    expect(onDrained).toBeGreaterThan(0);
    const before = await licenseSnapshot(redis, stack.keys);
    fleet.markOnline();

    const t0 = Date.now();
    const exited = stack.terminate(0);
    // "At once": as soon as the process has handled the signal, well inside the notice.
    await eventually(async () => (await stack.readyz(0)).status === 503, 'gw1 /readyz 503', DRAIN_NOTICE_MS / 2, 5);
    const downAt = await stack.haproxy.waitStatus('gw1', 'DOWN', DRAIN_NOTICE_MS + 5_000);
    expect(await exited).toBe(0);
    await eventually(() => fleet.allLicensedOnline(), 'every agent back online and licensed', 20_000);
    const after = await licenseSnapshot(redis, stack.keys);

    // The balancer noticed first: no agent was closed before HAProxy had gw1 DOWN.
    const closes = fleet.outages.map((o) => o.from).sort((a, b) => a - b);
    expect(closes).toHaveLength(onDrained);
    expect(closes[0]!).toBeGreaterThanOrEqual(downAt);
    // Spread over the window, not all at once (slices every 200 ms over 2 s).
    expect(closes.at(-1)! - closes[0]!).toBeGreaterThanOrEqual(DRAIN_SECONDS * 1000 * 0.5);
    expect(fleet.errorCodes.get('SHUTTING_DOWN')).toBe(onDrained);
    expect([...fleet.errorCodes.keys()]).toEqual(['SHUTTING_DOWN']);

    // Everyone is on the remaining gateway, through the same URL, with the same license.
    expect((await stack.readyz(1)).connections).toBe(AGENTS);
    expect(fleet.rewelcomes.every((w) => w.licensed)).toBe(true);
    expect(fleet.commandsAfterOnline).toBe(0);
    expect((await licenseDiff(redis, stack.keys, before, after)).changes).toBe(0);
    expect(await checkInvariants(redis, stack.keys)).toEqual({ ok: true, violations: [] });

    const offline = fleet.offlineDurations();
    expect(offline.at(-1)!).toBeLessThanOrEqual(ONE_RECONNECT_MS);
    console.info(
      `X4 drain behind HAProxy: ${onDrained} agents moved; HAProxy DOWN ${downAt - t0} ms after SIGTERM (notice ${DRAIN_NOTICE_MS} ms); ` +
        `closes spread over ${closes.at(-1)! - closes[0]!} ms; reconnect p50 ${percentile(offline, 50)} ms p99 ${percentile(offline, 99)} ms max ${offline.at(-1)} ms; ` +
        `peak handshakes on the remaining gateway ${fleet.peakWelcomeRate()}/s (200 ms window)`,
    );
  });
});
