/**
 * redis-memory (SPEC X5; docs/capacity.md): what one Redis shard spends per Client, per online
 * agent and per operation — memory and CPU — so that the capacity plan for a million agents is
 * derived from measurements, not guesses.
 *
 * 1. Calibration with real agents (a stack on one in-memory redis-server: gateway, admin
 *    worker, driver): the fleet enrolls (licensed), disconnects, reconnects, and with the
 *    agents offline its Clients are unassigned and assigned again by the worker. `INFO memory`
 *    used_memory after each step gives bytes per online Client, per offline Client and per
 *    admin job (BullMQ's kept job, the operation's stored result, audit/events entries, the
 *    command log entries waiting for the agent); MEMORY USAGE splits them into their keys.
 *    Redis main-thread CPU (INFO cpu) per enrollment, reconnect and job over the same windows.
 * 2. The big-tenant layout (../lib/big-tenant-memory.ts) at the calibration size — to check it
 *    agrees with the real enrollments — and at 10k and 100k Clients, online and offline; the
 *    Redis CPU of the heartbeat flush per Client on the biggest. On the run's --engine (one
 *    in-memory Redis by default; `--engine cluster`: AOF and replicas, what a durable shard costs).
 *
 * No goal (a measurement). Value: bytes per online licensed Client at the biggest big-tenant
 * size; baseline: the same from real enrollments (calibration); ratio value / baseline (≈ 1
 * when the big-tenant layout is faithful and memory grows linearly).
 */
import { ADMIN_QUEUE } from '../../src/jobs/contract.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { nodesOf } from '../../src/store/redis-connection.ts';
import { measureBigTenant, measureTouch, type BigTenantMemory, type ClientTemplate } from '../lib/big-tenant-memory.ts';
import { clientIdOf, LICENSE_OF, poolFor } from '../lib/fleet.ts';
import { JobQueue } from '../lib/jobs.ts';
import { perUnit, readMemory, scanBytes, streamCost, tenantBreakdown, type MemoryReading } from '../lib/redis-memory.ts';
import { RedisCommandWindow } from '../lib/redis-stats.ts';
import { connectTimeoutMs, ratio, sleep, type ScenarioContext, type ScenarioDef } from '../lib/scenario.ts';
import { ENROLLMENT_TOKEN, startEngine, startRedis } from '../lib/setup.ts';
import { startStack, type Stack } from '../lib/stack.ts';
import type { EnrollResult } from './boot-storm.ts';
import { batches } from './job-throughput.ts';

const PREFIX = 'rm';
/** Share of one core a shard is planned to run at (docs/capacity.md). */
const PLANNED_CORE_SHARE = 0.7;

function sizes(ctx: ScenarioContext): { calibration: number; big: number[] } {
  const n = ctx.opts.agents;
  if (n !== undefined) return { calibration: n, big: [n, 10 * n] };
  return ctx.opts.quick ? { calibration: 500, big: [500, 5_000] } : { calibration: 5_000, big: [5_000, 10_000, 100_000] };
}

const jobClientsFor = (n: number) => Math.min(n, 1_000);

