/**
 * One simulator run, coordinated by the parent process: load the state file, plan the fleet,
 * fork the workers, run this process's share, print progress, then merge every process's
 * figures into one report, save the state file and choose the exit code.
 */
import { randomBytes } from 'node:crypto';
import type { AgentState } from './agent.ts';
import { formatDuration } from './duration.ts';
import { END_GRACE_MS, Fleet, type AgentPlan, type FleetConfig, type FleetProgress, type FleetResult } from './fleet.ts';
import { checkCapacity } from './limits.ts';
import type { SimOptions } from './options.ts';
import { buildPlan, splitPlan, type FleetPlan } from './plan.ts';
import { ProgressPrinter } from './progress.ts';
import { buildReport, formatSummary } from './report.ts';
import { loadStateFile, saveStateFile, StateFileError, writeFileAtomic } from './state-file.ts';
import { formatOsMix, parseOsMix } from './os-mix.ts';
import { emptyCounters, emptySnapshot, mergeCounters, mergeLatencies, mergeOutcomes, mergeSnapshots } from './stats.ts';
import { WorkerProcess } from './workers.ts';
import { clientTls } from './tls-options.ts';

/** Where the run writes; the CLI passes the process's streams. */
export interface RunIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** A problem found before anything connects: exit code 2 with this one-line message. */
export class PreflightError extends Error {}

/** How long workers get to start (tsx compiles on first load). */
const WORKER_READY_MS = 30_000;
/** Lead time so that every process starts at the same instant. */
const START_LEAD_MS = 100;
/** After the run's duration: handshakes in flight, closing handshakes (Agent's 10 s deadline), slack. */
const FINISH_GRACE_MS = END_GRACE_MS + 30_000;

/**
 * Loads the state file and plans the fleet; throws PreflightError when the run cannot work.
 * Without --os-mix, agents added to a fleet from a state file follow the mix it was made with.
 */
export async function prepare(given: SimOptions, runId: string): Promise<FleetPlan & { options: SimOptions }> {
  let loaded: AgentState[] = [];
  let options = given;
  if (given.stateFile) {
    try {
      const file = await loadStateFile(given.stateFile, given.tenant);
      loaded = file?.agents ?? [];
      if (file?.osMix !== undefined && !given.osMixGiven) options = { ...given, osMix: parseOsMix(file.osMix) };
    } catch (err) {
      if (err instanceof StateFileError) throw new PreflightError(`--state: ${err.message}`);
      if (err instanceof RangeError) throw new PreflightError(`--state: its osMix is not a mix (${err.message}); pass --os-mix`);
      throw err;
    }
  }
  const plan = { ...buildPlan(options, loaded, runId), options };
  if (plan.created > 0 && options.token === undefined) {
    throw new PreflightError(`--token is required: ${plan.created.toLocaleString('en-US')} agent(s) have no credential yet and must enroll (or set AGENT_SIM_TOKEN)`);
  }
  try {
    clientTls(options.tls); // unreadable or unusable files stop the run before anything connects
  } catch (err) {
    throw new PreflightError((err as Error).message);
  }
  const capacity = checkCapacity({ agents: options.agents, procs: options.procs, sourceIps: options.sourceIps.length });
  if (capacity) throw new PreflightError(capacity);
  return plan;
}

/** The state file's new contents: this run's enrolled agents in fleet order, then the extras. */
function nextState(plan: FleetPlan, results: (FleetResult | null)[], parts: AgentPlan[][]): AgentState[] {
  const fresh = new Map<string, AgentState>();
  for (const r of results) for (const s of r?.states ?? []) fresh.set(s.clientId, s);
  // A failed process reported nothing: keep what the file had for its agents.
  const lost = new Set(parts.filter((_, i) => results[i] === null).flat().map((p) => p.state.clientId));
  const agents: AgentState[] = [];
  for (const p of plan.plans) {
    const s = fresh.get(p.state.clientId) ?? (lost.has(p.state.clientId) && p.state.credential ? p.state : undefined);
    if (s) agents.push(s);
  }
  return [...agents, ...plan.extras];
}

function mergeProgress(parts: FleetProgress[]): FleetProgress {
  return {
    elapsedMs: Math.max(0, ...parts.map((p) => p.elapsedMs)),
    counters: mergeCounters(parts.map((p) => p.counters)),
    snapshot: mergeSnapshots(parts.map((p) => p.snapshot)),
  };
}

