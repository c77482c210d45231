/**
 * stop-latency: with the fleet online, unassign jobs arrive at a steady rate (plain BullMQ, the
 * AdminClient's job options) and are run by the admin worker in its own process; the gateway
 * (RUN_WORKERS=false) delivers StopMonitoring. Value: p99 of enqueue → StopMonitoring received.
 *
 * Baseline, same run, same rate and job count: a no-op BullMQ worker on the same Redis whose
 * processor pushes one frame over a bare ws connection to the driver — raw BullMQ
 * enqueue → processed plus a raw ws push, end to end on the driver's clock. The baseline holds
 * the same N connections as the fleet, heartbeating at the same interval, so that both sides
 * measure on a machine carrying the same online fleet (on 2 shared cores, 10,000 idle sockets
 * in the driver and the server are most of the tail). Goal: p99 ≤ 2 × baseline p99.
 */
import { randomBytes } from 'node:crypto';
import { startHelper } from '../lib/ipc.ts';
import { poolFor } from '../lib/fleet.ts';
import { CpuWindow } from '../lib/proc-stats.ts';
import { connectTimeoutMs, ratio, sleep, type ScenarioDef } from '../lib/scenario.ts';
import { stopChild } from '../lib/scope.ts';
import { LoopDelayWindow } from '../lib/inspector.ts';
import { RedisCommandWindow, RedisSlowWindow } from '../lib/redis-stats.ts';
import { enrollLicensedFleet, startStack } from '../lib/stack.ts';
import type { Latency } from '../lib/types.ts';

export const GOAL_STOP_RATIO = 2;
/** Heartbeat interval of the agents and of the baseline's bare clients (the gateway default). */
const HEARTBEAT_MS = 15_000;

type RateRun = { jobs: number; received: number; missing: number; latency: Latency; [k: string]: unknown };

const withoutData = ({ latencyData: _drop, ...rest }: RateRun) => rest;

export const stopLatency: ScenarioDef = {
  name: 'stop-latency',
  produces: ['stop-latency'],
  rows: { 'stop-latency': { unit: 'ms p99', goal: `ratio ≤ ${GOAL_STOP_RATIO}` } },
  timeoutMs: (s) => 150_000 + 2 * connectTimeoutMs(s.stopAgents) + 2 * (s.stopSeconds * 1000 + 30_000),
  async run(ctx) {
    const n = ctx.sizes.stopAgents;
    const rate = ctx.sizes.stopRate;
    const jobs = Math.min(n, rate * ctx.sizes.stopSeconds);
    // Inspectors on: event-loop delay of the gateway and the worker over the window.
    const stack = await startStack(ctx, { pool: poolFor(n), worker: true, inspect: true, gatewayEnv: { HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS) } });
    const concurrency = stack.worker!.ready.concurrency;
    await enrollLicensedFleet(ctx, stack, 'stop', n);
    await sleep(1_000);
    ctx.log(`${n} agents online; ${jobs} unassign jobs at ${rate}/s`);
    const commands = await RedisCommandWindow.start(stack.redis.redis);
    const slow = await RedisSlowWindow.start(stack.redis.redis);
    const loop = await LoopDelayWindow.start(stack.inspectors());
    const cpu = new CpuWindow(stack.pids());
    const real = await ctx.profile('unassign', stack.inspectors(), () => stack.driver.call<RateRun>('unassign-run', {
      redisUrl: stack.redis.url,
      queuePrefix: stack.ledger.queuePrefix,
      rate,
      count: jobs,
      timeoutMs: 30_000,
    }));
    const cpuPct = cpu.stop();
    const redisCommands = await commands.stop(jobs);
    const loopDelay = await loop.stop();
    const redisSlow = await slow.stop();
    ctx.log(`licensegate: p50 ${real.latency?.p50} ms p99 ${real.latency?.p99} ms max ${real.latency?.max} ms, missing ${real.missing}`);
    await stack.driver.call('close-agents', { timeoutMs: 10_000 });
    await stack.gateway.stop();
    await stack.stopWorker();

    // --- baseline: no-op BullMQ worker + bare ws push ---
    const noopPrefix = `{bench-noop-${randomBytes(3).toString('hex')}}`;
    const server = await startHelper<{ url: string }>(ctx.scope, 'ws-server', {
      label: 'noop-worker+ws',
      env: { NOOP_QUEUE_REDIS_URL: stack.redis.url, NOOP_QUEUE_PREFIX: noopPrefix, NOOP_QUEUE_NAME: 'licensegate-admin', NOOP_CONCURRENCY: String(concurrency) },
    });
    // The same online fleet: n bare clients heartbeating like the agents; jobs push to the first ones.
    const raw = await stack.driver.call<{ connected: number }>('raw-connect', {
      url: server.ready.url,
      count: n,
      concurrency: ctx.opts.concurrency,
      timeoutMs: connectTimeoutMs(n),
      sourceIps: ctx.sizes.sourceIps,
      heartbeatMs: HEARTBEAT_MS,
    });
    if (raw.connected !== n) throw new Error(`baseline: only ${raw.connected}/${n} bare clients connected`);
    await sleep(1_000);
    const bCommands = await RedisCommandWindow.start(stack.redis.redis);
    const bSlow = await RedisSlowWindow.start(stack.redis.redis);
    const bCpu = new CpuWindow({ server: server.pid, redis: stack.redis.pid, driver: stack.driver.pid });
    const base = await stack.driver.call<RateRun>('push-run', {
      redisUrl: stack.redis.url,
      queuePrefix: noopPrefix,
      queueName: 'licensegate-admin',
      rate,
      count: jobs,
      timeoutMs: 30_000,
    });
    const bCpuPct = bCpu.stop();
    const bRedisCommands = await bCommands.stop(jobs);
    const bRedisSlow = await bSlow.stop();
    ctx.log(`baseline: p50 ${base.latency?.p50} ms p99 ${base.latency?.p99} ms max ${base.latency?.max} ms`);
    await stack.driver.call('close-raws', { timeoutMs: 10_000 });
    await server.call('close', {}, 10_000).catch(() => {});
    await stopChild(server.child, 5_000);

    const value = real.latency?.p99 ?? null;
    const baseline = base.latency?.p99 ?? null;
    const rt = ratio(value, baseline);
    const problems = [
      real.missing ? `${real.missing}/${jobs} agents got no StopMonitoring within 30 s of the last job` : '',
      base.missing ? `baseline: ${base.missing}/${jobs} pushes missing` : '',
    ].filter(Boolean);
    return {
      'stop-latency': {
        ...(problems.length ? { error: problems.join('; ') } : {}),
        value,
        unit: 'ms p99',
        baseline,
        ratio: rt,
        goal: `ratio ≤ ${GOAL_STOP_RATIO}`,
        met: rt !== null && rt <= GOAL_STOP_RATIO && real.missing === 0,
        details: {
          agentsOnline: n,
          jobs,
          ratePerSec: rate,
          workerConcurrency: concurrency,
          licensegate: withoutData(real),
          baseline: withoutData(base),
          cpuPercent: cpuPct,
          baselineCpuPercent: bCpuPct,
          eventLoopDelayMs: loopDelay,
          redisSlowCommands: redisSlow,
          baselineRedisSlowCommands: bRedisSlow,
          redisCommandsPerJob: redisCommands,
          baselineRedisCommandsPerJob: bRedisCommands,
        },
      },
    };
  },
};
