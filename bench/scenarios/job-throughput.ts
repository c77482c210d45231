/**
 * job-throughput: admin jobs per second through one licensegate worker process
 * (ADMIN_CONCURRENCY default; the gateway runs with RUN_WORKERS=false): every Client of the
 * fleet is unassigned (one batch, enqueued in bulk), then assigned again (a second batch).
 * First with the agents online (each job also makes the gateway deliver StopMonitoring /
 * StartMonitoring, acknowledged by the agent — in details), then with the agents offline and the
 * gateway stopped, which is the value: the worker alone, not the box's other work.
 * Baseline, same run: the same jobs (names, payloads, options) on a no-op BullMQ worker with the
 * same concurrency on the same Redis. Offline, both workers are up and take turns for ROUNDS
 * rounds (both batches each, the order alternating), so that the shared machine's drift falls on
 * both sides; the ratio is the median of the per-round ratios. Goal: ≥ 0.9 × baseline (SPEC X5).
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
/** Offline rounds: each runs both batches on licensegate's worker and on the no-op worker. */
const ROUNDS = 3;
const RATIO_METHOD = 'median of per-round ratios; each round runs both batches on each worker, both workers up, the order alternating';

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
  timeoutMs: (s) => 150_000 + connectTimeoutMs(s.throughputAgents) + (ROUNDS + 3) * (60_000 + s.throughputAgents * 40),
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

    // 2. Agents offline: the worker alone (the value). The gateway has nothing left to deliver:
    // stopped, so that neither side shares the box with it.
    await stack.gateway.stop();
    const noopPrefix = `{bench-noop-${randomBytes(3).toString('hex')}}`;
    const server = await startHelper(ctx.scope, 'ws-server', {
      label: 'noop-worker',
      env: { NOOP_QUEUE: 'true', ...engineEnv(stack.redis.target), NOOP_QUEUE_PREFIX: noopPrefix, NOOP_QUEUE_NAME: ADMIN_QUEUE, NOOP_CONCURRENCY: String(concurrency) },
    });
    const noop = new JobQueue(stack.redis.target, ADMIN_QUEUE, noopPrefix);
    ctx.scope.defer('noop queue', () => noop.close());

    // Warm-up, not measured: licensegate's worker ran the online batches, the no-op worker
    // nothing yet (its first round ran at about half its later speed: JIT, connections).
    await noop.runBatch(unassign, batchTimeout);
    await noop.runBatch(assign, batchTimeout);

    // Both workers are up; the sides take turns, round by round (order alternating), so that the
    // machine's drift falls on both: ratio = median of the per-round ratios (as the storms pair).
    const real: BatchResult[] = [];
    const base: BatchResult[] = [];
    const pairs: { first: 'licensegate' | 'noop'; licensegate: number; noop: number; ratio: number | null }[] = [];
    let cpuPct: Record<string, number | null> = {};
    let bCpuPct: Record<string, number | null> = {};
    let redisCommands: Awaited<ReturnType<RedisCommandWindow['stop']>> | undefined;
    let bRedisCommands: typeof redisCommands;
    for (let round = 0; round < ROUNDS; round++) {
      const runLicensegate = async () => {
        const commands = await RedisCommandWindow.start(stack.redis.redis);
        const cpu = new CpuWindow({ worker: stack.worker!.pid, ...stack.redis.pids() });
        const run = async () => [await admin.runBatch(unassign, batchTimeout), await admin.runBatch(assign, batchTimeout)];
        const done = round === 0 ? await ctx.profile('jobs-offline', { worker: stack.inspectors().worker }, run) : await run();
        if (round === 0) {
          cpuPct = cpu.stop();
          redisCommands = await commands.stop(2 * n, 'job');
        }
        real.push(...done);
        return rateOf(done);
      };
      const runNoop = async () => {
        const commands = await RedisCommandWindow.start(stack.redis.redis);
        const cpu = new CpuWindow({ worker: server.pid, ...stack.redis.pids() });
        const done = [await noop.runBatch(unassign, batchTimeout), await noop.runBatch(assign, batchTimeout)];
        if (round === 0) {
          bCpuPct = cpu.stop();
          bRedisCommands = await commands.stop(2 * n);
        }
        base.push(...done);
        return rateOf(done);
      };
      const first = round % 2 === 0 ? 'licensegate' : 'noop';
      let lg: number;
      let nb: number;
      if (first === 'licensegate') {
        lg = await runLicensegate();
        nb = await runNoop();
      } else {
        nb = await runNoop();
        lg = await runLicensegate();
      }
      pairs.push({ first, licensegate: lg, noop: nb, ratio: ratio(lg, nb) });
      ctx.log(`round ${round + 1}/${ROUNDS}: licensegate worker ${lg} jobs/s, no-op worker ${nb} jobs/s`);
    }
    const value = rateOf(real);
    const baseline = rateOf(base);
    const ratios = pairs.map((p) => p.ratio).filter((r): r is number => r !== null).sort((a, b) => a - b);
    const rt = ratios.length === ROUNDS ? ratios[Math.floor(ROUNDS / 2)]! : null;
    ctx.log(`licensegate worker, agents offline: ${value} jobs/s; no-op worker: ${baseline} jobs/s; median per-round ratio ${rt}`);
    const invariants = await checkInvariants(stack.redis.redis, stack.ledger.keys);
    await stack.stopWorker();
    await server.call('close', {}, 10_000).catch(() => {});
    await stopChild(server.child, 5_000);

    const all = [...real, ...online];
    const failed = all.reduce((a, r) => a + r.failed, 0);
    const unfinished = all.reduce((a, r) => a + r.jobs - r.completed - r.failed, 0);
    const problems = [
      failed ? `${failed}/${2 * (ROUNDS + 1) * n} licensegate jobs failed (${[...new Set(all.flatMap((r) => r.failedReasons))].join('; ').slice(0, 300)})` : '',
      unfinished ? `${unfinished}/${2 * (ROUNDS + 1) * n} licensegate jobs not finished in time` : '',
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
          rounds: ROUNDS,
          pairs,
          roundsRatioMethod: RATIO_METHOD,
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
