/** What the chaos runner gives a scenario, what a scenario returns, and the fleet sizes. */
import type { Scope } from '../../bench/lib/scope.ts';
import type { Finding } from './checks/types.ts';

export interface ChaosOptions {
  quick: boolean;
  /** Overrides every scenario's fleet size. */
  agents: number | undefined;
  /** Scenario names to run; empty: all of the form (quick or full). */
  only: string[];
  outDir: string;
}

/** Sizes and timings of one form of the suite. */
export interface Sizes {
  agents: number;
  /** Admin jobs of the worker-kill burst. */
  burstJobs: number;
  /** Admin jobs per second while a fault is injected (assign/unassign trickle). */
  trickleRate: number;
  /** How long the trickle goes on after the fault is over. */
  afterMs: number;
  /** Environment of every licensegate process: heartbeats, node liveness, retry hints. */
  env: Record<string, string>;
  nodeTimeoutMs: number;
  /** A clean state must be reached within this long after a fault ends. */
  boundMs: number;
  /** … and hold this long (a late reap must have had its chance). */
  settleMs: number;
  /** How long a Redis pause, a network cut, a skewed storm last. */
  pauseMs: number;
  cutMs: number;
  skewMs: number;
}

export function sizesFor(opts: ChaosOptions): Sizes {
  const quick = opts.quick;
  const nodeHeartbeatMs = quick ? 1_000 : 5_000;
  const nodeTimeoutMs = quick ? 4_000 : 15_000;
  // F1 bounds a wrong presence record by one reconciliation interval: the convergence bound
  // must exceed it (full: the 30 s default within 45 s; quick: 5 s within 15 s).
  const reconcileMs = quick ? 5_000 : 30_000;
  return {
    agents: opts.agents ?? (quick ? 40 : 200),
    burstJobs: quick ? 200 : 500,
    trickleRate: quick ? 10 : 20,
    afterMs: quick ? 1_500 : 5_000,
    env: {
      HEARTBEAT_INTERVAL_MS: quick ? '5000' : '15000',
      LAST_SEEN_FLUSH_MS: quick ? '1000' : '5000',
      NODE_HEARTBEAT_MS: String(nodeHeartbeatMs),
      NODE_TIMEOUT_MS: String(nodeTimeoutMs),
      HELLO_TIMEOUT_MS: '5000',
      RETRY_BASE_MS: '200',
      RETRY_MAX_MS: '3000',
      RECONCILE_INTERVAL_MS: String(reconcileMs),
    },
    nodeTimeoutMs,
    boundMs: quick ? 15_000 : 45_000,
    settleMs: nodeTimeoutMs + 2 * nodeHeartbeatMs,
    pauseMs: quick ? nodeTimeoutMs + 1_500 : 20_000,
    cutMs: quick ? nodeTimeoutMs + 1_500 : 10_000,
    skewMs: 2 * nodeTimeoutMs,
  };
}

export interface ScenarioContext {
  name: string;
  opts: ChaosOptions;
  sizes: Sizes;
  scope: Scope;
  /** Scratch directory of this scenario (Redis AOF, gateway DATA_DIR). */
  dir: string;
  log(message: string): void;
}

export interface ScenarioOutcome {
  /** What was done to the system. */
  fault: string;
  agents: number;
  jobs: number;
  converged: boolean;
  convergeMs: number | null;
  violations: Finding[];
  excused: Finding[];
  notes: string[];
  details: Record<string, unknown>;
}

export interface ScenarioResult extends ScenarioOutcome {
  name: string;
  title: string;
  pass: boolean;
  durationMs: number;
  error?: string;
}

export interface ScenarioDef {
  name: string;
  title: string;
  /** Part of the quick form (the full form runs every scenario). */
  quick: boolean;
  /** Hard upper bound of the whole scenario, teardown excluded. */
  timeoutMs(sizes: Sizes): number;
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}
