/**
 * boot-storm: the whole fleet connects for the first time with the enrollment token; every
 * agent is registered, licensed from a pool sized for everyone, and receives StartMonitoring.
 * Value: licensed agents per second (first connect start → last StartMonitoring); latency:
 * connect start → StartMonitoring per agent. Goal: ≥ 0.6 × baseline-ws.
 */
import { poolFor } from '../lib/fleet.ts';
import { CpuWindow, rssBytes } from '../lib/proc-stats.ts';
import { connectTimeoutMs, ratio, type ScenarioDef } from '../lib/scenario.ts';
import { ENROLLMENT_TOKEN } from '../lib/setup.ts';
import { RedisCommandWindow } from '../lib/redis-stats.ts';
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

export const bootStorm: ScenarioDef = {
  name: 'boot-storm',
  produces: ['boot-storm'],
  rows: { 'boot-storm': { unit: 'licensed/s', goal: `ratio ≥ ${GOAL_BOOT}` } },
  needs: ['baseline-ws'],
  timeoutMs: (s) => 90_000 + connectTimeoutMs(s.fleet),
  async run(ctx) {
    const n = ctx.sizes.fleet;
    const stack = await startStack(ctx, { pool: poolFor(n) });
    const rssEmpty = rssBytes(stack.gateway.pid);
    const commands = await RedisCommandWindow.start(stack.redis.redis);
    const cpu = new CpuWindow(stack.pids());
    const r = await ctx.profile('boot', stack.inspectors(), () => stack.driver.call<EnrollResult>('enroll', {
      url: stack.gateway.url,
      count: n,
      prefix: 'boot',
      token: ENROLLMENT_TOKEN,
      concurrency: ctx.opts.concurrency,
      timeoutMs: connectTimeoutMs(n),
      sourceIps: ctx.sizes.sourceIps,
      waitLicense: true,
    }));
    const cpuPct = cpu.stop();
    const redisCommands = await commands.stop(n);
    ctx.log(`${r.licensed}/${n} licensed at ${r.ratePerSec}/s, time to license p50 ${r.timeToLicense?.p50} ms p99 ${r.timeToLicense?.p99} ms`);
    const baseline = ctx.results['baseline-ws']?.value ?? null;
    const rt = ratio(r.ratePerSec, baseline);
    return {
      'boot-storm': {
        ...(r.licensed !== n ? { error: `only ${r.licensed}/${n} agents licensed: ${JSON.stringify(r.finalFailures)}` } : {}),
        value: r.ratePerSec,
        unit: 'licensed/s',
        baseline,
        baselineUnit: 'conn/s',
        ratio: rt,
        goal: `ratio ≥ ${GOAL_BOOT}`,
        met: rt !== null && rt >= GOAL_BOOT && r.licensed === n,
        details: {
          agents: n,
          concurrency: ctx.opts.concurrency,
          ...r,
          cpuPercent: cpuPct,
          redisCommandsPerAgent: redisCommands,
          gatewayRssBytes: { empty: rssEmpty, after: rssBytes(stack.gateway.pid) },
        },
      },
    };
  },
};
