/**
 * The convergence checker. After a fault the system gets a bounded time to heal; it has
 * converged when a reading of the state checks (beliefs, presence, invariants) is clean and
 * stays clean for a settle window — long enough for a late effect of the fault (a node reaped
 * a beat later) to show. The history checks (acknowledged changes, command seqs, jobs) run
 * once, at the end, on the final reading. Findings the durability mode allows are returned
 * apart as `excused`; everything else is a violation.
 */
import type { Finding } from './checks/types.ts';

export interface ConvergenceOptions {
  /** A clean period must begin within this long after the start. */
  boundMs: number;
  /** Date.now() the convergence time is measured from (default: the start of the wait). */
  since?: number;
  /** A clean reading must hold this long. */
  settleMs: number;
  pollMs?: number;
  /** State checks: may be unclean for a while after a fault. A throw counts as unclean. */
  evaluate: () => Promise<Finding[]>;
  /** Work that must end before the state can count as converged (e.g. jobs in flight). */
  pending?: () => Finding[];
  /** History checks, run once at the end. */
  finalize?: () => Promise<Finding[]>;
}

export interface Verdict {
  converged: boolean;
  /** From `since` (or the start of the wait) to the start of the clean period that held. */
  convergeMs: number | null;
  violations: Finding[];
  excused: Finding[];
  polls: number;
  /** Clean readings that did not hold (the state diverged again within the settle window). */
  relapses: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function awaitConvergence(o: ConvergenceOptions): Promise<Verdict> {
  const t0 = Date.now();
  const pollMs = o.pollMs ?? 250;
  let cleanSince: number | null = null;
  let last: Finding[] = [];
  let polls = 0;
  let relapses = 0;
  for (;;) {
    const now = Date.now();
    let findings: Finding[];
    try {
      findings = [...(o.pending?.() ?? []), ...(await o.evaluate())];
    } catch (err) {
      findings = [{ check: 'presence', rule: 'F1', subject: 'redis', message: `could not read the state: ${(err as Error).message}` }];
    }
    polls++;
    last = findings;
    const clean = findings.every((f) => f.excused);
    if (clean) {
      cleanSince ??= now;
      if (Date.now() - cleanSince >= o.settleMs) break;
    } else {
      if (cleanSince !== null) relapses++;
      cleanSince = null;
      if (now - t0 >= o.boundMs) break;
    }
    await sleep(pollMs);
  }
  const converged = cleanSince !== null;
  const history = o.finalize ? await o.finalize() : [];
  const all = [...last, ...history];
  return {
    converged,
    convergeMs: converged ? Math.max(0, cleanSince! - (o.since ?? t0)) : null,
    violations: all.filter((f) => !f.excused),
    excused: all.filter((f) => f.excused),
    polls,
    relapses,
  };
}
