/**
 * What a fleet measures, in JSON-safe shapes that add up across processes: event counters
 * (cumulative), a snapshot of the agents' current state, each agent's final outcome, and the
 * latency histograms. Workers send these to the parent over IPC; the parent merges them.
 */
import { LicenseType } from '../src/protocol/wire.ts';
import { Histogram, type HistogramData } from './histogram.ts';

/** Counts by key (error code, command kind, license type, reason). */
export type Tally = Record<string, number>;

/** Event counters, cumulative since the start of the run. */
export interface FleetCounters {
  /** Sockets opened: first connects, churn reconnects and automatic reconnects. */
  attempts: number;
  /** Welcome frames received. */
  welcomes: number;
  /** Welcomes that carried a new credential (the agent enrolled). */
  enrolled: number;
  /** Welcomes of agents that had been welcomed before in this run. */
  reconnects: number;
  /** Disconnects made on purpose by --churn. */
  churned: number;
  /** UninstallNotice frames sent. */
  uninstallNotices: number;
  /** UNINSTALLED answers to them (or to an admin's Uninstall); not counted as errors. */
  uninstallsConfirmed: number;
  /** Commands received by kind (start, stop, uninstall), duplicates included. */
  commands: Tally;
  /** Commands received again after they had been applied (redelivery). */
  duplicateCommands: number;
  /**
   * Errors by code: the gateway's Error frame codes, plus HANDSHAKE_TIMEOUT (no Welcome within
   * 10 s), CONNECTION_CLOSED (closed before Welcome without an Error frame: refused, reset) and
   * CONNECTION_LOST (a live connection closed without an Error frame). Closes the simulator
   * asked for are not errors.
   */
  errors: Tally;
}

/** The agents' state at one instant (scanned, not accumulated). */
export interface FleetSnapshot {
  agents: number;
  /** Agents whose first connect has begun. */
  started: number;
  /** Agents with a live connection (Welcome received, not closed). */
  connected: number;
  /** Agents that received at least one Welcome in this run. */
  everConnected: number;
  /** Agents that applied StartMonitoring and not StopMonitoring since. */
  monitoring: number;
  /** Agents holding a license, by license type name (from Welcome and commands). */
  licensed: Tally;
  /** Welcomed agents holding none, by reason (NO_LICENSE_AVAILABLE, NO_MATCHING_TYPE, ...). */
  unlicensed: Tally;
  /** Agents that sent UninstallNotice or applied Uninstall. */
  uninstalled: number;
}

/** How each agent ended the run (checked before the final disconnect). */
export interface FleetOutcomes {
  /** Agents not connected at the end, by the code of their last failure. */
  failedByCode: Tally;
  /** Of those, how many failed with a code outside EXPECTED_FINAL_CODES. */
  unexpected: number;
  /** Agents not connected at the end without any failure yet (first connect still running). */
  stillConnecting: number;
}

/** Codes an agent may end the run with without failing it: the gateway asked it to wait, or another connection of the same client won. */
export const EXPECTED_FINAL_CODES: ReadonlySet<string> = new Set(['OVERLOADED', 'ENROLLMENT_PENDING', 'ENROLL_RATE_LIMITED', 'SUPERSEDED']);

/** Latencies measured, in milliseconds, with what each spans (copied into the report). */
export const LATENCIES = {
  /** Connect start (first connect, churn reconnect, or the unexpected close an automatic reconnect recovers from) → Welcome; includes backoff. */
  timeToWelcome: 'connect start → Welcome, retries and backoff included',
  /** The successful attempt alone: socket creation → Welcome. */
  handshake: 'socket opened → Welcome, for the attempt that succeeded',
  /** Connect start → StartMonitoring received on that session (waiting for a license included). */
  timeToLicense: 'connect start → licensed (a licensed Welcome, or StartMonitoring after waiting)',
  /** Heartbeat sent → HeartbeatAck received. */
  heartbeatRtt: 'Heartbeat → HeartbeatAck round trip',
} as const;
/** A latency the fleet measures. */
export type LatencyName = keyof typeof LATENCIES;
/** Every LatencyName, in report order. */
export const LATENCY_NAMES = Object.keys(LATENCIES) as LatencyName[];

