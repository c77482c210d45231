/** Shapes shared by the bench orchestrator, its scenarios and the results files. */
import type { PercentileSummary } from '../../agent-sim/histogram.ts';
import type { BenchEngine } from './engine.ts';

/** What `bench/run.ts` was asked to do. */
export interface BenchOptions {
  quick: boolean;
  /** Overrides every scenario's fleet size (tests: a tiny bench). */
  agents: number | undefined;
  /** Scenarios to run (plus any scenario one of them `needs`). Empty: all. */
  only: string[];
  /** Results directory. */
  outDir: string;
  /** Handshakes the driver keeps in flight. */
  concurrency: number;
  /** CPU-profile the gateway and the worker during measured windows (through the inspector) and summarise the top functions. */
  profile: boolean;
  /** Keep the other rows of the existing latest.json (run.ts --merge). */
  merge?: boolean;
  /** The Redis engine of every stack (cluster-storm and failover choose their own). Default single. */
  engine: BenchEngine;
}

/** One row of the results: a measured value, its same-run baseline, their ratio and the goal. */
export interface ScenarioResult {
  value: number | null;
  unit: string;
  baseline: number | null;
  /** Unit of the baseline when it differs from `unit` (the storms compare with conn/s). */
  baselineUnit?: string;
  ratio: number | null;
  /** Human-readable goal, e.g. `ratio ≥ 0.6`. */
  goal: string;
  met: boolean;
  details: Record<string, unknown>;
  /** Present when the scenario failed or timed out; met is then false. */
  error?: string;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  redis: string;
  os: string;
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  machine: MachineInfo;
  /** 1/5/15-minute load averages when the run started (other work on the box skews results). */
  loadAverageAtStart: number[];
  /** The code measured: HEAD and the files changed in the working tree. */
  git: { commit: string | null; dirty: string[] };
  quick: boolean;
  options: { agents: number | null; only: string[]; concurrency: number; profile: boolean; engine?: BenchEngine };
  scenarios: Record<string, ScenarioResult>;
  /** Runs merged into this file with --merge (their rows carry details.run). */
  mergedRuns?: { startedAt: string; quick: boolean; options: BenchResults['options']; git: BenchResults['git']; loadAverageAtStart: number[] }[];
}

/** CPU use of one process over a window, in percent of one core. */
export type CpuPercent = Record<string, number>;

export type Latency = PercentileSummary | null;
