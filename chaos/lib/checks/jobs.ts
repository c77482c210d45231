/**
 * Every admin job ends (A4, F2, F3): answered with a result or a coded refusal, or — when its
 * worker died under it — finished later by BullMQ's retry or the product's own resume. A job
 * still waiting, active or delayed once the system converged, or one that failed without a
 * rule's refusal (INTERNAL_ERROR, "stalled more than allowable limit"), is a violation.
 */
import { parseFailedReason } from '../../../src/jobs/contract.ts';
import { finding, inWindow, type CheckInput, type Finding } from './types.ts';

/** Codes that are not a rule's answer but a failure to run the job. */
const NOT_A_REFUSAL = new Set(['INTERNAL_ERROR', 'JOB_TIMEOUT', 'REDIS_UNAVAILABLE']);

export function checkJobsFinished(input: CheckInput): Finding[] {
  if (!input.jobFinal) return [];
  const out: Finding[] = [];
  for (const job of input.jobs) {
    const final = input.jobFinal.get(job.id);
    if (!final) continue;
    if (final.state === 'completed') continue;
    if (final.state === 'failed') {
      const { code, message } = parseFailedReason(final.failedReason);
      if (!NOT_A_REFUSAL.has(code)) continue;
      out.push(finding('jobs', 'F3', job.id, `${job.name} failed after ${final.attemptsMade} attempt(s): ${code}: ${message.slice(0, 160)}`));
      continue;
    }
    // Redis lost the job's last writes (the job gone, or back to active with its completion
    // lost) when it was enqueued or answered inside the loss window.
    const lost = inWindow(job.tEnq, input.lossWindow) || inWindow(job.tRes, input.lossWindow);
    out.push(
      finding('jobs', 'F2', job.id, `${job.name} not finished: ${final.state} after ${final.attemptsMade} attempt(s) (answer: ${job.outcome}${job.code ? ` ${job.code}` : ''})`, lost ? input.lossWindow!.why : undefined),
    );
  }
  return out;
}
