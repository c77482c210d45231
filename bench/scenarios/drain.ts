/**
 * drain (SPEC X4): what a gateway restart costs a fleet behind real HAProxy, with and without
 * the graceful drain, on one Redis and on a Cluster (the scenario runs both engines itself).
 *
 * Per engine, one stack (bench/lib/lb-stack.ts): HAProxy running deploy/haproxy.cfg with its
 * shipped check timing, 3 gateway processes, the admin worker, the driver. The fleet enrolls
 * through HAProxy's one URL (agents reconnect by themselves: agent-sim's backoff, base 100 ms,
 * cap 2 s, never earlier than a retry hint), then:
 *  1. undrained restart (the baseline, same run): gw1 runs with DRAIN_SECONDS=0; SIGTERM closes
 *     its agents at once and they all come back through HAProxy to gw2/gw3 — the herd;
 *  2. the fleet is rebalanced (everyone reconnects through HAProxy: leastconn spreads it), then
 *     drained restart: SIGTERM to gw2 (DRAIN_SECONDS, DRAIN_NOTICE_MS: the shipped defaults in a
 *     full run) — /readyz 503, HAProxy marks it DOWN, agents handed over in slices;
 *  3. rebalanced again, then a rolling restart: every gateway in turn (SIGTERM, exit, start on
 *     the same ports, HAProxy has it UP again).
 * Each phase waits until every agent is connected, monitoring and licensed again, then compares
 * the ledger (audit entries, holders) and counts the Commands agents received: license changes.
 * Outages are measured per agent on the driver (close → next Welcome); the handshake rate the
 * remaining gateways saw is the peak of reconnect Welcomes over sliding 1 s windows.
 *
 * Rows per engine: `drain-<engine>` (peak handshakes/s of the drain vs the undrained restart's;
 * goal ≤ 0.5 × with 0 license changes) and `rolling-restart-<engine>` (longest time any agent was
 * offline; goal ≤ drain window + notice + one reconnect, 0 license changes).
 */
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import type { OutageView } from '../procs/outage-view.ts';
import type { BenchEngine } from '../lib/engine.ts';
import { poolFor } from '../lib/fleet.ts';
import { licenseDiff, licenseSnapshot } from '../lib/ledger-snapshot.ts';
import { startLbStack, type LbStack } from '../lib/lb-stack.ts';
import { round2 } from '../lib/proc-stats.ts';
import { connectTimeoutMs, ratio, sleep, type ScenarioContext, type ScenarioDef } from '../lib/scenario.ts';
import { ENROLLMENT_TOKEN } from '../lib/setup.ts';
import type { EnrollResult } from './boot-storm.ts';

const ENGINES_RUN: BenchEngine[] = ['single', 'cluster'];
const GATEWAYS = 3;
/**
 * HAProxy needs ~2 descriptors per agent and this machine caps a process at 20,000 open files
 * (maxconn 9,900, chaos/lib/haproxy.ts): the full fleet is 9,000, not the other scenarios' 10,000.
 */
const FULL_FLEET = 9_000;
const fleetFor = (ctx: ScenarioContext) => ctx.opts.agents ?? (ctx.opts.quick ? 600 : FULL_FLEET);
/** Full: the shipped defaults (DRAIN_SECONDS 10, DRAIN_NOTICE_MS 3000); quick: a shorter window. */
const drainFor = (ctx: ScenarioContext) => ({ seconds: ctx.opts.quick ? 3 : 10, noticeMs: 3_000 });
/** One reconnect: the longest drain retry hint (1 s, src/gateway/drain.ts) plus the backoff cap (2 s). */
const ONE_RECONNECT_MS = 3_000;
const GOAL_PEAK_RATIO = 0.5;

