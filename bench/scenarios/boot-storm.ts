/**
 * boot-storm: the whole fleet connects for the first time with the enrollment token; every
 * agent is registered, licensed from a pool sized for everyone, and receives StartMonitoring.
 * Value: licensed agents per second (first connect start → last StartMonitoring); latency:
 * connect start → StartMonitoring per agent. Goal: ≥ 0.6 × baseline-ws.
 *
 * Median of three trials, fresh processes each, like baseline-ws: every trial starts its own
 * redis-server, ledger, gateway and driver and stops them before the next one. The value (and
 * every figure in details) is the median trial's; `details.trialsPerSec` lists every trial's
 * rate, and the goal is met only when the fleet was licensed completely in every trial.
 * With --profile, only the first trial is profiled.
 */
import { poolFor } from '../lib/fleet.ts';
import { CpuWindow, rssBytes } from '../lib/proc-stats.ts';
import { connectTimeoutMs, ratio, type ScenarioDef } from '../lib/scenario.ts';
import { ENROLLMENT_TOKEN } from '../lib/setup.ts';
import { RedisCommandWindow, type CommandDelta } from '../lib/redis-stats.ts';
import { startStack } from '../lib/stack.ts';

export type EnrollResult = {
  count: number;
  welcomed: number;
  licensed: number;
  ratePerSec: number;
  elapsedMs: number;
  timeToLicense: { p50: number; p99: number } | null;
  [k: string]: unknown;
};

export const GOAL_BOOT = 0.6;

/** Trials per run, each with fresh processes (as baseline-ws); the value is their median. */
export const TRIALS = 3;

/** The trial with the median value (of an odd number of trials; the upper middle otherwise). */
export function medianTrial<T>(trials: T[], value: (t: T) => number): { trial: T; index: number } {
  const order = trials.map((t, index) => ({ index, v: value(t) })).sort((a, b) => a.v - b.v);
  const index = order[Math.floor(order.length / 2)]!.index;
  return { trial: trials[index]!, index };
}

export const bootStorm: ScenarioDef = {
  name: 'boot-storm',
  produces: ['boot-storm'],
  rows: { 'boot-storm': { unit: 'licensed/s', goal: `ratio ≥ ${GOAL_BOOT}` } },
  needs: ['baseline-ws'],
  // Per trial: start-up (redis, ledger, gateway, driver), the storm, and the teardown.
  timeoutMs: (s) => 30_000 + TRIALS * (60_000 + connectTimeoutMs(s.fleet)),
  async run(ctx) {
    const n = ctx.sizes.fleet;
    const trials: (EnrollResult & { cpuPercent: Record<string, number | null>; redisCommandsPerAgent: CommandDelta; gatewayRssBytes: { empty: number | null; after: number | null } })[] = [];
    for (let t = 0; t < TRIALS; t++) {
      const stack = await startStack(ctx, { pool: poolFor(n) });
      const rssEmpty = rssBytes(stack.gateway.pid);
      const commands = await RedisCommandWindow.start(stack.redis.redis);
      const cpu = new CpuWindow(stack.pids());
      const enroll = () =>
        stack.driver.call<EnrollResult>('enroll', {
          url: stack.gateway.url,
          count: n,
          prefix: 'boot',
          token: ENROLLMENT_TOKEN,
          concurrency: ctx.opts.concurrency,
          timeoutMs: connectTimeoutMs(n),
          sourceIps: ctx.sizes.sourceIps,
          waitLicense: true,
        });
      // --profile: the first trial only (its rate then includes the profiler's overhead).
      const r = t === 0 ? await ctx.profile('boot', stack.inspectors(), enroll) : await enroll();
      const cpuPercent = cpu.stop();
      const redisCommandsPerAgent = await commands.stop(n);
      const gatewayRssBytes = { empty: rssEmpty, after: rssBytes(stack.gateway.pid) };
      ctx.log(`trial ${t + 1}: ${r.licensed}/${n} licensed at ${r.ratePerSec}/s, time to license p50 ${r.timeToLicense?.p50} ms p99 ${r.timeToLicense?.p99} ms`);
      await stack.stop();
      trials.push({ ...r, cpuPercent, redisCommandsPerAgent, gatewayRssBytes });
    }
    const { trial: m, index } = medianTrial(trials, (x) => x.ratePerSec);
    const { cpuPercent, redisCommandsPerAgent, gatewayRssBytes, ...r } = m;
    const incomplete = trials.map((x, i) => ({ i, x })).filter(({ x }) => x.licensed !== n);
    const baseline = ctx.results['baseline-ws']?.value ?? null;
    const rt = ratio(r.ratePerSec, baseline);
    return {
      'boot-storm': {
        ...(incomplete.length
          ? { error: incomplete.map(({ i, x }) => `trial ${i + 1}: only ${x.licensed}/${n} agents licensed: ${JSON.stringify(x.finalFailures)}`).join('; ') }
          : {}),
        value: r.ratePerSec,
        unit: 'licensed/s',
        baseline,
        baselineUnit: 'conn/s',
        ratio: rt,
        goal: `ratio ≥ ${GOAL_BOOT}`,
        met: rt !== null && rt >= GOAL_BOOT && incomplete.length === 0,
        details: {
          agents: n,
          concurrency: ctx.opts.concurrency,
          trialsPerSec: trials.map((x) => x.ratePerSec),
          medianTrial: index + 1,
          // The median trial's figures, as a single trial's were before.
          ...r,
          cpuPercent,
          redisCommandsPerAgent,
          gatewayRssBytes,
          trials: trials.map((x) => ({
            ratePerSec: x.ratePerSec,
            licensed: x.licensed,
            elapsedMs: x.elapsedMs,
            timeToLicense: x.timeToLicense,
            cpuPercent: x.cpuPercent,
            redisCommandsPerAgent: x.redisCommandsPerAgent.perUnit,
          })),
        },
      },
    };
  },
};
