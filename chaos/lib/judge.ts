/**
 * Runs the six checks against a scenario's stack after its fault: waits (bounded) for the
 * state checks — (1) beliefs, (2) invariants, (5) lock-outs, (6) presence — to come clean and
 * stay clean, then runs the history checks on the final reading — (3) acknowledged changes,
 * (4) command seqs, and that every admin job finished.
 */
import { checkAcknowledged } from './checks/acknowledged.ts';
import { checkBeliefs } from './checks/belief.ts';
import { checkCommands } from './checks/commands.ts';
import { checkJobsFinished } from './checks/jobs.ts';
import { checkPresence } from './checks/presence.ts';
import { finding, type CheckInput, type Finding, type LossWindow } from './checks/types.ts';
import { awaitConvergence, type Verdict } from './convergence.ts';
import type { GroundTruthFleet } from './fleet.ts';
import type { JobLedger } from './job-ledger.ts';
import { readRedisTruth, type RedisTruth } from './redis-truth.ts';
import type { ChaosStack } from './stack.ts';

export interface JudgeInput {
  stack: ChaosStack;
  fleet: GroundTruthFleet;
  jobs: JobLedger;
  lossWindow: LossWindow | null;
  grantBase?: ReadonlyMap<string, number>;
  boundMs: number;
  settleMs: number;
  /** Date.now() when the fault ended (convergence time is measured from it). */
  faultEnd?: number;
}

export function invariantFindings(truth: RedisTruth): Finding[] {
  return truth.invariants.violations.map((v) => finding('invariants', v.split(' ')[0] ?? 'L4', v.split(' ')[1] ?? '', v));
}

export async function judge(j: JudgeInput): Promise<Verdict> {
  const clients = () => j.fleet.agents.map((a) => ({ tenantId: a.spec.tenantId, clientId: a.spec.clientId }));
  const input = (truth: RedisTruth): CheckInput => ({
    fleet: j.fleet,
    truth,
    nodeOfUrl: j.stack.nodeOfUrl(),
    jobs: j.jobs.records,
    lossWindow: j.lossWindow,
    ...(j.grantBase ? { grantBase: j.grantBase } : {}),
  });
  return awaitConvergence({
    ...(j.faultEnd !== undefined ? { since: j.faultEnd } : {}),
    boundMs: j.boundMs,
    settleMs: j.settleMs,
    pending: () => (j.jobs.inFlight > 0 ? [finding('jobs', 'A4', 'admin jobs', `${j.jobs.inFlight} admin job(s) still unanswered`)] : []),
    evaluate: async () => {
      const truth = await readRedisTruth(j.stack.reader, j.stack.keys, clients());
      const i = input(truth);
      return [...checkBeliefs(i), ...invariantFindings(truth), ...checkPresence(i)];
    },
    finalize: async () => {
      const truth = await readRedisTruth(j.stack.reader, j.stack.keys, clients());
      const jobFinal = await j.jobs.finalStates();
      const i = { ...input(truth), jobFinal };
      return [...checkAcknowledged(i), ...checkCommands(i), ...checkJobsFinished(i)];
    },
  });
}
