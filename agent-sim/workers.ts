/**
 * The parent's handle on one worker process: fork, hand over its share of the plan, keep its
 * latest progress, and collect its final result — or null when it crashed or hung.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AgentPlan, FleetConfig, FleetProgress, FleetResult } from './fleet.ts';
import type { FromWorker, ToWorker } from './ipc.ts';
import { WORKER_FLAG } from './options.ts';

/** The CLI entry the workers run (it registers tsx, then dispatches on WORKER_FLAG). */
export const CLI_ENTRY = fileURLToPath(new URL('../bin/agent-sim.mjs', import.meta.url));

/** One forked worker process and what it reported. */
export class WorkerProcess {
  readonly child: ChildProcess;
  /** Latest progress report; null until the first one. */
  progress: FleetProgress | null = null;
  /** Resolves with the final result, or null if the worker exited without one. */
  readonly final: Promise<FleetResult | null>;
  private readyResolve!: () => void;
  private readyReject!: (err: Error) => void;
  private readonly ready = new Promise<void>((resolve, reject) => {
    this.readyResolve = resolve;
    this.readyReject = reject;
  });

  constructor(readonly index: number) {
    this.child = fork(CLI_ENTRY, [WORKER_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready.catch(() => {}); // observed by init()
    let resolveFinal!: (result: FleetResult | null) => void;
    this.final = new Promise((resolve) => (resolveFinal = resolve));
    this.child.on('message', (msg: FromWorker) => {
      if (msg.t === 'ready') this.readyResolve();
      else if (msg.t === 'progress') this.progress = msg.progress;
      else if (msg.t === 'final') resolveFinal(msg.result);
    });
    this.child.on('error', () => {}); // e.g. a send to a dead child; 'exit' reports the end
    this.child.once('exit', (code, signal) => {
      this.readyReject(new Error(`worker ${index} exited (${signal ?? code}) before it was ready`));
      resolveFinal(null); // no-op when the final result came first
    });
  }

  /** Sends its share of the plan and resolves once it has built its agents. */
  async init(config: FleetConfig, plans: AgentPlan[], timeoutMs: number): Promise<void> {
    this.send({ t: 'init', config, plans });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`worker ${this.index} not ready after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a message if the worker is still connected (a dead worker is reported by `final`). */
  send(msg: ToWorker): void {
    if (this.child.connected) this.child.send(msg);
  }

  /** Waits for the final result up to `timeoutMs`, then kills the worker (null result). */
  async finish(timeoutMs: number): Promise<FleetResult | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    const outcome = await Promise.race([this.final, late]);
    clearTimeout(timer);
    if (outcome !== 'late') return outcome;
    this.kill();
    return this.final;
  }

  /** Ends this worker (only this child, by its own handle). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
