/**
 * The end-of-run report: every figure of the run in one JSON-safe object (`--report FILE`,
 * `--json`), and the summary table printed on stdout. Never contains tokens or credentials.
 */
import { formatDuration } from './duration.ts';
import type { FleetCounters, FleetOutcomes, FleetSnapshot, Latencies, LatencyName, Tally } from './stats.ts';
import { LATENCIES, LATENCY_NAMES, total } from './stats.ts';
import type { PercentileSummary } from './histogram.ts';
import type { SimOptions } from './options.ts';
import type { FleetPlan } from './plan.ts';

/** Latency figures; `command` is null: Commands carry no timestamp, so the agent side cannot time them. */
export type LatencyReport = Record<LatencyName, PercentileSummary | null> & { command: null };

/** Every figure of one run (`--report FILE`, `--json`). Counts are taken at the end of the run, before the clean disconnect. */
export interface SimReport {
  tool: 'agent-sim';
  reportVersion: 1;
  runId: string;
  startedAt: string;
  finishedAt: string;
  /** Time from the start of connecting to the final snapshot. */
  elapsedMs: number;
  /** Ended early by SIGINT/SIGTERM. */
  interrupted: boolean;
  options: {
    url: string;
    tenant: string;
    agents: number;
    procs: number;
    osMix: string;
    seed: number;
    rampMs: number;
    storm: boolean;
    durationMs: number;
    churnPercent: number;
    churnIntervalMs: number;
    uninstallPercent: number;
    nonPersistentPercent: number;
    sourceIps: number;
    stateFile: string | null;
  };
  /** What was planned. */
  fleet: { agents: number; reused: number; created: number; byOs: Tally; nonPersistent: number; plannedUninstalls: number };
  /** Agents (at the end of the run, before the clean disconnect). */
  agents: number;
  started: number;
  everConnected: number;
  neverConnected: number;
  connected: number;
  monitoring: number;
  uninstalled: number;
  licensed: { total: number; byType: Tally };
  unlicensed: { total: number; byReason: Tally };
  /** Connected or not, waiting for a license (NO_LICENSE_AVAILABLE). */
  waiting: number;
  connections: Omit<FleetCounters, 'commands' | 'duplicateCommands' | 'errors'>;
  commands: { total: number; byKind: Tally; duplicates: number };
  errors: { total: number; byCode: Tally };
  /** OVERLOADED Error frames received (each honoured its retry_after_ms). */
  overloaded: number;
  /** How agents that were not connected at the end failed last; `unexpected` decides the exit code. */
  outcomes: FleetOutcomes;
  latencyMs: LatencyReport;
  latencyDefinitions: Record<LatencyName | 'command', string>;
  processes: { total: number; failed: number };
  exitCode: number;
}

/** Everything buildReport() needs. */
export interface ReportInput {
  options: SimOptions;
  plan: FleetPlan;
  runId: string;
  startedAt: Date;
  finishedAt: Date;
  elapsedMs: number;
  interrupted: boolean;
  counters: FleetCounters;
  snapshot: FleetSnapshot;
  outcomes: FleetOutcomes;
  latencies: Latencies;
  failedProcesses: number;
}

/**
 * 0 for a completed run; 1 when an agent ended with an unexpected error, a worker process
 * failed, or a file could not be written; 130 for a run interrupted (SIGINT/SIGTERM) without those.
 */
export function exitCodeFor(outcomes: FleetOutcomes, failedProcesses: number, interrupted: boolean): number {
  if (outcomes.unexpected > 0 || failedProcesses > 0) return 1;
  return interrupted ? 130 : 0;
}

