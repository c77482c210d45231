/**
 * job-throughput: admin jobs per second through one licensegate worker process
 * (ADMIN_CONCURRENCY default; the gateway runs with RUN_WORKERS=false): every Client of the
 * fleet is unassigned (one batch, enqueued in bulk), then assigned again (a second batch).
 * Run twice: first with the agents online (each job also makes the gateway deliver
 * StopMonitoring / StartMonitoring, acknowledged by the agent — in details), then with the
 * agents offline, which is the value: the worker alone, not the box's other work.
 * Baseline, same run: the same jobs (names, payloads, options) on a no-op BullMQ worker with the
 * same concurrency on the same Redis. Goal: ≥ 0.9 × baseline (SPEC X5, issue 10).
 */
import { randomBytes } from 'node:crypto';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { ADMIN_QUEUE } from '../../src/jobs/contract.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { clientIdOf, poolFor } from '../lib/fleet.ts';
import { engineEnv } from '../lib/engine.ts';
import { startHelper } from '../lib/ipc.ts';
import { JobQueue, type BatchResult } from '../lib/jobs.ts';
import { CpuWindow, round1 } from '../lib/proc-stats.ts';
import { connectTimeoutMs, ratio, sleep, type ScenarioDef } from '../lib/scenario.ts';
import { stopChild } from '../lib/scope.ts';
import { RedisCommandWindow } from '../lib/redis-stats.ts';
import { enrollLicensedFleet, startStack } from '../lib/stack.ts';

export const GOAL_JOBS_RATIO = 0.9;

/** The two batches: unassign every Client `prefix`-0..n-1, then assign each again (also the durability scenario's). */
export function batches(n: number, prefix = 'jobs') {
  const ids = Array.from({ length: n }, (_, i) => clientIdOf(prefix, i));
  const job = (name: string, clientId: string) => ({ name, data: { actor: TECHNICIAN, tenantId: DEFAULT_TENANT, clientId } });
  return { unassign: ids.map((id) => job('client.unassign', id)), assign: ids.map((id) => job('client.assign', id)) };
}

/** Completed jobs per second over the batches (failed jobs do not count). */
export const rateOf = (results: BatchResult[]) => {
  const jobs = results.reduce((a, r) => a + r.completed, 0);
  const ms = results.reduce((a, r) => a + r.elapsedMs, 0);
  return ms > 0 ? round1((jobs / ms) * 1000) : 0;
};

