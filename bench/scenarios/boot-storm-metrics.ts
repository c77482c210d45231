/**
 * boot-storm-metrics: what the Prometheus metrics cost (SPEC H4). The boot storm of
 * `boot-storm` — the whole fleet's first connect with the enrollment token, registered and
 * licensed — once with METRICS=on, scraped every second (GET /metrics: 15 times as often as
 * deploy/prometheus.yml, the default METRICS_CACHE_MS of 10 s), and once with METRICS=off, in
 * the same run. So the `on` side pays for the instrumentation of every Hello and for the
 * scrapes (about 9 ms of gateway CPU each with 2,000 agents: docs/metrics.md).
 *
 * Paired trials: each pair runs both storms back to back on fresh stacks (redis-server, ledger,
 * gateway, driver), the order alternating from pair to pair so that the machine's drift falls
 * on both sides. Value: the median metrics-on rate; baseline: the median metrics-off rate;
 * ratio: the median of the per-pair ratios on / off. Quick: 1 pair; full: 3.
 * Goal: ratio ≥ 0.95, and every storm licensed the whole fleet, and every scrape answered 200.
 */
import { loadavg } from 'node:os';
import { poolFor } from '../lib/fleet.ts';
import { CpuWindow } from '../lib/proc-stats.ts';
import { connectTimeoutMs, medianTrial, ratio, type ScenarioContext, type ScenarioDef } from '../lib/scenario.ts';
import { ENROLLMENT_TOKEN } from '../lib/setup.ts';
import { startStack } from '../lib/stack.ts';
import type { EnrollResult } from './boot-storm.ts';

type Side = 'on' | 'off';

export const GOAL_METRICS = 0.95;
const SCRAPE_EVERY_MS = 1_000;
const pairsFor = (quick: boolean) => (quick ? 1 : 3);

interface StormTrial {
  side: Side;
  ratePerSec: number;
  licensed: number;
  elapsedMs: number;
  timeToLicense: EnrollResult['timeToLicense'];
  cpuPercent: Record<string, number | null>;
  /** Gateway CPU µs per licensed agent over the storm window (the scrapes included on the `on` side). */
  gatewayCpuUsPerAgent: number | null;
  scrapes: { ok: number; failed: number; maxMs: number; bytes: number };
  finalFailures: unknown;
}

