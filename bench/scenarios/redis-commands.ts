/**
 * redis-commands: Redis commands per enrollment, reconnect, heartbeat flush and admin job on
 * every engine — one Redis, Sentinel (1 primary + 2 replicas + 3 sentinels) and a Cluster
 * (3 masters + 3 replicas) — in one run, so the per-operation costs of the three modes sit side
 * by side (SPEC X1; issue 9: "from INFO commandstats deltas, for every engine"). The other
 * scenarios measure them only on the run's --engine, at their own fleet sizes.
 *
 * Per engine, on a fresh stack (gateway, admin worker in its own process, driver; the engine is
 * started and stopped within the scenario), with a modest fleet of the default tenant:
 *  - enrollment: the fleet's first connect (enrollment token → licensed, StartMonitoring);
 *  - heartbeatFlush: the fleet connected and idle, heartbeating every 2 s, over exactly one
 *    LAST_SEEN_FLUSH_MS window (5 s) after a settle: everything Redis ran in it (the flush of
 *    every agent's last-seen, plus the gateway's node heartbeat and the idle BullMQ worker),
 *    per flush and per agent;
 *  - reconnect: every agent closes (recorded offline), then the same fleet connects again with
 *    its credentials and lastAckedSeq;
 *  - job: with the agents offline, JOB_CLIENTS Clients unassigned then assigned again by the
 *    worker (2 jobs each, AdminClient's job options), per job.
 * Each window is INFO commandstats before and after, summed over every master
 * (bench/lib/redis-stats.ts), with the per-command breakdown. The job window also holds the
 * bench's own completion polling (JobQueue.runBatch: one getJobCounts script every 20 ms), as
 * job-throughput's redisCommandsPerJob does.
 *
 * No goal: a measurement. Value: the Cluster's commands per enrollment; baseline: one Redis's;
 * ratio: value / baseline. met = every engine measured with the whole fleet licensed and back.
 */
import { ADMIN_QUEUE } from '../../src/jobs/contract.ts';
import { poolFor } from '../lib/fleet.ts';
import { ENGINES, type BenchEngine } from '../lib/engine.ts';
import { JobQueue } from '../lib/jobs.ts';
import { round2 } from '../lib/proc-stats.ts';
import { RedisCommandWindow, type CommandDelta } from '../lib/redis-stats.ts';
import { connectTimeoutMs, ratio, sleep, type ScenarioContext, type ScenarioDef } from '../lib/scenario.ts';
import { ENROLLMENT_TOKEN } from '../lib/setup.ts';
import { startStack } from '../lib/stack.ts';
import type { EnrollResult } from './boot-storm.ts';
import { batches } from './job-throughput.ts';

/** The gateway's last-seen flush interval (gateway-options.ts lastSeenFlushMs default). */
const LAST_SEEN_FLUSH_MS = 5_000;
/** Heartbeat interval of the stack: every agent heartbeats within each flush window. */
const HEARTBEAT_MS = 2_000;
const fleetFor = (ctx: ScenarioContext) => ctx.opts.agents ?? (ctx.opts.quick ? 300 : 1_000);
/** Clients unassigned then assigned again (2 jobs each). */
const jobClients = (n: number) => Math.min(100, n);

export type EngineCommands = {
  enrollment: CommandDelta;
  reconnect: CommandDelta;
  heartbeatFlush: CommandDelta & { perAgent: number; windowMs: number };
  job: CommandDelta;
};