/** Waits (bounded) until the tenant's online hash has `want` entries. */
async function onlineCount(stack: Stack, want: number, timeoutMs = 30_000): Promise<void> {
  const key = stack.ledger.keys.online(DEFAULT_TENANT);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = Number(await stack.redis.redis.hlen(key));
    if (n === want) return;
    if (Date.now() > deadline) throw new Error(`online Clients: ${n}, expected ${want} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Redis connections by client name (CLIENT LIST): what one gateway process and one worker hold. */
async function connectionsByName(stack: Stack): Promise<Record<string, number>> {
  const list = String(await stack.redis.redis.call('CLIENT', 'LIST'));
  const out: Record<string, number> = {};
  for (const m of list.matchAll(/ name=(\S*)/g)) out[m[1] || '(unnamed)'] = (out[m[1] || '(unnamed)'] ?? 0) + 1;
  return out;
}

/** Memory read after a short settle, so late acks, the last-seen flush and frees are in. */
async function settled(stack: Stack): Promise<MemoryReading> {
  await sleep(1_500);
  return readMemory(stack.redis.redis, { keyspace: true });
}

const coreOps = (us: number | undefined) => (us && us > 0 ? Math.round((PLANNED_CORE_SHARE * 1e6) / us) : null);

async function calibrate(ctx: ScenarioContext, n: number) {
  const stack = await startStack(ctx, { engine: 'single', pool: poolFor(n), worker: true });
  try {
    const redis = stack.redis.redis;
    const keys = stack.ledger.keys;
    const common = { url: stack.gateway.url, count: n, concurrency: ctx.opts.concurrency, timeoutMs: connectTimeoutMs(n), sourceIps: ctx.sizes.sourceIps };
    const m0 = await settled(stack);
    const connections = await connectionsByName(stack);

    let w = await RedisCommandWindow.start(redis);
    const enrolled = await stack.driver.call<EnrollResult>('enroll', { ...common, prefix: PREFIX, token: ENROLLMENT_TOKEN, waitLicense: true });
    const enrollment = await w.stop(n, 'enrollment');
    if (enrolled.licensed !== n) throw new Error(`only ${enrolled.licensed}/${n} agents licensed: ${JSON.stringify(enrolled.finalFailures)}`);
    const mOnline = await settled(stack);
    const types = [...new Set(Object.values(LICENSE_OF))];
    const sample = Array.from({ length: Math.min(50, n) }, (_, k) => clientIdOf(PREFIX, Math.floor((k * n) / Math.min(50, n))));
    const onlineBreakdown = await tenantBreakdown(redis, keys, sample, n, types);
    const first = clientIdOf(PREFIX, 0);
    const template: ClientTemplate = {
      hash: await redis.hgetall(keys.client(DEFAULT_TENANT, first)),
      onlineToken: (await redis.hget(keys.online(DEFAULT_TENANT), first)) ?? '',
      claimed: (await redis.hexists(keys.clientTenant(), first)) === 1,
    };
    const streamsAfterEnroll = { audit: await streamCost(redis, keys.audit(DEFAULT_TENANT)), events: await streamCost(redis, keys.events(DEFAULT_TENANT)) };

    await stack.driver.call('close-agents', { timeoutMs: 10_000 });
    await onlineCount(stack, 0);
    const mOffline = await settled(stack);
    const offlineBreakdown = await tenantBreakdown(redis, keys, sample, n, types);
    const streamsAfterOffline = { audit: await streamCost(redis, keys.audit(DEFAULT_TENANT)), events: await streamCost(redis, keys.events(DEFAULT_TENANT)) };

    w = await RedisCommandWindow.start(redis);
    const back = await stack.driver.call<EnrollResult & { lostLicense: number }>('reconnect', { ...common, settleMs: 0 });
    const reconnect = await w.stop(n, 'reconnect');
    if (back.welcomed - back.lostLicense !== n) throw new Error(`only ${back.welcomed - back.lostLicense}/${n} agents back online with their license`);
    await stack.driver.call('close-agents', { timeoutMs: 10_000 });
    await onlineCount(stack, 0);
    const mBeforeJobs = await settled(stack);

    const k = jobClientsFor(n);
    const { unassign, assign } = batches(k, PREFIX);
    const admin = new JobQueue(stack.redis.target, ADMIN_QUEUE, stack.ledger.queuePrefix);
    const queueBefore = await scanBytes(redis, `${stack.ledger.queuePrefix}*`);
    const logsBefore = await scanBytes(redis, `${keys.tenantBase(DEFAULT_TENANT)}cmds:*`);
    const opsBefore = await scanBytes(redis, `${keys.tenantBase(DEFAULT_TENANT)}op:*`);
    let job;
    try {
      await admin.queue.waitUntilReady();
      w = await RedisCommandWindow.start(redis);
      const done = [await admin.runBatch(unassign, 60_000 + k * 20), await admin.runBatch(assign, 60_000 + k * 20)];
      job = await w.stop(2 * k, 'admin job (unassign or assign, agent offline)');
      const completed = done.reduce((a, r) => a + r.completed, 0);
      if (completed !== 2 * k) throw new Error(`only ${completed}/${2 * k} jobs completed`);
    } finally {
      await admin.close();
    }
    const mAfterJobs = await settled(stack);
    const queueAfter = await scanBytes(redis, `${stack.ledger.queuePrefix}*`);
    const logsAfter = await scanBytes(redis, `${keys.tenantBase(DEFAULT_TENANT)}cmds:*`);
    const opsAfter = await scanBytes(redis, `${keys.tenantBase(DEFAULT_TENANT)}op:*`);
    const streamsAfterJobs = { audit: await streamCost(redis, keys.audit(DEFAULT_TENANT)), events: await streamCost(redis, keys.events(DEFAULT_TENANT)) };
    // The agents come back and acknowledge their Stop/StartMonitoring: the log is trimmed, but
    // its (empty) stream key stays — what every Client that ever got a command keeps.
    const again = await stack.driver.call<EnrollResult & { lostLicense: number }>('reconnect', { ...common, settleMs: 1_000 });
    if (again.welcomed !== n) throw new Error(`only ${again.welcomed}/${n} agents back after the jobs`);
    await stack.driver.call('close-agents', { timeoutMs: 10_000 });
    await onlineCount(stack, 0);
    const mAcked = await settled(stack);
    const logsAcked = await scanBytes(redis, `${keys.tenantBase(DEFAULT_TENANT)}cmds:*`);
    const perJob = (a: number, b: number) => Math.round(((a - b) / (2 * k)) * 10) / 10;
    const jobs = {
      jobs: 2 * k,
      perJob: perUnit(mBeforeJobs, mAfterJobs, 2 * k),
      split: {
        bullmqKeptJob: perJob(queueAfter.bytes, queueBefore.bytes),
        operationResult: perJob(opsAfter.bytes, opsBefore.bytes),
        commandLogWaitingForAgent: perJob(logsAfter.bytes, logsBefore.bytes),
        audit: perJob(streamsAfterJobs.audit.bytes, streamsAfterEnroll.audit.bytes),
        events: perJob(streamsAfterJobs.events.bytes, streamsAfterEnroll.events.bytes),
      },
      afterAgentsAcked: {
        perJob: perUnit(mBeforeJobs, mAcked, 2 * k),
        commandLogKeys: logsAcked.keys,
        commandLogBytesPerClient: logsAcked.keys > 0 ? Math.round(logsAcked.bytes / logsAcked.keys) : 0,
      },
      note: 'BullMQ keeps a completed job 7 days (AdminClient removeOnComplete age) and the operation result lives as long (OP_RESULT_RETENTION_MS); the command log entries stay until the agent acknowledges them on its next connect',
    };
    const streamsBytes = streamsAfterEnroll.audit.bytes + streamsAfterEnroll.events.bytes;
    return {
      agents: n,
      redisConnectionsByName: connections,
      perOnlineClient: perUnit(m0, mOnline, n),
      perOfflineClient: perUnit(m0, mOffline, n),
      // The Client's own state, the audit and events entries of its enrollment taken out
      // (what the big-tenant layout is compared with).
      perOnlineClientState: Math.round((mOnline.usedMemory - m0.usedMemory - streamsBytes) / n),
      perOfflineClientState: Math.round((mOffline.usedMemory - m0.usedMemory - streamsBytes) / n),
      onlineExtraPerAgent: Math.round((mOnline.usedMemory - mOffline.usedMemory) / n),
      readings: { empty: m0, online: mOnline, offline: mOffline, beforeJobs: mBeforeJobs, afterJobs: mAfterJobs },
      streamsAfterEnroll,
      streamsAfterOffline,
      onlineBreakdown,
      offlineBreakdown,
      jobs,
      template: { fields: Object.keys(template.hash).length, claimed: template.claimed },
      templateValue: template,
      redisCpu: {
        method: `Redis main-thread CPU (INFO cpu used_cpu_user/sys_main_thread) over the window / operations; ops/s at ${PLANNED_CORE_SHARE * 100} % of one core = ${PLANNED_CORE_SHARE} s / µs per op`,
        enrollment: { usPerOp: enrollment.cpuUsPerUnit, commandsPerOp: enrollment.perUnit, opsPerSecAtPlannedShare: coreOps(enrollment.cpuUsPerUnit) },
        reconnect: { usPerOp: reconnect.cpuUsPerUnit, commandsPerOp: reconnect.perUnit, opsPerSecAtPlannedShare: coreOps(reconnect.cpuUsPerUnit) },
        job: { usPerOp: job.cpuUsPerUnit, commandsPerOp: job.perUnit, opsPerSecAtPlannedShare: coreOps(job.cpuUsPerUnit) },
      },
    };
  } finally {
    await stack.stop();
  }
}

export const redisMemory: ScenarioDef = {
  name: 'redis-memory',
  produces: ['redis-memory'],
  rows: { 'redis-memory': { unit: 'B/online Client', goal: 'none: a measurement' } },
  timeoutMs: () => 900_000,
  async run(ctx) {
    const { calibration, big } = sizes(ctx);
    const cal = await calibrate(ctx, calibration);
    const { templateValue, ...calibrationDetails } = cal;
    ctx.log(`calibration (${calibration} real agents): ${cal.perOnlineClient.usedMemory} B per online Client, ${cal.perOfflineClient.usedMemory} B offline, ${cal.jobs.perJob.usedMemory} B per admin job; Redis CPU µs per enrollment ${cal.redisCpu.enrollment.usPerOp}, reconnect ${cal.redisCpu.reconnect.usPerOp}, job ${cal.redisCpu.job.usPerOp}`);

    // The big tenants and the heartbeat flush on the run's --engine (one in-memory Redis unless
    // asked); the calibration above always runs on one in-memory Redis.
    const r = ctx.opts.engine === 'single' ? await startRedis(ctx.scope) : await startEngine(ctx.scope, ctx.opts.engine, { dataDir: ctx.scratch });
    const bigTenant: BigTenantMemory[] = [];
    let touch;
    for (const size of big) {
      for (const state of ['offline', 'online'] as const) {
        const m = await measureBigTenant(r, ctx.scratch, templateValue, size, state);
        bigTenant.push(m.result);
        ctx.log(`big tenant ${size} ${state}: ${m.result.perClient.usedMemory} B per Client (built in ${m.result.buildMs} ms)`);
        if (state === 'online' && size === big[big.length - 1]) touch = await measureTouch(r, m.keys, m.ids);
      }
    }
    for (const node of nodesOf(r.redis)) await node.flushall();
    const at = (size: number, state: 'online' | 'offline') => bigTenant.find((b) => b.clients === size && b.state === state)!.perClient.usedMemory;
    const largest = big[big.length - 1]!;
    const value = at(largest, 'online');
    const baseline = cal.perOnlineClientState;
    const agreement = { online: ratio(at(calibration, 'online'), cal.perOnlineClientState), offline: ratio(at(calibration, 'offline'), cal.perOfflineClientState) };
    ctx.log(`big tenant vs real at ${calibration}: online ${agreement.online}, offline ${agreement.offline}; touch ${touch?.cpuUsPerUnit} µs per Client`);
    return {
      'redis-memory': {
        value,
        unit: 'B/online Client',
        baseline,
        ratio: ratio(value, baseline),
        goal: 'none: a measurement',
        met: true,
        details: {
          method: 'INFO memory used_memory before/after on a private in-memory redis-server (no AOF); value: the big-tenant layout at the largest size, online licensed Clients; baseline: real enrollments through the gateway (calibration), the audit/events entries of the enrollment taken out',
          calibration: calibrationDetails,
          bigTenantEngine: ctx.opts.engine,
          bigTenant,
          agreementAtCalibrationSize: agreement,
          heartbeatFlush: touch && {
            clients: largest,
            usPerClient: touch.cpuUsPerUnit,
            commandsPerClient: touch.perUnit,
            wallMs: touch.wallMs,
            clientsPerSecAtPlannedShare: coreOps(touch.cpuUsPerUnit),
            commands: touch.commands,
          },
        },
      },
    };
  },
};
