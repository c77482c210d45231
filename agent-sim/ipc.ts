/**
 * Messages between the simulator's parent process and its workers (node:child_process IPC,
 * JSON). The parent plans and reports; each worker runs a Fleet over its share of the plan.
 *
 *   parent → worker: init (config + plans) … start (shared start instant) … stop (early end)
 *   worker → parent: ready … progress (every second) … final (once; then the worker exits)
 */
import type { AgentPlan, FleetConfig, FleetProgress, FleetResult } from './fleet.ts';

/** Parent → worker. */
export type ToWorker =
  | { t: 'init'; config: FleetConfig; plans: AgentPlan[] }
  | { t: 'start'; startAt: number }
  | { t: 'stop' };

/** Worker → parent. */
export type FromWorker =
  | { t: 'ready'; agents: number }
  | { t: 'progress'; progress: FleetProgress }
  | { t: 'final'; result: FleetResult };

/** How often workers report progress. */
export const PROGRESS_INTERVAL_MS = 1000;
/** A worker that outlives its run by this much exits on its own. */
export const WORKER_GRACE_MS = 120_000;
