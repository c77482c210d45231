/**
 * baseline-ws: the machine's ceiling for "connect and exchange one frame". A bare `ws` server
 * (permessage-deflate off) in its own process; the same driver, fleet size and concurrency as
 * the storms; each client connects, sends a Hello-sized frame and waits for the answer, and
 * stays connected (as agents do). Three trials, each with a fresh server and driver process
 * (cold, like the gateway in a storm); the value is their median, so one disturbed trial does
 * not move the baseline. One trial is `bareWsTrial` (bench/lib/bare-ws-trial.ts), which the
 * storms also run before each of their own trials as its paired baseline.
 */
import { bareWsTrial, bareWsTrialTimeoutMs, type BareWsTrial } from '../lib/bare-ws-trial.ts';
import type { ScenarioDef } from '../lib/scenario.ts';

const TRIALS = 3;

export const baselineWs: ScenarioDef = {
  name: 'baseline-ws',
  produces: ['baseline-ws'],
  rows: { 'baseline-ws': { unit: 'conn/s', goal: 'reference (ceiling)' } },
  timeoutMs: (s) => 60_000 + TRIALS * bareWsTrialTimeoutMs(s),
  async run(ctx) {
    const n = ctx.sizes.fleet;
    const trials: BareWsTrial[] = [];
    for (let t = 0; t < TRIALS; t++) trials.push(await bareWsTrial(ctx, { label: `${t + 1}`, name: `trial ${t + 1}` }));
    const sorted = [...trials].sort((a, b) => a.ratePerSec - b.ratePerSec);
    const r = sorted[Math.floor(sorted.length / 2)]!;
    const connected = Math.min(...trials.map((x) => x.connected));
    return {
      'baseline-ws': {
        ...(connected !== n ? { error: `only ${connected}/${n} bare clients connected in a trial` } : {}),
        value: r.ratePerSec,
        unit: 'conn/s',
        baseline: null,
        ratio: null,
        goal: 'reference (ceiling)',
        met: connected === n,
        details: {
          agents: n,
          concurrency: ctx.opts.concurrency,
          trialsPerSec: trials.map((x) => x.ratePerSec),
          median: r,
          cpuPercent: r.cpuPercent,
          trials,
        },
      },
    };
  },
};