/** Runs the simulation; resolves with the exit code (see exitCodeFor). */
export async function runSimulation(given: SimOptions, io: RunIo): Promise<number> {
  const runId = randomBytes(3).toString('hex');
  const plan = await prepare(given, runId);
  const { options } = plan;
  const parts = splitPlan(plan.plans, options.procs);
  const config = (stream: number): FleetConfig => ({
    url: options.connectUrl,
    token: options.token,
    durationMs: options.durationMs,
    churnPercent: options.churnPercent,
    churnIntervalMs: options.churnIntervalMs,
    seed: options.seed,
    stream,
    tls: options.tls,
  });
  const printer = new ProgressPrinter(io.stderr, !options.quiet);

  const workers = parts.slice(1).map((_, i) => new WorkerProcess(i + 1));
  try {
    await Promise.all(workers.map((w, i) => w.init(config(i + 1), parts[i + 1]!, WORKER_READY_MS)));
  } catch (err) {
    workers.forEach((w) => w.kill());
    await Promise.all(workers.map((w) => w.final));
    io.stderr.write(`agent-sim: ${(err as Error).message}\n`);
    return 1;
  }

  const local = new Fleet(config(0), parts[0]!);
  const startedAt = new Date(Date.now() + START_LEAD_MS);
  workers.forEach((w) => w.send({ t: 'start', startAt: startedAt.getTime() }));
  const localResult = local.run(startedAt.getTime());

  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130); // second Ctrl-C: give up on the clean disconnect
    interrupted = true;
    printer.note('stopping: disconnecting agents (Ctrl-C again to quit at once)');
    workers.forEach((w) => w.send({ t: 'stop' }));
    void local.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A worker that has not reported yet still counts its agents (as not connected).
  const notYet = (i: number): FleetProgress => ({ elapsedMs: 0, counters: emptyCounters(), snapshot: { ...emptySnapshot(), agents: parts[i]!.length } });
  let disconnecting = false;
  const progressTimer = setInterval(() => {
    if (disconnecting) return;
    const progress = mergeProgress([local.progress(), ...workers.map((w, i) => w.progress ?? notYet(i + 1))]);
    if (progress.elapsedMs < options.durationMs) return printer.update(progress);
    disconnecting = true;
    printer.note(`${formatDuration(options.durationMs)} reached: disconnecting (handshakes in flight get up to ${formatDuration(END_GRACE_MS)})`);
  }, 1000);

  let results: (FleetResult | null)[];
  try {
    const deadline = Math.max(0, startedAt.getTime() - Date.now()) + options.durationMs + FINISH_GRACE_MS;
    results = [await localResult, ...(await Promise.all(workers.map((w) => w.finish(deadline))))];
  } finally {
    clearInterval(progressTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    printer.finish();
  }
  const finishedAt = new Date();
  const ok = results.filter((r): r is FleetResult => r !== null);
  const failedProcesses = results.length - ok.length;

  let exit = 0;
  if (options.stateFile) {
    try {
      await saveStateFile(options.stateFile, { tenant: options.tenant, osMix: formatOsMix(options.osMix), agents: nextState(plan, results, parts) });
    } catch (err) {
      io.stderr.write(`agent-sim: cannot save --state ${options.stateFile}: ${(err as Error).message}\n`);
      exit = 1;
    }
  }
  const report = buildReport({
    options,
    plan,
    runId,
    startedAt,
    finishedAt,
    elapsedMs: Math.max(0, ...ok.map((r) => r.elapsedMs)),
    interrupted: interrupted || ok.some((r) => r.interrupted), // a worker stopped by a signal of its own
    counters: mergeCounters(ok.map((r) => r.counters)),
    snapshot: mergeSnapshots(ok.map((r) => r.snapshot)),
    outcomes: mergeOutcomes(ok.map((r) => r.outcomes)),
    latencies: mergeLatencies(ok.map((r) => r.latencies)),
    failedProcesses,
  });
  if (exit) report.exitCode = exit; // the state file could not be saved
  if (options.reportFile) {
    try {
      await writeFileAtomic(options.reportFile, `${JSON.stringify(report, null, 2)}\n`);
    } catch (err) {
      io.stderr.write(`agent-sim: cannot write --report ${options.reportFile}: ${(err as Error).message}\n`);
      exit = 1;
    }
  }
  io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatSummary(report)}\n`);
  return exit || report.exitCode;
}
