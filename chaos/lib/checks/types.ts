/**
 * What every check reads and reports. A finding names the check, the SPEC rule it breaks, the
 * subject (a Client `<tenant>/<id>`, a tenant, a job, a key) and what was seen. A finding that
 * the durability mode allows — an effect acknowledged inside the documented loss window of
 * `appendfsync everysec` — is kept but marked `excused`, never dropped.
 */
import type { GroundTruthFleet, TruthAgent } from '../fleet.ts';
import type { JobFinalState, JobRecord } from '../job-ledger.ts';
import type { RedisTruth } from '../redis-truth.ts';

export type CheckName = 'belief' | 'invariants' | 'acknowledged' | 'commands' | 'lockout' | 'presence' | 'jobs' | 'fault';

/**
 * `fault` is not the product's: the scenario could not inject its fault (e.g. a gateway that
 * ignores CLOCK_OFFSET_MS), so its pass would prove nothing — reported as a violation.
 */
export interface Finding {
  check: CheckName;
  rule: string;
  subject: string;
  message: string;
  /** Why the durability mode allows this (the finding is then not a violation). */
  excused?: string;
}

export interface LossWindow {
  /** Suite-clock bounds: acknowledgements received in [from, to] may have been lost. */
  from: number;
  to: number;
  why: string;
}

export interface CheckInput {
  fleet: GroundTruthFleet;
  truth: RedisTruth;
  /** Node id of the gateway behind each agent URL (gateways alive now). */
  nodeOfUrl: ReadonlyMap<string, string>;
  jobs: readonly JobRecord[];
  /** BullMQ's state of every job, read after the jobs settled (job checks). */
  jobFinal?: ReadonlyMap<string, JobFinalState>;
  /** Only in `everysec` runs that crashed Redis. */
  lossWindow: LossWindow | null;
  /** Grants per `<tenant>|<type>` before the first job (grant arithmetic); absent: not checked. */
  grantBase?: ReadonlyMap<string, number>;
}

export function inWindow(t: number | null | undefined, w: LossWindow | null): boolean {
  return w !== null && t !== null && t !== undefined && t >= w.from && t <= w.to;
}

/** The agent's registering Welcome, if it got one. */
export function registrationOf(a: TruthAgent): { t: number } | undefined {
  return a.observations.find((o) => o.kind === 'welcome' && o.registered);
}

export function finding(check: CheckName, rule: string, subject: string, message: string, excused?: string): Finding {
  return excused ? { check, rule, subject, message, excused } : { check, rule, subject, message };
}
