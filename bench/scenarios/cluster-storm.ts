/**
 * cluster-storm: the boot storm on a 3-shard Redis Cluster (3 masters + 3 replicas) against the
 * same storm on one Redis, in the same run. Value: the Cluster's licensed agents per second per
 * gateway process; baseline: one Redis's; ratio: the median of per-trial ratios cluster / single.
 * Goal ≥ 0.8: spreading the keys over shards must not cost the gateway more than a fifth of its
 * enrollment rate (the extra round trips and per-slot batching of a Cluster client).
 *
 * Fair pairs: both sides are the same stack (one gateway, its admin worker inside, one driver)
 * with the same multi-tenant fleet and pools; one Redis runs with AOF everysec and one
 * in-memory replica, as each Cluster master does (the Cluster's nodes are AOF everysec with one
 * replica each). DURABILITY is the default everysec on both. Each trial runs both sides, in
 * alternating order (single first in odd trials), each on fresh processes.
 *
 * Multi-tenant fleet: one tenant is one hash tag, so the default tenant alone would put every
 * enrollment's tenant work on one master (bench/lib/cluster-tenants.ts): the fleet is spread over
 * TENANTS_PER_SHARD × 3 tenants, two per master, agent i in tenant i % 6. The global client-id
 * claim (`{g}`) lives on whichever master owns its slot.
 *
 * Round trips per enrollment (details.engines.*.roundTrips): before each storm, PROBE agents
 * enroll one at a time (concurrency 1, so no batching with other agents) and the Redis reads
 * they cause (INFO stats total_reads_processed, summed over the masters, minus the background
 * rate measured just before over as long) are divided by PROBE.
 */
import { poolFor } from '../lib/fleet.ts';
import { spreadTenants, tenantPools } from '../lib/cluster-tenants.ts';
import { CpuWindow, round2 } from '../lib/proc-stats.ts';
import { RedisCommandWindow, readsProcessed, type CommandDelta } from '../lib/redis-stats.ts';
import { connectTimeoutMs, medianTrial, sleep, type ScenarioContext, type ScenarioDef } from '../lib/scenario.ts';
import { startStack } from '../lib/stack.ts';
import type { BenchEngine } from '../lib/engine.ts';
import type { EnrollResult } from './boot-storm.ts';

export const GOAL_CLUSTER_RATIO = 0.8;
const SHARDS = 3;
const TENANTS_PER_SHARD = 2;
/** Agents enrolled one at a time to count round trips (per engine, per trial). */
const PROBE = 40;
const GATEWAYS = 1;
const trialsFor = (quick: boolean) => (quick ? 1 : 3);

type Side = {
  engine: BenchEngine;
  ratePerSec: number;
  perGatewayPerSec: number;
  licensed: number;
  elapsedMs: number;
  timeToLicense: EnrollResult['timeToLicense'];
  finalFailures: unknown;
  cpuPercent: Record<string, number | null>;
  redisCommandsPerEnrollment: CommandDelta;
  roundTrips: { perEnrollment: number | null; reads: number; backgroundReadsPerSec: number; probeMs: number; probeCommandsPerEnrollment: number };
  /** Redis reads per enrollment during the storm (batched turns: fewer than the serial probe's). */
  stormReadsPerEnrollment: number;
  /** Gateway CPU per enrollment (ms): what the rate would follow on a quiet, CPU-bound box. */
  gatewayCpuMsPerEnrollment: number | null;
  tenantShards?: Record<string, string>;
};

