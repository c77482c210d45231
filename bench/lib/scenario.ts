/** What a scenario gets from the orchestrator, the fleet sizes, and helpers shared by scenarios. */
import { join } from 'node:path';
import type { Scope } from './scope.ts';
import type { BenchOptions, ScenarioResult } from './types.ts';

export interface Sizes {
  /** baseline-ws, boot-storm, reconnect-storm, idle. */
  fleet: number;
  /** Agents online during stop-latency. */
  stopAgents: number;
  /** Unassign jobs per second, and for how long (jobs = min(rate × seconds, stopAgents)). */
  stopRate: number;
  stopSeconds: number;
  /** Agents whose licenses job-throughput unassigns then assigns (2 jobs each). */
  throughputAgents: number;
  /** idle: heartbeat interval and measurement window. */
  idleHeartbeatMs: number;
  idleWindowMs: number;
  /** Driver source addresses (spread over 127.0.0.x: ephemeral ports per address). */
  sourceIps: string[];
}

export function sizesFor(opts: BenchOptions): Sizes {
  const n = opts.agents;
  const q = opts.quick;
  return {
    fleet: n ?? (q ? 2_000 : 10_000),
    stopAgents: n ?? (q ? 500 : 10_000),
    stopRate: 50,
    stopSeconds: q ? 10 : 30,
    throughputAgents: n ?? (q ? 1_000 : 5_000),
    idleHeartbeatMs: 2_000,
    idleWindowMs: q ? 10_000 : 30_000,
    sourceIps: Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 1}`),
  };
}

export interface ScenarioContext {
  name: string;
  opts: BenchOptions;
  sizes: Sizes;
  scope: Scope;
  /** Results of the scenarios run before this one (in `needs`, or simply run earlier). */
  results: Readonly<Record<string, ScenarioResult>>;
  /** Scratch directory of this scenario (DATA_DIR of its gateways). */
  scratch: string;
  /**
   * Runs `fn` as a measured window; with --profile, the V8 CPU profiler runs in each target
   * process (label → inspector URL) meanwhile, and the window's profiles are summarised into
   * the scenario's details.profile.
   */
  profile<T>(window: string, targets: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T>;
  log(message: string): void;
}

export interface ScenarioDef {
  name: string;
  /** Result rows this scenario produces (idle produces idle and idle-cpu). */
  produces: string[];
  /** Unit and goal of each row (also recorded when the scenario fails). */
  rows: Record<string, { unit: string; goal: string }>;
  /** Scenarios whose results this one needs (run first, even when not asked for). */
  needs?: string[];
  /**
   * Not part of a --quick run unless named in --only (its quick form costs more than the
   * harness test can spend: cluster-storm and failover start real topologies).
   */
  fullRunOnly?: boolean;
  /** Upper bound of the whole scenario, teardown excluded. */
  timeoutMs(sizes: Sizes): number;
  run(ctx: ScenarioContext): Promise<Record<string, ScenarioResult>>;
}

/** Deadline for a driver connect phase of `n` agents: generous, but bounded (≥ ~70 agents/s). */
export function connectTimeoutMs(n: number): number {
  return 30_000 + n * 15;
}

export const ratio = (value: number | null, baseline: number | null): number | null =>
  value === null || baseline === null || baseline === 0 ? null : Math.round((value / baseline) * 1000) / 1000;

/** The trial with the median value (of an odd number of trials; the upper middle otherwise). */
export function medianTrial<T>(trials: T[], value: (t: T) => number): { trial: T; index: number } {
  const order = trials.map((t, index) => ({ index, v: value(t) })).sort((a, b) => a.v - b.v);
  const index = order[Math.floor(order.length / 2)]!.index;
  return { trial: trials[index]!, index };
}

export function profileDir(outDir: string, runId: string, scenario: string): string {
  return join(outDir, 'tmp', 'profiles', runId, scenario);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