/** Scrapes /metrics every second until stopped; counts answers and the slowest one. */
function scraper(healthUrl: string): { stop(): Promise<StormTrial['scrapes']> } {
  const stats = { ok: 0, failed: 0, maxMs: 0, bytes: 0 };
  let running = true;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${healthUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
        const body = await res.text();
        if (res.status === 200) {
          stats.ok++;
          stats.bytes = body.length;
        } else stats.failed++;
      } catch {
        stats.failed++;
      }
      stats.maxMs = Math.max(stats.maxMs, Math.round(performance.now() - t0));
      if (!running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, SCRAPE_EVERY_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  return {
    async stop() {
      running = false;
      wake?.();
      await loop;
      return stats;
    },
  };
}

async function storm(ctx: ScenarioContext, side: Side, label: string): Promise<StormTrial> {
  const n = ctx.sizes.fleet;
  const stack = await startStack(ctx, { pool: poolFor(n), gatewayEnv: { METRICS: side } });
  try {
    const scrapes = side === 'on' ? scraper(stack.gateway.healthUrl) : null;
    const cpu = new CpuWindow(stack.pids());
    const r = await stack.driver.call<EnrollResult>('enroll', {
      url: stack.gateway.url,
      count: n,
      prefix: `metrics-${side}`,
      token: ENROLLMENT_TOKEN,
      concurrency: ctx.opts.concurrency,
      timeoutMs: connectTimeoutMs(n),
      sourceIps: ctx.sizes.sourceIps,
      waitLicense: true,
    });
    const cpuPercent = cpu.stop();
    const scraped = scrapes ? await scrapes.stop() : { ok: 0, failed: 0, maxMs: 0, bytes: 0 };
    const wall = cpuPercent.wallSeconds;
    const gatewayCpuUsPerAgent = cpuPercent.gateway == null || wall == null || r.licensed === 0 ? null : Math.round(((cpuPercent.gateway / 100) * wall * 1e6) / r.licensed);
    ctx.log(`${label}: ${r.licensed}/${n} licensed at ${r.ratePerSec}/s with metrics ${side}${side === 'on' ? ` (${scraped.ok} scrapes, slowest ${scraped.maxMs} ms)` : ''}, gateway ${cpuPercent.gateway}% = ${gatewayCpuUsPerAgent} µs per agent`);
    return { side, ratePerSec: r.ratePerSec, licensed: r.licensed, elapsedMs: r.elapsedMs, timeToLicense: r.timeToLicense, cpuPercent, gatewayCpuUsPerAgent, scrapes: scraped, finalFailures: r.finalFailures };
  } finally {
    await stack.stop();
  }
}

export const bootStormMetrics: ScenarioDef = {
  name: 'boot-storm-metrics',
  produces: ['boot-storm-metrics'],
  rows: { 'boot-storm-metrics': { unit: 'licensed/s', goal: `ratio ≥ ${GOAL_METRICS}` } },
  // Two more storms would push the harness test's quick run past its bound: name it in --only.
  fullRunOnly: true,
  // Per storm: start-up, the storm and the teardown; two storms per pair.
  timeoutMs: (s) => 30_000 + 3 * 2 * (60_000 + connectTimeoutMs(s.fleet)),
  async run(ctx) {
    const n = ctx.sizes.fleet;
    const pairs: { on: StormTrial; off: StormTrial; ratio: number | null; order: string; loadAverage: number[] }[] = [];
    for (let t = 0; t < pairsFor(ctx.opts.quick); t++) {
      const order: Side[] = t % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      const got: Partial<Record<Side, StormTrial>> = {};
      for (const side of order) got[side] = await storm(ctx, side, `pair ${t + 1} metrics ${side}`);
      const on = got.on!;
      const off = got.off!;
      pairs.push({ on, off, ratio: ratio(on.ratePerSec, off.ratePerSec), order: order.join(' then '), loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) });
    }
    const all = pairs.flatMap((p) => [p.off, p.on]);
    const problems = [
      ...all.filter((x) => x.licensed !== n).map((x) => `metrics ${x.side}: only ${x.licensed}/${n} agents licensed: ${JSON.stringify(x.finalFailures)}`),
      ...pairs.filter((p) => p.on.scrapes.failed > 0 || p.on.scrapes.ok === 0).map((p) => `metrics on: ${p.on.scrapes.failed} failed scrapes, ${p.on.scrapes.ok} answered`),
    ];
    const onMedian = medianTrial(pairs.map((p) => p.on), (x) => x.ratePerSec).trial;
    const offMedian = medianTrial(pairs.map((p) => p.off), (x) => x.ratePerSec).trial;
    const ratios = pairs.map((p) => p.ratio).filter((x): x is number => x !== null);
    const rt = ratios.length ? medianTrial(ratios, (x) => x).trial : null;
    ctx.log(`pairs (off → on): ${pairs.map((p) => `${p.off.ratePerSec} → ${p.on.ratePerSec} (${p.ratio})`).join(', ')}; median ratio ${rt}`);
    return {
      'boot-storm-metrics': {
        ...(problems.length ? { error: problems.join('; ') } : {}),
        value: onMedian.ratePerSec,
        unit: 'licensed/s',
        baseline: offMedian.ratePerSec,
        ratio: rt,
        goal: `ratio ≥ ${GOAL_METRICS}`,
        met: rt !== null && rt >= GOAL_METRICS && problems.length === 0,
        details: {
          agents: n,
          concurrency: ctx.opts.concurrency,
          engine: ctx.opts.engine,
          scrape: `GET /metrics every ${SCRAPE_EVERY_MS} ms during the metrics-on storm (default METRICS_CACHE_MS)`,
          pairMethod: 'median of per-pair ratios on / off; each pair runs both storms on fresh stacks, order alternating',
          pairs: pairs.map((p) => ({ off: p.off.ratePerSec, on: p.on.ratePerSec, ratio: p.ratio, order: p.order, gatewayCpuUsPerAgent: { off: p.off.gatewayCpuUsPerAgent, on: p.on.gatewayCpuUsPerAgent }, scrapes: p.on.scrapes, loadAverage: p.loadAverage })),
          on: onMedian,
          off: offMedian,
          trials: all,
        },
      },
    };
  },
};
