/**
 * durability: what each DURABILITY mode costs (docs/durability.md, SPEC F5), measured in the same
 * run: a boot storm (the fleet enrolls for the first time; licensed/s, as boot-storm) and a job
 * burst (every Client of the first `throughputAgents` unassigned, then assigned again, agents
 * offline; jobs/s, as job-throughput's value), each on a fresh stack per mode:
 *
 * - `everysec` — AOF fsynced once a second, the product's default: the baseline of every row;
 * - `always`   — Redis fsyncs the AOF before it replies;
 * - `replicas:1` — AOF everysec plus one in-memory replica on this machine; every turn's writes
 *   end in `WAIT 1` (loopback: the network costs nothing here, so this is a lower bound).
 *
 * Rounds (three; one with --quick) interleave the modes (everysec, always, replicas:1,
 * everysec, …) so that the machine's drift moves them alike. Each row: value = the mode's median rate, baseline = everysec's median
 * rate, ratio = the median of the per-round ratios mode / everysec (details.rounds has them all).
 * No goal: the rows state a cost; met = every trial licensed and finished everything.
 */
import { ADMIN_QUEUE } from '../../src/jobs/contract.ts';
import { poolFor } from '../lib/fleet.ts';
import { JobQueue, type BatchResult } from '../lib/jobs.ts';
import { CpuWindow } from '../lib/proc-stats.ts';
import { connectTimeoutMs, medianTrial, ratio, sleep, type ScenarioContext, type ScenarioDef, type Sizes } from '../lib/scenario.ts';
import { ENROLLMENT_TOKEN, type BenchDurability } from '../lib/setup.ts';
import { startStack } from '../lib/stack.ts';
import type { ScenarioResult } from '../lib/types.ts';
import type { EnrollResult } from './boot-storm.ts';
import { batches, rateOf } from './job-throughput.ts';

const MODES = ['everysec', 'always', 'replicas:1'] as const satisfies readonly BenchDurability[];
type Mode = (typeof MODES)[number];

const GOAL = 'none: a cost (baseline: everysec)';
const ROWS = {
  'durability-boot-always': { unit: 'licensed/s', goal: GOAL, mode: 'always', metric: 'boot' },
  'durability-boot-replicas': { unit: 'licensed/s', goal: GOAL, mode: 'replicas:1', metric: 'boot' },
  'durability-jobs-always': { unit: 'jobs/s', goal: GOAL, mode: 'always', metric: 'jobs' },
  'durability-jobs-replicas': { unit: 'jobs/s', goal: GOAL, mode: 'replicas:1', metric: 'jobs' },
} as const;

/** Quick: one round (a smoke run, and what the harness test runs); full: three. */
const roundsFor = (quick: boolean) => (quick ? 1 : 3);
const jobsFor = (s: Sizes) => Math.min(s.fleet, s.throughputAgents);
const batchTimeoutMs = (n: number) => 60_000 + n * 20;

interface Trial {
  mode: Mode;
  round: number;
  boot: { ratePerSec: number; licensed: number; timeToLicense: EnrollResult['timeToLicense']; cpuPercent: Record<string, number | null> };
  jobs: { ratePerSec: number; batches: BatchResult[]; cpuPercent: Record<string, number | null> };
}

async function trial(ctx: ScenarioContext, mode: Mode, round: number): Promise<Trial> {
  const n = ctx.sizes.fleet;
  const jobsN = jobsFor(ctx.sizes);
  const stack = await startStack(ctx, { pool: poolFor(n), worker: true, durability: mode });
  try {
    let cpu = new CpuWindow(stack.pids());
    const enrolled = await stack.driver.call<EnrollResult>('enroll', {
      url: stack.gateway.url,
      count: n,
      prefix: 'dur',
      token: ENROLLMENT_TOKEN,
      concurrency: ctx.opts.concurrency,
      timeoutMs: connectTimeoutMs(n),
      sourceIps: ctx.sizes.sourceIps,
      waitLicense: true,
    });
    const bootCpu = cpu.stop();
    await stack.driver.call('close-agents', { timeoutMs: 10_000 });
    await sleep(1_000); // disconnects recorded

    const admin = new JobQueue(stack.redis.target, ADMIN_QUEUE, stack.ledger.queuePrefix);
    ctx.scope.defer('durability admin queue', () => admin.close());
    const { unassign, assign } = batches(jobsN, 'dur');
    cpu = new CpuWindow(stack.pids());
    const done = [await admin.runBatch(unassign, batchTimeoutMs(jobsN)), await admin.runBatch(assign, batchTimeoutMs(jobsN))];
    const jobsCpu = cpu.stop();
    await admin.close();
    const t: Trial = {
      mode,
      round,
      boot: { ratePerSec: enrolled.ratePerSec, licensed: enrolled.licensed, timeToLicense: enrolled.timeToLicense, cpuPercent: bootCpu },
      jobs: { ratePerSec: rateOf(done), batches: done, cpuPercent: jobsCpu },
    };
    ctx.log(`round ${round} ${mode}: boot ${t.boot.licensed}/${n} licensed at ${t.boot.ratePerSec}/s (p99 ${t.boot.timeToLicense?.p99} ms), jobs ${t.jobs.ratePerSec}/s`);
    return t;
  } finally {
    await stack.stop();
  }
}