/** Name of a wire LicenseType value, as the gateway's pools call it. */
export const LICENSE_TYPE_NAMES: Readonly<Record<number, string>> = {
  [LicenseType.LICENSE_TYPE_WORKSTATION]: 'workstation',
  [LicenseType.LICENSE_TYPE_TERMINAL_SERVER]: 'terminal-server',
  [LicenseType.LICENSE_TYPE_INFRASTRUCTURE_SERVER]: 'infrastructure-server',
  [LicenseType.LICENSE_TYPE_CLOUD_SERVER]: 'cloud-server',
  [LicenseType.LICENSE_TYPE_LINUX]: 'linux',
};

/** Adds one to `tally[key]`. */
export function bump(tally: Tally, key: string, by = 1): void {
  tally[key] = (tally[key] ?? 0) + by;
}

/** Sum of a tally's values. */
export function total(tally: Tally): number {
  return Object.values(tally).reduce((a, b) => a + b, 0);
}

function addTally(into: Tally, from: Tally): void {
  for (const [k, v] of Object.entries(from)) bump(into, k, v);
}

/** Adds every number (and every tally) of `from` into `into`, field by field. */
function addInto<T extends object>(into: T, from: T): T {
  const target = into as Record<string, number | Tally>;
  for (const [k, v] of Object.entries(from) as [string, number | Tally][]) {
    if (typeof v === 'number') target[k] = ((target[k] as number | undefined) ?? 0) + v;
    else addTally((target[k] ??= {}) as Tally, v);
  }
  return into;
}

/** All-zero counters. */
export function emptyCounters(): FleetCounters {
  return { attempts: 0, welcomes: 0, enrolled: 0, reconnects: 0, churned: 0, uninstallNotices: 0, uninstallsConfirmed: 0, commands: {}, duplicateCommands: 0, errors: {} };
}

/** An empty snapshot (no agents). */
export function emptySnapshot(): FleetSnapshot {
  return { agents: 0, started: 0, connected: 0, everConnected: 0, monitoring: 0, licensed: {}, unlicensed: {}, uninstalled: 0 };
}

/** No outcomes yet. */
export function emptyOutcomes(): FleetOutcomes {
  return { failedByCode: {}, unexpected: 0, stillConnecting: 0 };
}

/** Field-by-field sums of several processes' counters. */
export function mergeCounters(parts: readonly FleetCounters[]): FleetCounters {
  return parts.reduce((acc, p) => addInto(acc, p), emptyCounters());
}

/** Field-by-field sums of several processes' snapshots. */
export function mergeSnapshots(parts: readonly FleetSnapshot[]): FleetSnapshot {
  return parts.reduce((acc, p) => addInto(acc, p), emptySnapshot());
}

/** Field-by-field sums of several processes' outcomes. */
export function mergeOutcomes(parts: readonly FleetOutcomes[]): FleetOutcomes {
  return parts.reduce((acc, p) => addInto(acc, p), emptyOutcomes());
}

/** One histogram per latency. */
export type Latencies = Record<LatencyName, Histogram>;

/** One empty histogram per latency. */
export function emptyLatencies(): Latencies {
  return Object.fromEntries(LATENCY_NAMES.map((n) => [n, new Histogram()])) as Latencies;
}

/** Merges histograms received from several processes. */
export function mergeLatencies(parts: readonly Record<LatencyName, HistogramData>[]): Latencies {
  const out = emptyLatencies();
  for (const part of parts) for (const name of LATENCY_NAMES) out[name].merge(part[name]);
  return out;
}

/** The histograms in their JSON-safe IPC form. */
export function latenciesToData(l: Latencies): Record<LatencyName, HistogramData> {
  return Object.fromEntries(LATENCY_NAMES.map((n) => [n, l[n].toData()])) as Record<LatencyName, HistogramData>;
}
