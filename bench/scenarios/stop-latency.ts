/**
 * stop-latency: with the fleet online, unassign jobs arrive at a steady rate (plain BullMQ, the
 * AdminClient's job options) and are run by the admin worker in its own process; the gateway
 * (RUN_WORKERS=false) delivers StopMonitoring. Value: p99 of enqueue → StopMonitoring received.
 *
 * Baseline, same run, same rate and job count: a no-op BullMQ worker on the same Redis whose
 * processor pushes one frame over a bare ws connection to a driver — raw BullMQ
 * enqueue → processed plus a raw ws push, end to end on the driver's clock. The baseline holds
 * the same N connections as the fleet, heartbeating at the same interval, in its own driver
 * process (one process cannot hold both fleets under the open-files limit). Both sides are up
 * at once and take turns in three windows (licensegate, baseline, licensegate, …), so that the
 * machine's drift and host-level stalls fall on both; each side's p99 is over its pooled
 * samples. Goal: p99 ≤ 1.2 × baseline p99 (SPEC X5, issue 10).
 */
import { randomBytes } from 'node:crypto';
import { Histogram, type HistogramData } from '../../agent-sim/histogram.ts';
import { engineEnv } from '../lib/engine.ts';
import { startHelper } from '../lib/ipc.ts';
import { poolFor } from '../lib/fleet.ts';
import { CpuWindow } from '../lib/proc-stats.ts';
import { connectTimeoutMs, ratio, sleep, type ScenarioDef } from '../lib/scenario.ts';
import { stopChild } from '../lib/scope.ts';
import { LoopDelayWindow } from '../lib/inspector.ts';
import { RedisCommandWindow, RedisSlowWindow } from '../lib/redis-stats.ts';
import { enrollLicensedFleet, startStack } from '../lib/stack.ts';
import type { Latency } from '../lib/types.ts';

export const GOAL_STOP_RATIO = 1.2;
/** Heartbeat interval of the agents and of the baseline's bare clients (the gateway default). */
const HEARTBEAT_MS = 15_000;

type RateRun = { jobs: number; received: number; missing: number; latency: Latency; [k: string]: unknown };

const withoutData = ({ latencyData: _drop, ...rest }: RateRun) => rest;

/** Windows per side; they alternate, licensegate first. */
const WINDOWS = 3;