async function measure(ctx: ScenarioContext, engine: BenchEngine, n: number): Promise<EngineCommands> {
  const stack = await startStack(ctx, { engine, pool: poolFor(n), worker: true, gatewayEnv: { HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS) } });
  try {
    const redis = stack.redis.redis;
    const common = { url: stack.gateway.url, count: n, concurrency: ctx.opts.concurrency, timeoutMs: connectTimeoutMs(n), sourceIps: ctx.sizes.sourceIps };
    await sleep(1_000);

    // 1. Enrollment: first connects, until every agent is licensed.
    let w = await RedisCommandWindow.start(redis);
    const enrolled = await stack.driver.call<EnrollResult>('enroll', { ...common, prefix: 'rc', token: ENROLLMENT_TOKEN, waitLicense: true });
    const enrollment = await w.stop(n, 'enrollment');
    if (enrolled.licensed !== n) throw new Error(`${engine}: only ${enrolled.licensed}/${n} agents licensed: ${JSON.stringify(enrolled.finalFailures)}`);

    // 2. One heartbeat flush with the fleet idle (settled: two heartbeats and a flush past).
    await sleep(Math.max(2 * HEARTBEAT_MS, LAST_SEEN_FLUSH_MS) + 1_000);
    w = await RedisCommandWindow.start(redis);
    const t0 = performance.now();
    await sleep(LAST_SEEN_FLUSH_MS);
    const windowMs = performance.now() - t0;
    const flush = await w.stop(windowMs / LAST_SEEN_FLUSH_MS, `heartbeat flush (the gateway's last-seen flush of ${n} agents, every ${LAST_SEEN_FLUSH_MS} ms)`);
    const heartbeatFlush = { ...flush, perAgent: round2(flush.perUnit / n), windowMs: Math.round(windowMs) };

    // 3. Reconnect: everyone closes (recorded offline), then comes back with its credentials.
    await stack.driver.call('close-agents', { timeoutMs: 10_000 });
    await sleep(1_500);
    w = await RedisCommandWindow.start(redis);
    const back = await stack.driver.call<EnrollResult & { lostLicense: number }>('reconnect', { ...common, settleMs: 0 });
    const reconnect = await w.stop(n, 'reconnect');
    if (back.welcomed - back.lostLicense !== n) throw new Error(`${engine}: only ${back.welcomed - back.lostLicense}/${n} agents back online with their license: ${JSON.stringify(back.finalFailures)}`);

    // 4. Admin jobs, agents offline (the worker alone, as job-throughput's value).
    await stack.driver.call('close-agents', { timeoutMs: 10_000 });
    await sleep(1_500);
    const k = jobClients(n);
    const { unassign, assign } = batches(k, 'rc');
    const admin = new JobQueue(stack.redis.target, ADMIN_QUEUE, stack.ledger.queuePrefix);
    try {
      await admin.queue.waitUntilReady();
      w = await RedisCommandWindow.start(redis);
      const done = [await admin.runBatch(unassign, 60_000), await admin.runBatch(assign, 60_000)];
      const job = await w.stop(2 * k, 'job');
      const completed = done.reduce((a, r) => a + r.completed, 0);
      if (completed !== 2 * k) throw new Error(`${engine}: only ${completed}/${2 * k} jobs completed (${done.flatMap((r) => r.failedReasons).join('; ').slice(0, 300)})`);
      ctx.log(`${engine}: per enrollment ${enrollment.perUnit}, per reconnect ${reconnect.perUnit}, per heartbeat flush ${heartbeatFlush.perUnit} (${heartbeatFlush.perAgent} per agent), per job ${job.perUnit} commands (${enrollment.masters} master(s))`);
      return { enrollment, reconnect, heartbeatFlush, job };
    } finally {
      await admin.close();
    }
  } finally {
    await stack.stop();
  }
}

export const redisCommands: ScenarioDef = {
  name: 'redis-commands',
  // Three stacks, two of them real topologies: about two minutes even in its quick form.
  fullRunOnly: true,
  produces: ['redis-commands'],
  rows: { 'redis-commands': { unit: 'commands/enrollment', goal: 'none: a measurement' } },
  // Per engine: topology start-up, enrollment, settle and flush, reconnect, jobs, teardown.
  timeoutMs: (s) => 30_000 + ENGINES.length * (150_000 + 2 * connectTimeoutMs(s.fleet)),
  async run(ctx) {
    const n = fleetFor(ctx);
    const engines: Partial<Record<BenchEngine, EngineCommands>> = {};
    for (const engine of ENGINES) engines[engine] = await measure(ctx, engine, n);
    const value = engines.cluster!.enrollment.perUnit;
    const baseline = engines.single!.enrollment.perUnit;
    return {
      'redis-commands': {
        value,
        unit: 'commands/enrollment',
        baseline,
        ratio: ratio(value, baseline),
        goal: 'none: a measurement',
        met: true,
        details: {
          agents: n,
          jobs: 2 * jobClients(n),
          heartbeatIntervalMs: HEARTBEAT_MS,
          engineSetup: {
            single: 'one redis-server, in memory',
            sentinel: '1 primary + 2 replicas + 3 sentinels, AOF everysec (chaos/lib/redis-sentinel.ts); the primary counted',
            cluster: '3 masters + 3 replicas, AOF everysec (chaos/lib/redis-cluster.ts); the masters summed, one tenant (one slot) plus {g} and the queue',
          },
          method: 'INFO commandstats deltas summed over every master, Lua inner commands included; value: cluster commands per enrollment, baseline: single, ratio value / baseline',
          engines,
        },
      },
    };
  },
};