const mostDisturbed = (cpus: Record<string, number | null>[]) => cpus.reduce((a, b) => ((b.others ?? 0) > (a.others ?? 0) ? b : a));
const median = (xs: number[]): number | null => (xs.length ? medianTrial(xs, (x) => x).trial : null);

export const durability: ScenarioDef = {
  name: 'durability',
  produces: Object.keys(ROWS),
  rows: Object.fromEntries(Object.entries(ROWS).map(([k, r]) => [k, { unit: r.unit, goal: r.goal }])),
  timeoutMs: (s) => 60_000 + MODES.length * roundsFor(false) * (60_000 + connectTimeoutMs(s.fleet) + 2 * batchTimeoutMs(jobsFor(s))),
  async run(ctx) {
    const n = ctx.sizes.fleet;
    const jobsN = jobsFor(ctx.sizes);
    const trials: Trial[] = [];
    for (let round = 1; round <= roundsFor(ctx.opts.quick); round++) {
      for (const mode of MODES) trials.push(await trial(ctx, mode, round));
    }
    const problems = trials.flatMap((t) => [
      ...(t.boot.licensed !== n ? [`round ${t.round} ${t.mode}: only ${t.boot.licensed}/${n} agents licensed`] : []),
      ...t.jobs.batches.filter((b) => b.completed !== b.jobs).map((b) => `round ${t.round} ${t.mode}: ${b.completed}/${b.jobs} jobs completed (${b.failedReasons.join('; ').slice(0, 200)})`),
    ]);
    const rateOfTrial = (t: Trial, metric: 'boot' | 'jobs') => (metric === 'boot' ? t.boot.ratePerSec : t.jobs.ratePerSec);
    const out: Record<string, ScenarioResult> = {};
    function row(name: keyof typeof ROWS): ScenarioResult {
      const { unit, goal, mode, metric } = ROWS[name];
      const rounds = [...new Set(trials.map((t) => t.round))].map((round) => {
        const base = trials.find((t) => t.round === round && t.mode === 'everysec')!;
        const with_ = trials.find((t) => t.round === round && t.mode === mode)!;
        return { round, everysec: rateOfTrial(base, metric), [mode]: rateOfTrial(with_, metric), ratio: ratio(rateOfTrial(with_, metric), rateOfTrial(base, metric)) };
      });
      const ratios = rounds.map((r) => r.ratio).filter((x): x is number => x !== null);
      const used = trials.filter((t) => t.mode === mode || t.mode === 'everysec');
      const cpuOf = (t: Trial) => (metric === 'boot' ? t.boot.cpuPercent : t.jobs.cpuPercent);
      const latency = (m: Mode) => trials.filter((t) => t.mode === m).map((t) => ({ round: t.round, ...t.boot.timeToLicense }));
      return {
        ...(problems.length ? { error: problems.join('; ') } : {}),
        value: median(trials.filter((t) => t.mode === mode).map((t) => rateOfTrial(t, metric))),
        unit,
        baseline: median(trials.filter((t) => t.mode === 'everysec').map((t) => rateOfTrial(t, metric))),
        ratio: median(ratios),
        goal,
        met: problems.length === 0,
        details: {
          mode,
          baselineMode: 'everysec',
          what: metric === 'boot' ? `${n} agents enroll (licensed/s, first connect → last StartMonitoring)` : `${2 * jobsN} admin jobs, agents offline (jobs/s)`,
          // Not `ratioMethod`: that marks rows paired with bare-ws trials in the table (report.ts).
          roundsMethod: 'ratio: the median of per-round ratios mode / everysec, the modes interleaved in each round',
          rounds,
          ...(metric === 'boot' ? { timeToLicenseMs: { everysec: latency('everysec'), [mode]: latency(mode) } } : {}),
          // The row's most disturbed trial (largest `others`): what run.ts reads to flag a noisy row.
          cpuPercent: mostDisturbed(used.map(cpuOf)),
          cpuPercentByTrial: Object.fromEntries(used.map((t) => [`${t.mode}#${t.round}`, cpuOf(t)])),
        },
      };
    }
    for (const name of Object.keys(ROWS) as (keyof typeof ROWS)[]) out[name] = row(name);
    return out;
  },
};