export const jobThroughput: ScenarioDef = {
  name: 'job-throughput',
  produces: ['job-throughput'],
  rows: { 'job-throughput': { unit: 'jobs/s', goal: `ratio ≥ ${GOAL_JOBS_RATIO}` } },
  timeoutMs: (s) => 150_000 + connectTimeoutMs(s.throughputAgents) + 3 * (60_000 + s.throughputAgents * 40),
  async run(ctx) {
    const n = ctx.sizes.throughputAgents;
    const batchTimeout = 60_000 + n * 20;
    const stack = await startStack(ctx, { pool: poolFor(n), worker: true });
    const concurrency = stack.worker!.ready.concurrency;
    await enrollLicensedFleet(ctx, stack, 'jobs', n);
    await sleep(1_000);
    const { unassign, assign } = batches(n);

    const admin = new JobQueue(stack.redis.target, ADMIN_QUEUE, stack.ledger.queuePrefix);
    ctx.scope.defer('admin queue', () => admin.close());
    const batchesFor = (label: string) =>
      ctx.profile(label, stack.inspectors(), async () => [await admin.runBatch(unassign, batchTimeout), await admin.runBatch(assign, batchTimeout)]);

    // 1. Agents online: each job also makes the gateway deliver a command (details).
    let commands = await RedisCommandWindow.start(stack.redis.redis);
    let cpu = new CpuWindow(stack.pids());
    const online = await batchesFor('jobs-online');
    const onlineCpu = cpu.stop();
    const onlineCommands = await commands.stop(2 * n);
    const onlineRate = rateOf(online);
    ctx.log(`licensegate worker, agents online: ${onlineRate} jobs/s`);
    await sleep(500);
    const counts = await stack.driver.call<{ monitoring: number; commands: Record<string, number> }>('counts');
    await stack.driver.call('close-agents', { timeoutMs: 10_000 });
    await sleep(1_000); // disconnects recorded

    // 2. Agents offline: the worker alone (the value).
    commands = await RedisCommandWindow.start(stack.redis.redis);
    cpu = new CpuWindow(stack.pids());
    const real = await batchesFor('jobs-offline');
    const cpuPct = cpu.stop();
    const redisCommands = await commands.stop(2 * n, 'job');
    const value = rateOf(real);
    ctx.log(`licensegate worker, agents offline: ${value} jobs/s (${real.map((r) => `${r.completed} ok ${r.failed} failed in ${r.elapsedMs} ms`).join(', ')})`);
    const invariants = await checkInvariants(stack.redis.redis, stack.ledger.keys);
    await stack.gateway.stop();
    await stack.stopWorker();

    // --- baseline: the same jobs on a no-op worker ---
    const noopPrefix = `{bench-noop-${randomBytes(3).toString('hex')}}`;
    const server = await startHelper(ctx.scope, 'ws-server', {
      label: 'noop-worker',
      env: { NOOP_QUEUE: 'true', ...engineEnv(stack.redis.target), NOOP_QUEUE_PREFIX: noopPrefix, NOOP_QUEUE_NAME: ADMIN_QUEUE, NOOP_CONCURRENCY: String(concurrency) },
    });
    const noop = new JobQueue(stack.redis.target, ADMIN_QUEUE, noopPrefix);
    ctx.scope.defer('noop queue', () => noop.close());
    const bCommands = await RedisCommandWindow.start(stack.redis.redis);
    const bCpu = new CpuWindow({ worker: server.pid, ...stack.redis.pids() });
    const base = [await noop.runBatch(unassign, batchTimeout), await noop.runBatch(assign, batchTimeout)];
    const bCpuPct = bCpu.stop();
    const bRedisCommands = await bCommands.stop(2 * n);
    const baseline = rateOf(base);
    ctx.log(`no-op worker: ${baseline} jobs/s`);
    await server.call('close', {}, 10_000).catch(() => {});
    await stopChild(server.child, 5_000);

    const all = [...real, ...online];
    const failed = all.reduce((a, r) => a + r.failed, 0);
    const unfinished = all.reduce((a, r) => a + r.jobs - r.completed - r.failed, 0);
    const rt = ratio(value, baseline);
    const problems = [
      failed ? `${failed}/${4 * n} licensegate jobs failed (${[...new Set(all.flatMap((r) => r.failedReasons))].join('; ').slice(0, 300)})` : '',
      unfinished ? `${unfinished}/${4 * n} licensegate jobs not finished in time` : '',
    ].filter(Boolean);
    return {
      'job-throughput': {
        ...(problems.length ? { error: problems.join('; ') } : {}),
        value,
        unit: 'jobs/s',
        baseline,
        ratio: rt,
        goal: `ratio ≥ ${GOAL_JOBS_RATIO}`,
        met: rt !== null && rt >= GOAL_JOBS_RATIO && failed === 0 && unfinished === 0,
        details: {
          clients: n,
          jobs: 2 * n,
          workerConcurrency: concurrency,
          engine: ctx.opts.engine,
          note: 'value: the clients offline (the worker alone); withAgentsOnline: the same jobs while the agents are online and the gateway delivers every command',
          licensegate: { unassign: real[0], assign: real[1] },
          baseline: { unassign: base[0], assign: base[1] },
          cpuPercent: cpuPct,
          baselineCpuPercent: bCpuPct,
          redisCommandsPerJob: redisCommands,
          baselineRedisCommandsPerJob: bRedisCommands,
          withAgentsOnline: {
            value: onlineRate,
            ratio: ratio(onlineRate, baseline),
            batches: { unassign: online[0], assign: online[1] },
            agentsMonitoringAfter: counts.monitoring,
            commandsDelivered: counts.commands,
            cpuPercent: onlineCpu,
            redisCommandsPerJob: onlineCommands,
          },
          invariants,
        },
      },
    };
  },
};
