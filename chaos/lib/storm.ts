/**
 * The shape most scenarios share: a stack with gateways and a worker, a fleet enrolled on it,
 * then a storm — a quarter of the fleet enrolling for the first time, half of the rest
 * dropping their connections and reconnecting, admin jobs trickling in — with the fault
 * injected in the middle of it. When the fault is over the trickle stops and the judge waits
 * for convergence and runs every check.
 */
import type { Scope } from '../../bench/lib/scope.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { agentSpecs, poolFor } from './agent-specs.ts';
import { describeEngine, type EngineSpec } from './engine.ts';
import type { Finding, LossWindow } from './checks/types.ts';
import { GroundTruthFleet } from './fleet.ts';
import { JobLedger } from './job-ledger.ts';
import { JobTrickle } from './job-trickle.ts';
import { judge } from './judge.ts';
import type { AppendFsync } from './redis-server.ts';
import type { ScenarioContext, ScenarioOutcome, Sizes } from './scenario.ts';
import { ChaosStack, type GatewaySpec } from './stack.ts';

export interface StormRun {
  stack: ChaosStack;
  fleet: GroundTruthFleet;
  jobs: JobLedger;
  sizes: Sizes;
  scope: Scope;
  log(message: string): void;
}

export interface FaultReport {
  fault: string;
  lossWindow?: LossWindow | null;
  notes?: string[];
  details?: Record<string, unknown>;
}

export interface StormScenario {
  gateways: GatewaySpec[];
  /**
   * false: the whole fleet enrolls first and stays connected; the fault strikes a steady
   * system with only the job trickle running (a pause hits live connections, issue 8 item 1).
   * Default true.
   */
  storm?: boolean;
  /** Admin jobs trickle in during the fault. Default true. */
  trickle?: boolean;
  /** Share of each license type's demand the pool covers (the rest wait, C9). Default 0.8. */
  poolShare?: number;
  appendfsync?: AppendFsync;
  /** The Redis to run on (default one redis-server). */
  engine?: EngineSpec;
  /** Extra environment of every licensegate process (e.g. DURABILITY). */
  env?: Record<string, string>;
  /** Injects the fault (the storm is under way); resolves when the fault is over. */
  inject(run: StormRun): Promise<FaultReport>;
  /** After the verdict: notes, findings about the fault itself (was it in effect?), measurements. */
  observe?(run: StormRun): { notes: string[]; findings: Finding[]; details?: Record<string, unknown> };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const AGENT_OPTIONS = { backoff: { baseMs: 200, capMs: 2_000 }, handshakeTimeoutMs: 5_000 };

/** A fleet on the stack's gateways, closed with the scope. */
export function newFleet(scope: Scope): GroundTruthFleet {
  const fleet = new GroundTruthFleet(AGENT_OPTIONS);
  scope.defer('fleet', () => fleet.close());
  return fleet;
}

export function newJobLedger(ctx: ScenarioContext, stack: ChaosStack, fleet: GroundTruthFleet, timeoutMs: number): JobLedger {
  const jobs = new JobLedger(stack.target, stack.keys.queuePrefix, ctx.name, () => fleet.now(), timeoutMs);
  ctx.scope.defer('admin client', () => jobs.close());
  return jobs;
}

export async function runStormScenario(ctx: ScenarioContext, s: StormScenario): Promise<ScenarioOutcome> {
  const { sizes } = ctx;
  const n = sizes.agents;
  const stack = await ChaosStack.start({
    scope: ctx.scope,
    dir: ctx.dir,
    appendfsync: s.appendfsync ?? 'everysec',
    ...(s.engine ? { engine: s.engine } : {}),
    ledger: { keys: [{ keyId: 'CHAOS-A', kind: 'perpetual', licenses: poolFor(n, s.poolShare ?? 0.8) }] },
    gateways: s.gateways,
    env: { ...sizes.env, ...s.env },
  });
  ctx.log(`stack up: ${describeEngine(stack.engine)}, ${[...stack.gateways].map(([k, g]) => `${k} ${g.pid}`).join(', ')}, worker ${stack.worker?.pid}`);
  const fleet = newFleet(ctx.scope);
  const jobs = newJobLedger(ctx, stack, fleet, sizes.boundMs);
  const specs = agentSpecs({ n, tenantId: DEFAULT_TENANT, token: stack.ledger.tokens.get(DEFAULT_TENANT)!, urls: stack.gatewayUrls(), prefix: ctx.name });
  const stormy = s.storm ?? true;
  const first = fleet.add(specs.slice(0, stormy ? Math.ceil(n * 0.75) : n));
  await fleet.connect(first, 1_000);
  await fleet.waitConnected(30_000);
  ctx.log(`${first.length} agents enrolled`);

  const run: StormRun = { stack, fleet, jobs, sizes, scope: ctx.scope, log: ctx.log };
  const trickle = new JobTrickle(fleet, jobs, s.trickle === false ? 0 : sizes.trickleRate);
  trickle.start();
  const late = fleet.add(specs.slice(first.length));
  const storm = (async () => {
    // Half of each gateway's agents (agent i starts on gateway i mod 2): pairs 0-1 yes, 2-3 no, …
    const bounced = stormy ? first.filter((_, i) => Math.floor(i / 2) % 2 === 0) : [];
    const order = [...late, ...bounced];
    for (let i = 0; i < order.length; i++) {
      const a = order[i]!;
      if (late.includes(a)) a.start();
      else a.bounce();
      await sleep(2_000 / order.length);
    }
  })();
  if (stormy) await sleep(300);
  const tFault = fleet.now();
  const report = await s.inject(run);
  const faultEnd = Date.now();
  const faultMs = fleet.now() - tFault;
  await storm;
  // Changes keep coming for a while after the fault: new commands must get new seqs (F4) and
  // reach agents on every gateway.
  await sleep(sizes.afterMs);
  trickle.stop();
  ctx.log(`fault over after ${faultMs} ms (${report.fault}); ${jobs.records.length} jobs so far; waiting for convergence`);
  const verdict = await judge({ stack, fleet, jobs, lossWindow: report.lossWindow ?? null, boundMs: sizes.boundMs, settleMs: sizes.settleMs, faultEnd });
  const outcomes = countOutcomes(jobs.records.map((r) => r.outcome));
  const observed = s.observe?.(run) ?? { notes: [], findings: [] };
  return {
    fault: report.fault,
    agents: fleet.agents.length,
    jobs: jobs.records.length,
    converged: verdict.converged,
    convergeMs: verdict.convergeMs,
    violations: [...observed.findings, ...verdict.violations],
    excused: verdict.excused,
    notes: [...(report.notes ?? []), ...observed.notes],
    details: { ...report.details, ...observed.details, jobOutcomes: outcomes, polls: verdict.polls, relapses: verdict.relapses, lossWindow: report.lossWindow ?? null },
  };
}

export function countOutcomes(outcomes: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) out[o] = (out[o] ?? 0) + 1;
  return out;
}
