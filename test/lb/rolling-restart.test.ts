/**
 * X4 rolling restart behind real HAProxy: every gateway in turn is told to stop (SIGTERM →
 * drain), waited for, started again on its ports and waited for until HAProxy has it UP, while
 * a heartbeating fleet stays connected through HAProxy's one URL. Zero license changes, and no
 * agent offline longer than the drain window + the notice + one reconnect — measured per agent
 * on the agent side (close → next Welcome).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licenseDiff, licenseSnapshot } from '../../bench/lib/ledger-snapshot.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { eventually } from '../helpers/gateway.ts';
import { LbStack } from '../helpers/lb-stack.ts';
import { ObservedFleet, percentile } from '../helpers/observed-fleet.ts';
import { connectRedis } from '../helpers/redis.ts';

const GATEWAYS = 3;
const AGENTS = 240;
const DRAIN_SECONDS = 1.5;
const DRAIN_NOTICE_MS = 1_000;
/** One reconnect: the longest retry hint of a drain (1 s, src/gateway/drain.ts) + a handshake on a busy box. */
const ONE_RECONNECT_MS = 2_500;
let redis: RedisClient;
let stack: LbStack;
let fleet: ObservedFleet;

beforeAll(async () => {
  redis = await connectRedis();
  stack = await LbStack.start(redis, {
    gateways: GATEWAYS,
    pool: { workstation: AGENTS },
    env: { DRAIN_SECONDS: String(DRAIN_SECONDS), DRAIN_NOTICE_MS: String(DRAIN_NOTICE_MS), HEARTBEAT_INTERVAL_MS: '1000' },
  });
});
afterAll(async () => {
  await fleet?.closeAll();
  await stack?.stop();
  redis?.disconnect();
});

describe('rolling restart behind HAProxy', () => {
  it('X4: every gateway restarted in turn under a live fleet: 0 license changes, no agent offline longer than drain + notice + one reconnect', async () => {
    fleet = new ObservedFleet(stack.url, AGENTS);
    expect(await fleet.connectAll()).toBe(AGENTS);
    const before = await licenseSnapshot(redis, stack.keys);
    fleet.markOnline();

    const moved: number[] = [];
    for (let i = 0; i < GATEWAYS; i++) {
      const name = stack.slots[i]!.name;
      moved.push((await stack.readyz(i)).connections);
      expect(await stack.terminate(i)).toBe(0);
      await eventually(() => fleet.allLicensedOnline(), `every agent back online after ${name} stopped`, 20_000);
      await stack.startAgain(i);
      await stack.haproxy.waitStatus(name, 'UP', 10_000);
    }
    const after = await licenseSnapshot(redis, stack.keys);

    // Each step moved agents (leastconn refills the restarted gateway from the next one drained).
    for (const n of moved) expect(n).toBeGreaterThan(0);
    expect(fleet.outages).toHaveLength(moved.reduce((a, b) => a + b, 0));
    expect([...fleet.errorCodes.keys()]).toEqual(['SHUTTING_DOWN']);
    const offline = fleet.offlineDurations();
    expect(offline.at(-1)!).toBeLessThanOrEqual(DRAIN_SECONDS * 1000 + DRAIN_NOTICE_MS + ONE_RECONNECT_MS);

    expect(fleet.allLicensedOnline()).toBe(true);
    expect(fleet.rewelcomes.every((w) => w.licensed)).toBe(true);
    expect(fleet.commandsAfterOnline).toBe(0);
    expect((await licenseDiff(redis, stack.keys, before, after)).changes).toBe(0);
    expect(await checkInvariants(redis, stack.keys)).toEqual({ ok: true, violations: [] });
    const perAgent = new Map<number, number>();
    for (const o of fleet.outages) perAgent.set(o.agent, (perAgent.get(o.agent) ?? 0) + (o.to - o.from));
    console.info(
      `X4 rolling restart of ${GATEWAYS} gateways behind HAProxy: agents moved per step ${moved.join(', ')}; ` +
        `offline per outage p50 ${percentile(offline, 50)} ms p99 ${percentile(offline, 99)} ms max ${offline.at(-1)} ms; ` +
        `agents that moved more than once ${[...new Set(fleet.outages.map((o) => o.agent))].filter((a) => fleet.outages.filter((o) => o.agent === a).length > 1).length}; ` +
        `total offline per agent max ${Math.max(...perAgent.values())} ms`,
    );
  });
});