interface Phase {
  view: OutageView;
  licenseChanges: number;
  ledger: { auditEntries: number; holdersAdded: number; holdersRemoved: number };
  /** Wall-clock marks relative to the (first) SIGTERM, ms. */
  haproxyDownAfterMs: number | null;
  firstCloseAfterMs: number | null;
  closesSpreadMs: number | null;
  backAfterMs: number;
  steps?: { gateway: string; agentsBefore: number; exitCode: number | null; stoppedAfterMs: number; upAgainAfterMs: number }[];
}

async function readyzConnections(stack: LbStack, i: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${stack.slots[i]!.httpPort}/readyz`).catch(() => null);
  return res ? ((await res.json()) as { connections: number }).connections : 0;
}

/** Runs `act` after marking the driver's outage view; waits until the whole fleet is served again. */
async function phase(ctx: ScenarioContext, stack: LbStack, n: number, label: string, act: (t0: number) => Promise<Partial<Phase>>): Promise<Phase> {
  const redis = stack.redis.redis;
  const before = await licenseSnapshot(redis, stack.ledger.keys);
  await stack.driver.call('outage-mark');
  const t0 = Date.now();
  const extra = await act(t0);
  const deadline = Date.now() + connectTimeoutMs(n);
  let view = await stack.driver.call<OutageView>('outage-view');
  while (view.served < n || view.stillOffline > 0) {
    if (Date.now() > deadline) throw new Error(`${label}: only ${view.served}/${n} agents served again (${view.stillOffline} offline): ${JSON.stringify(view.errorCodes)}`);
    await sleep(200);
    view = await stack.driver.call<OutageView>('outage-view');
  }
  const backAfterMs = Date.now() - t0;
  await sleep(1_000); // Commands that would follow the Welcomes (there should be none)
  view = await stack.driver.call<OutageView>('outage-view');
  const diff = await licenseDiff(redis, stack.ledger.keys, before, await licenseSnapshot(redis, stack.ledger.keys));
  const rel = (t: number | null) => (t === null ? null : t - t0);
  const result: Phase = {
    view,
    licenseChanges: diff.changes + view.commands,
    ledger: { auditEntries: diff.auditEntries, holdersAdded: diff.holdersAdded, holdersRemoved: diff.holdersRemoved },
    haproxyDownAfterMs: null,
    firstCloseAfterMs: rel(view.firstCloseAt),
    closesSpreadMs: view.firstCloseAt === null ? null : view.lastCloseAt! - view.firstCloseAt,
    backAfterMs,
    ...extra,
  };
  ctx.log(
    `${label}: ${view.agentsMoved} agents moved, reconnect p50 ${view.reconnectMs?.p50} ms p99 ${view.reconnectMs?.p99} ms, ` +
      `peak ${view.peakHandshakesPerSec.window1s}/s (1 s), max offline ${view.maxOfflineMs} ms, HAProxy DOWN after ${result.haproxyDownAfterMs} ms, ` +
      `first close after ${result.firstCloseAfterMs} ms, license changes ${result.licenseChanges}`,
  );
  return result;
}

/** SIGTERM to slot i, HAProxy's DOWN time noted, waits for the exit. */
async function stopSlot(stack: LbStack, i: number, t0: number): Promise<{ exitCode: number | null; downAfterMs: number | null; stoppedAfterMs: number }> {
  const exited = stack.terminate(i);
  const down = stack.haproxy.waitStatus(stack.slots[i]!.name, 'DOWN', 60_000).then((t) => t - t0, () => null);
  const exitCode = await exited;
  return { exitCode, downAfterMs: await down, stoppedAfterMs: Date.now() - t0 };
}

/** Everyone reconnects through HAProxy, so leastconn spreads the fleet over every gateway again. */
async function rebalance(ctx: ScenarioContext, stack: LbStack, n: number): Promise<void> {
  await stack.driver.call('close-agents', { timeoutMs: 10_000 });
  const r = await stack.driver.call<EnrollResult>('reconnect', { url: stack.haproxy.url, count: n, concurrency: ctx.opts.concurrency, timeoutMs: connectTimeoutMs(n), sourceIps: ctx.sizes.sourceIps, settleMs: 500, reconnect: true });
  if (r.welcomed !== n) throw new Error(`rebalance: only ${r.welcomed}/${n} agents reconnected: ${JSON.stringify(r.finalFailures)}`);
}

async function measureEngine(ctx: ScenarioContext, engine: BenchEngine, n: number) {
  const drain = drainFor(ctx);
  const seconds = [0, ...Array.from({ length: GATEWAYS - 1 }, () => drain.seconds)];
  const stack = await startLbStack(ctx, { engine, gateways: GATEWAYS, pool: poolFor(n), drainSeconds: seconds, drainNoticeMs: drain.noticeMs });
  try {
    const enrolled = await stack.driver.call<EnrollResult>('enroll', {
      url: stack.haproxy.url, count: n, prefix: 'dr', token: ENROLLMENT_TOKEN, concurrency: ctx.opts.concurrency,
      timeoutMs: connectTimeoutMs(n), sourceIps: ctx.sizes.sourceIps, waitLicense: true, reconnect: true,
    });
    if (enrolled.licensed !== n) throw new Error(`${engine}: only ${enrolled.licensed}/${n} agents licensed: ${JSON.stringify(enrolled.finalFailures)}`);
    await sleep(1_500);
    const spread = await Promise.all(stack.slots.map((_, i) => readyzConnections(stack, i)));
    ctx.log(`${engine}: ${n} agents enrolled through HAProxy at ${enrolled.ratePerSec}/s, per gateway ${spread.join(' / ')}`);

    const undrained = await phase(ctx, stack, n, `${engine} undrained restart (gw1, DRAIN_SECONDS=0)`, async (t0) => {
      const s = await stopSlot(stack, 0, t0);
      return { haproxyDownAfterMs: s.downAfterMs };
    });
    await stack.start(0, drain.seconds);
    await rebalance(ctx, stack, n);

    const drained = await phase(ctx, stack, n, `${engine} drained restart (gw2, DRAIN_SECONDS=${drain.seconds})`, async (t0) => {
      const s = await stopSlot(stack, 1, t0);
      return { haproxyDownAfterMs: s.downAfterMs };
    });
    await stack.start(1, drain.seconds);
    await rebalance(ctx, stack, n);

    const rolling = await phase(ctx, stack, n, `${engine} rolling restart of ${GATEWAYS} gateways`, async (t0) => {
      const steps: NonNullable<Phase['steps']> = [];
      let firstDown: number | null = null;
      for (let i = 0; i < GATEWAYS; i++) {
        const agentsBefore = await readyzConnections(stack, i);
        const s = await stopSlot(stack, i, t0);
        firstDown ??= s.downAfterMs;
        await stack.start(i, drain.seconds);
        steps.push({ gateway: stack.slots[i]!.name, agentsBefore, exitCode: s.exitCode, stoppedAfterMs: s.stoppedAfterMs, upAgainAfterMs: Date.now() - t0 });
      }
      return { steps, haproxyDownAfterMs: firstDown };
    });
    const invariants = await checkInvariants(stack.redis.redis, stack.ledger.keys);
    return { n, drain, enrolled: { ratePerSec: enrolled.ratePerSec, perGateway: spread }, undrained, drained, rolling, invariants };
  } finally {
    await stack.stop();
  }
}

export const drainScenario: ScenarioDef = {
  name: 'drain',
  // Two engines (one a 6-node Cluster), 3 gateways each, a rolling restart of 3 drains: even the
  // quick form takes a few minutes.
  fullRunOnly: true,
  produces: ENGINES_RUN.flatMap((e) => [`drain-${e}`, `rolling-restart-${e}`]),
  rows: Object.fromEntries(
    ENGINES_RUN.flatMap((e) => [
      [`drain-${e}`, { unit: 'handshakes/s (peak, 1 s)', goal: `ratio ≤ ${GOAL_PEAK_RATIO}, 0 license changes` }],
      [`rolling-restart-${e}`, { unit: 's offline (max, one agent)', goal: '≤ drain window + notice + one reconnect, 0 license changes' }],
    ]),
  ),
  timeoutMs: (s) => ENGINES_RUN.length * (120_000 + 8 * connectTimeoutMs(Math.min(s.fleet, FULL_FLEET)) + 4 * 15_000),
  async run(ctx) {
    const n = fleetFor(ctx);
    const out: Record<string, import('../lib/types.ts').ScenarioResult> = {};
    for (const engine of ENGINES_RUN) {
      const m = await measureEngine(ctx, engine, n);
      const { undrained, drained, rolling } = m;
      const value = drained.view.peakHandshakesPerSec.window1s;
      const baseline = undrained.view.peakHandshakesPerSec.window1s;
      const r = ratio(value, baseline);
      const leftFirst = drained.haproxyDownAfterMs !== null && drained.firstCloseAfterMs !== null && drained.haproxyDownAfterMs <= drained.firstCloseAfterMs;
      out[`drain-${engine}`] = {
        value,
        unit: 'handshakes/s (peak, 1 s)',
        baseline,
        ratio: r,
        goal: `ratio ≤ ${GOAL_PEAK_RATIO}, 0 license changes`,
        met: r !== null && r <= GOAL_PEAK_RATIO && drained.licenseChanges === 0 && undrained.licenseChanges === 0 && leftFirst,
        details: {
          engine,
          agents: n,
          gateways: GATEWAYS,
          drainSeconds: m.drain.seconds,
          drainNoticeMs: m.drain.noticeMs,
          haproxyChecks: 'deploy/haproxy.cfg as shipped: inter 1s, fastinter 500ms, fall 2, rise 2',
          leftRotationBeforeFirstClose: leftFirst,
          licenseChanges: { drained: drained.licenseChanges, undrained: undrained.licenseChanges },
          reconnectMs: { drained: drained.view.reconnectMs, undrained: undrained.view.reconnectMs },
          peakHandshakesPerSec: { drained: drained.view.peakHandshakesPerSec, undrained: undrained.view.peakHandshakesPerSec },
          enrolled: m.enrolled,
          drained,
          undrained,
          method: 'value: peak reconnect Welcomes per 1 s sliding window (driver clock) while gw2 drains; baseline: the same while gw1 stops with DRAIN_SECONDS=0 (same stack, same run); ratio value / baseline (lower is better)',
        },
      };
      const boundMs = m.drain.seconds * 1000 + m.drain.noticeMs + ONE_RECONNECT_MS;
      out[`rolling-restart-${engine}`] = {
        value: round2(rolling.view.maxOfflineMs / 1000),
        unit: 's offline (max, one agent)',
        baseline: round2(boundMs / 1000),
        ratio: ratio(rolling.view.maxOfflineMs, boundMs),
        goal: `≤ ${round2(boundMs / 1000)} s (drain window + notice + one reconnect), 0 license changes`,
        met: rolling.view.maxOfflineMs <= boundMs && rolling.licenseChanges === 0 && m.invariants.ok,
        details: {
          engine,
          agents: n,
          gateways: GATEWAYS,
          maxOfflineSumMs: rolling.view.maxOfflineSumMs,
          agentsMovedMoreThanOnce: rolling.view.agentsMovedMoreThanOnce,
          reconnectMs: rolling.view.reconnectMs,
          licenseChanges: rolling.licenseChanges,
          invariants: m.invariants,
          rolling,
          method: 'value: the longest single outage (close → next Welcome) of any agent over the whole rolling restart; baseline: the bound; maxOfflineSumMs: the most offline time one agent summed',
        },
      };
    }
    return out;
  },
};