async function side(ctx: ScenarioContext, engine: BenchEngine, tenants: string[], trial: number): Promise<Side> {
  const n = ctx.sizes.fleet;
  // The probe agents are agents 0..PROBE-1 of their own prefix: the same tenants and OSes as the storm's first ones.
  const pools = tenantPools(tenants, n, 0);
  tenantPools(tenants, PROBE, 0).forEach(({ pool }, k) => {
    for (const [type, c] of Object.entries(pool) as [keyof typeof pool, number][]) pools[k]!.pool[type] = (pools[k]!.pool[type] ?? 0) + c;
  });
  const stack = await startStack(ctx, { engine, pool: poolFor(0), tenants: pools, replica: engine === 'single', durability: 'everysec' });
  try {
    const cluster = stack.redis.topology?.cluster;
    const tenantShards = cluster
      ? Object.fromEntries(await Promise.all(tenants.map(async (t) => [t, `${(await cluster.masterForKey(stack.ledger.keys.tenant(t))).port}`] as const)))
      : undefined;
    const tokens = tenants.map((id) => ({ id, token: stack.ledger.tokens.get(id)! }));
    const enroll = (prefix: string, count: number, concurrency: number) =>
      stack.driver.call<EnrollResult>('enroll', {
        url: stack.gateway.url,
        count,
        prefix,
        token: '',
        tenants: tokens,
        concurrency,
        timeoutMs: connectTimeoutMs(count),
        sourceIps: ctx.sizes.sourceIps,
        waitLicense: true,
      });
    // Round trips: background first, then PROBE serial enrollments over the same kind of window.
    await sleep(1_000);
    const bg0 = await readsProcessed(stack.redis.redis);
    const bgT0 = performance.now();
    await sleep(2_000);
    const bgReads = (await readsProcessed(stack.redis.redis)) - bg0;
    const bgRate = bgReads / ((performance.now() - bgT0) / 1000);
    const probeCommands = await RedisCommandWindow.start(stack.redis.redis);
    const r0 = await readsProcessed(stack.redis.redis);
    const p0 = performance.now();
    const probe = await enroll(`rtt${trial}`, PROBE, 1);
    const probeMs = performance.now() - p0;
    const reads = (await readsProcessed(stack.redis.redis)) - r0;
    const probeCmd = await probeCommands.stop(PROBE, 'enrollment');
    const perEnrollment = probe.licensed === PROBE ? round2((reads - (bgRate * probeMs) / 1000) / PROBE) : null;
    await stack.driver.call('close-agents', { timeoutMs: 10_000 });
    await sleep(500);

    const commands = await RedisCommandWindow.start(stack.redis.redis);
    const s0 = await readsProcessed(stack.redis.redis);
    const cpu = new CpuWindow({ ...stack.pids() });
    const r = await enroll(`cs${trial}`, n, ctx.opts.concurrency);
    const cpuPercent = cpu.stop();
    const stormReads = (await readsProcessed(stack.redis.redis)) - s0;
    const redisCommandsPerEnrollment = await commands.stop(n, 'enrollment');
    const gw = cpuPercent.gateway ?? null;
    const wall = cpuPercent.wallSeconds ?? null;
    const gatewayCpuMsPerEnrollment = gw === null || wall === null ? null : round2((gw / 100) * wall * 1000 / n);
    ctx.log(`trial ${trial} ${engine}: ${r.licensed}/${n} licensed at ${r.ratePerSec}/s (p99 ${r.timeToLicense?.p99} ms); ${redisCommandsPerEnrollment.perUnit} commands and ${perEnrollment} round trips per enrollment (storm: ${round2(stormReads / n)} reads); gateway ${gatewayCpuMsPerEnrollment} ms CPU per enrollment, others ${cpuPercent.others}%`);
    return {
      engine,
      ratePerSec: r.ratePerSec,
      perGatewayPerSec: round2(r.ratePerSec / GATEWAYS),
      licensed: r.licensed,
      elapsedMs: r.elapsedMs,
      timeToLicense: r.timeToLicense,
      finalFailures: r.finalFailures,
      cpuPercent,
      redisCommandsPerEnrollment,
      roundTrips: { perEnrollment, reads, backgroundReadsPerSec: round2(bgRate), probeMs: Math.round(probeMs), probeCommandsPerEnrollment: probeCmd.perUnit },
      stormReadsPerEnrollment: round2(stormReads / n),
      gatewayCpuMsPerEnrollment,
      ...(tenantShards ? { tenantShards } : {}),
    };
  } finally {
    await stack.stop();
  }
}

const median = (xs: number[]): number | null => (xs.length ? medianTrial(xs, (x) => x).trial : null);