export const stopLatency: ScenarioDef = {
  name: 'stop-latency',
  produces: ['stop-latency'],
  rows: { 'stop-latency': { unit: 'ms p99', goal: `ratio ≤ ${GOAL_STOP_RATIO}` } },
  timeoutMs: (s) => 150_000 + 2 * connectTimeoutMs(s.stopAgents) + 2 * WINDOWS * ((s.stopSeconds * 1000) / WINDOWS + 30_000),
  async run(ctx) {
    const n = ctx.sizes.stopAgents;
    const rate = ctx.sizes.stopRate;
    const jobs = Math.min(n, rate * ctx.sizes.stopSeconds);
    const perWindow = Math.max(1, Math.floor(jobs / WINDOWS));
    // Inspectors on: event-loop delay of the gateway and the worker over the windows.
    const stack = await startStack(ctx, { pool: poolFor(n), worker: true, inspect: true, gatewayEnv: { HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS) } });
    const concurrency = stack.worker!.ready.concurrency;
    await enrollLicensedFleet(ctx, stack, 'stop', n);

    // The baseline's side, up at the same time: a no-op BullMQ worker + bare ws server, and its
    // own driver process (the same driver code) holding n bare clients that heartbeat like the
    // agents — one process could not hold both fleets under the open-files limit.
    const noopPrefix = `{bench-noop-${randomBytes(3).toString('hex')}}`;
    const server = await startHelper<{ url: string }>(ctx.scope, 'ws-server', {
      label: 'noop-worker+ws',
      env: { NOOP_QUEUE: 'true', ...engineEnv(stack.redis.target), NOOP_QUEUE_PREFIX: noopPrefix, NOOP_QUEUE_NAME: 'licensegate-admin', NOOP_CONCURRENCY: String(concurrency) },
    });
    const rawDriver = await startHelper(ctx.scope, 'driver', { label: 'driver#bare', env: { UV_THREADPOOL_SIZE: '4' } });
    const raw = await rawDriver.call<{ connected: number }>('raw-connect', {
      url: server.ready.url,
      count: n,
      concurrency: ctx.opts.concurrency,
      timeoutMs: connectTimeoutMs(n),
      sourceIps: ctx.sizes.sourceIps,
      heartbeatMs: HEARTBEAT_MS,
    });
    if (raw.connected !== n) throw new Error(`baseline: only ${raw.connected}/${n} bare clients connected`);
    await sleep(1_000);
    ctx.log(`${n} agents and ${n} bare clients online; ${WINDOWS} × (${perWindow} unassign jobs, then ${perWindow} no-op jobs) at ${rate}/s`);

    const realRuns: RateRun[] = [];
    const baseRuns: RateRun[] = [];
    const windows: Record<string, unknown>[] = [];
    for (let w = 0; w < WINDOWS; w++) {
      const from = w * perWindow;
      const commands = await RedisCommandWindow.start(stack.redis.redis);
      const slow = await RedisSlowWindow.start(stack.redis.redis);
      const loop = await LoopDelayWindow.start(stack.inspectors());
      const cpu = new CpuWindow({ ...stack.pids(), server: server.pid, bareDriver: rawDriver.pid });
      const window = () => stack.driver.call<RateRun>('unassign-run', { target: stack.redis.target, queuePrefix: stack.ledger.queuePrefix, rate, count: perWindow, from, timeoutMs: 30_000 });
      // --profile profiles the first window only.
      const real = w === 0 ? await ctx.profile('unassign', stack.inspectors(), window) : await window();
      const realCpu = cpu.stop();
      const realCommands = await commands.stop(perWindow);
      const realLoop = await loop.stop();
      const realSlow = await slow.stop();
      realRuns.push(real);

      const bCommands = await RedisCommandWindow.start(stack.redis.redis);
      const bSlow = await RedisSlowWindow.start(stack.redis.redis);
      const bCpu = new CpuWindow({ ...stack.pids(), server: server.pid, bareDriver: rawDriver.pid });
      const base = await rawDriver.call<RateRun>('push-run', { target: stack.redis.target, queuePrefix: noopPrefix, queueName: 'licensegate-admin', rate, count: perWindow, from, timeoutMs: 30_000 });
      const baseCpu = bCpu.stop();
      baseRuns.push(base);
      ctx.log(`window ${w + 1}: licensegate p50 ${real.latency?.p50} p99 ${real.latency?.p99} ms; baseline p50 ${base.latency?.p50} p99 ${base.latency?.p99} ms`);
      windows.push({
        licensegate: withoutData(real),
        baseline: withoutData(base),
        cpuPercent: realCpu,
        baselineCpuPercent: baseCpu,
        eventLoopDelayMs: realLoop,
        redisSlowCommands: realSlow,
        baselineRedisSlowCommands: await bSlow.stop(),
        redisCommandsPerJob: realCommands,
        baselineRedisCommandsPerJob: await bCommands.stop(perWindow),
      });
    }
    await stack.driver.call('close-agents', { timeoutMs: 10_000 });
    await rawDriver.call('close-raws', { timeoutMs: 10_000 });
    await server.call('close', {}, 10_000).catch(() => {});
    await Promise.all([stopChild(server.child, 5_000), stopChild(rawDriver.child, 5_000)]);

    const pooled = (runs: RateRun[]) => {
      const h = new Histogram();
      for (const r of runs) if (r.latencyData) h.merge(r.latencyData as HistogramData);
      return h.summary();
    };
    const realLatency = pooled(realRuns);
    const baseLatency = pooled(baseRuns);
    const missing = realRuns.reduce((m, r) => m + r.missing, 0);
    const baseMissing = baseRuns.reduce((m, r) => m + r.missing, 0);
    const total = perWindow * WINDOWS;
    const value = realLatency?.p99 ?? null;
    const baseline = baseLatency?.p99 ?? null;
    const rt = ratio(value, baseline);
    ctx.log(`licensegate: p50 ${realLatency?.p50} ms p99 ${value} ms; baseline: p50 ${baseLatency?.p50} ms p99 ${baseline} ms`);
    const problems = [
      missing ? `${missing}/${total} agents got no StopMonitoring within 30 s of the last job` : '',
      baseMissing ? `baseline: ${baseMissing}/${total} pushes missing` : '',
    ].filter(Boolean);
    return {
      'stop-latency': {
        ...(problems.length ? { error: problems.join('; ') } : {}),
        value,
        unit: 'ms p99',
        baseline,
        ratio: rt,
        goal: `ratio ≤ ${GOAL_STOP_RATIO}`,
        met: rt !== null && rt <= GOAL_STOP_RATIO && missing === 0,
        details: {
          agentsOnline: n,
          bareClientsOnline: n,
          jobs: total,
          windows: WINDOWS,
          ratePerSec: rate,
          workerConcurrency: concurrency,
          method: `both sides up at once; ${WINDOWS} windows of ${perWindow} jobs each, licensegate then baseline, so that drift and host stalls fall on both; p99 over each side's pooled samples`,
          licensegate: { latency: realLatency, missing },
          baseline: { latency: baseLatency, missing: baseMissing },
          perWindow: windows,
        },
      },
    };
  },
};