/** Assembles the report from the merged figures of all processes. */
export function buildReport(r: ReportInput): SimReport {
  const o = r.options;
  const s = r.snapshot;
  const c = r.counters;
  const latencyMs = Object.fromEntries(LATENCY_NAMES.map((name) => [name, r.latencies[name].summary()])) as LatencyReport;
  latencyMs.command = null;
  return {
    tool: 'agent-sim',
    reportVersion: 1,
    runId: r.runId,
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt.toISOString(),
    elapsedMs: Math.round(r.elapsedMs),
    interrupted: r.interrupted,
    options: {
      url: o.url,
      tenant: o.tenant,
      agents: o.agents,
      procs: o.procs,
      osMix: o.osMix.map((e) => `${e.name}:${e.weight}`).join(','),
      seed: o.seed,
      rampMs: o.rampMs,
      storm: o.rampMs === 0,
      durationMs: o.durationMs,
      churnPercent: o.churnPercent,
      churnIntervalMs: o.churnIntervalMs,
      uninstallPercent: o.uninstallPercent,
      nonPersistentPercent: o.nonPersistentPercent,
      sourceIps: o.sourceIps.length,
      stateFile: o.stateFile ?? null,
    },
    fleet: {
      agents: r.plan.plans.length,
      reused: r.plan.reused,
      created: r.plan.created,
      byOs: r.plan.osCounts,
      nonPersistent: r.plan.nonPersistent,
      plannedUninstalls: r.plan.uninstalling,
    },
    agents: s.agents,
    started: s.started,
    everConnected: s.everConnected,
    neverConnected: s.agents - s.everConnected,
    connected: s.connected,
    monitoring: s.monitoring,
    uninstalled: s.uninstalled,
    licensed: { total: total(s.licensed), byType: s.licensed },
    unlicensed: { total: total(s.unlicensed), byReason: s.unlicensed },
    waiting: s.unlicensed.NO_LICENSE_AVAILABLE ?? 0,
    connections: {
      attempts: c.attempts,
      welcomes: c.welcomes,
      enrolled: c.enrolled,
      reconnects: c.reconnects,
      churned: c.churned,
      uninstallNotices: c.uninstallNotices,
      uninstallsConfirmed: c.uninstallsConfirmed,
    },
    commands: { total: total(c.commands), byKind: c.commands, duplicates: c.duplicateCommands },
    errors: { total: total(c.errors), byCode: c.errors },
    overloaded: c.errors.OVERLOADED ?? 0,
    outcomes: r.outcomes,
    latencyMs,
    latencyDefinitions: { ...LATENCIES, command: 'not measurable from the agent side: Commands carry no timestamp' },
    processes: { total: o.procs, failed: r.failedProcesses },
    exitCode: exitCodeFor(r.outcomes, r.failedProcesses, r.interrupted),
  };
}

const n = (x: number): string => x.toLocaleString('en-US');
const tally = (t: Tally): string =>
  Object.keys(t).length === 0
    ? '-'
    : Object.entries(t)
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([k, v]) => `${k} ${n(v)}`)
        .join(', ');
const ms = (x: number): string => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : n(Math.round(x)));

/** The summary table printed on stdout at the end of a run. */
export function formatSummary(r: SimReport): string {
  const rows: [string, string][] = [
    ['run', `${r.runId}  seed ${r.options.seed}  ${formatDuration(r.elapsedMs)}${r.interrupted ? '  (interrupted)' : ''}  ${r.options.procs} process${r.options.procs > 1 ? 'es' : ''}`],
    ['target', `${r.options.url}  tenant ${r.options.tenant}`],
    ['agents', `${n(r.agents)} (${n(r.fleet.reused)} from state, ${n(r.fleet.created)} new)  os ${tally(r.fleet.byOs)}`],
    ['connected', `${n(r.connected)} at end, ${n(r.everConnected)} ever, ${n(r.neverConnected)} never`],
    ['licensed', `${n(r.licensed.total)}  ${tally(r.licensed.byType)}`],
    ['unlicensed', `${n(r.unlicensed.total)}  ${tally(r.unlicensed.byReason)}`],
    ['uninstalled', `${n(r.uninstalled)}  (notices sent ${n(r.connections.uninstallNotices)}, confirmed ${n(r.connections.uninstallsConfirmed)})`],
    ['connections', `attempts ${n(r.connections.attempts)}  welcomes ${n(r.connections.welcomes)}  enrolled ${n(r.connections.enrolled)}  reconnects ${n(r.connections.reconnects)}  churned ${n(r.connections.churned)}`],
    ['commands', `${n(r.commands.total)}  ${tally(r.commands.byKind)}  duplicates ${n(r.commands.duplicates)}`],
    ['errors', `${n(r.errors.total)}  ${tally(r.errors.byCode)}`],
    ['overloaded', n(r.overloaded)],
    ['final failures', `${tally(r.outcomes.failedByCode)}  unexpected ${n(r.outcomes.unexpected)}  still connecting ${n(r.outcomes.stillConnecting)}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length), 'latency (ms)'.length);
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  lines.push('', `${'latency (ms)'.padEnd(width)}  ${['count', 'p50', 'p90', 'p99', 'max'].map((h) => h.padStart(9)).join('')}`);
  for (const name of LATENCY_NAMES) {
    const l = r.latencyMs[name];
    const cells = l ? [n(l.count), ms(l.p50), ms(l.p90), ms(l.p99), ms(l.max)] : ['0', '-', '-', '-', '-'];
    lines.push(`${name.padEnd(width)}  ${cells.map((x) => x.padStart(9)).join('')}`);
  }
  if (r.processes.failed > 0) lines.push('', `${r.processes.failed} worker process(es) failed; their agents are missing from the figures`);
  const why: Record<number, string> = { 1: ' (an agent ended with an unexpected error, or a worker failed)', 130: ' (interrupted)' };
  lines.push('', `exit ${r.exitCode}${why[r.exitCode] ?? ''}`);
  return lines.join('\n');
}