export const clusterStorm: ScenarioDef = {
  name: 'cluster-storm',
  fullRunOnly: true,
  produces: ['cluster-storm'],
  rows: { 'cluster-storm': { unit: 'licensed/s per gateway', goal: `cluster/single ≥ ${GOAL_CLUSTER_RATIO}` } },
  // Per trial and side: topology start-up, gateway, probe, storm, teardown.
  timeoutMs: (s) => 30_000 + 2 * trialsFor(false) * (120_000 + connectTimeoutMs(s.fleet)),
  async run(ctx) {
    const n = ctx.sizes.fleet;
    const tenants = spreadTenants(SHARDS, TENANTS_PER_SHARD);
    const pairs: { trial: number; single: Side; cluster: Side; ratio: number | null }[] = [];
    for (let t = 1; t <= trialsFor(ctx.opts.quick); t++) {
      const order: BenchEngine[] = t % 2 === 1 ? ['single', 'cluster'] : ['cluster', 'single'];
      const got: Partial<Record<BenchEngine, Side>> = {};
      for (const e of order) got[e] = await side(ctx, e, tenants, t);
      const single = got.single!;
      const cluster = got.cluster!;
      const ratio = single.perGatewayPerSec > 0 ? Math.round((cluster.perGatewayPerSec / single.perGatewayPerSec) * 1000) / 1000 : null;
      pairs.push({ trial: t, single, cluster, ratio });
    }
    const problems = pairs.flatMap((p) =>
      [p.single, p.cluster].filter((s) => s.licensed !== n).map((s) => `trial ${p.trial} ${s.engine}: only ${s.licensed}/${n} agents licensed: ${JSON.stringify(s.finalFailures)}`),
    );
    const ratio = median(pairs.map((p) => p.ratio).filter((x): x is number => x !== null));
    const { trial: mid } = medianTrial(pairs, (p) => p.ratio ?? 0);
    const summary = (s: Side) => ({
      perGatewayPerSec: s.perGatewayPerSec,
      ratePerSec: s.ratePerSec,
      timeToLicense: s.timeToLicense,
      redisCommandsPerEnrollment: s.redisCommandsPerEnrollment,
      roundTripsPerEnrollment: s.roundTrips.perEnrollment,
      roundTrips: s.roundTrips,
      stormReadsPerEnrollment: s.stormReadsPerEnrollment,
      gatewayCpuMsPerEnrollment: s.gatewayCpuMsPerEnrollment,
      cpuPercent: s.cpuPercent,
      ...(s.tenantShards ? { tenantShards: s.tenantShards } : {}),
    });
    return {
      'cluster-storm': {
        ...(problems.length ? { error: problems.join('; ') } : {}),
        value: median(pairs.map((p) => p.cluster.perGatewayPerSec)),
        unit: 'licensed/s per gateway',
        baseline: median(pairs.map((p) => p.single.perGatewayPerSec)),
        ratio,
        goal: `cluster/single ≥ ${GOAL_CLUSTER_RATIO}`,
        met: ratio !== null && ratio >= GOAL_CLUSTER_RATIO && problems.length === 0,
        details: {
          agents: n,
          gateways: GATEWAYS,
          concurrency: ctx.opts.concurrency,
          tenants,
          fleet: `multi-tenant: agent i enrolls in tenants[i % ${tenants.length}], ${TENANTS_PER_SHARD} tenants per master; the default tenant alone would put every enrollment on one shard`,
          engineSetup: { single: 'one redis-server, AOF everysec, one in-memory replica', cluster: '3 masters + 3 replicas, AOF everysec (chaos/lib/redis-cluster.ts)' },
          // Not `ratioMethod`: that marks rows paired with bare-ws trials in the table (report.ts).
          pairsMethod: 'ratio: the median of per-trial ratios cluster / single (licensed/s per gateway process), both sides in every trial, order alternating',
          pairs: pairs.map((p) => ({ trial: p.trial, single: p.single.perGatewayPerSec, cluster: p.cluster.perGatewayPerSec, ratio: p.ratio, gatewayCpuMsPerEnrollment: { single: p.single.gatewayCpuMsPerEnrollment, cluster: p.cluster.gatewayCpuMsPerEnrollment }, othersCpuPercent: { single: p.single.cpuPercent.others ?? null, cluster: p.cluster.cpuPercent.others ?? null } })),
          // Gateway CPU per enrollment single / cluster, median over trials: the per-process ratio
          // a CPU-bound gateway would show, whatever else ran on the box meanwhile.
          cpuRatio: median(pairs.flatMap((p) => (p.single.gatewayCpuMsPerEnrollment && p.cluster.gatewayCpuMsPerEnrollment ? [Math.round((p.single.gatewayCpuMsPerEnrollment / p.cluster.gatewayCpuMsPerEnrollment) * 1000) / 1000] : []))),
          // The median pair's figures per engine.
          engines: { single: summary(mid.single), cluster: summary(mid.cluster) },
          roundTripsMethod: `${PROBE} agents enrolled one at a time before each storm; Redis reads (INFO stats total_reads_processed, all masters) minus the background rate measured just before, per enrollment`,
          // The row's most disturbed side (run.ts flags a noisy row from cpuPercent.others).
          cpuPercent: [mid.single.cpuPercent, mid.cluster.cpuPercent].reduce((a, b) => ((b.others ?? 0) > (a.others ?? 0) ? b : a)),
        },
      },
    };
  },
};
