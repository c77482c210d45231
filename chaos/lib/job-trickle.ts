/**
 * A steady stream of admin changes while a fault is injected: unassign an agent that monitors,
 * assign one that does not (online or offline, C6). Unassigns free licenses that go to
 * waiting Clients (C9), so commands flow to agents on every gateway throughout the fault.
 * Refusals (NO_LICENSE_AVAILABLE) are normal answers and recorded like any other.
 */
import type { GroundTruthFleet } from './fleet.ts';
import type { JobLedger } from './job-ledger.ts';

export class JobTrickle {
  private timer: NodeJS.Timeout | undefined;
  private n = 0;

  constructor(
    private readonly fleet: GroundTruthFleet,
    private readonly jobs: JobLedger,
    private readonly perSecond: number,
    private readonly maxInFlight = 8,
  ) {}

  start(): void {
    if (this.timer || this.perSecond <= 0) return;
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.round(1000 / this.perSecond)));
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.jobs.inFlight >= this.maxInFlight) return;
    const enrolled = this.fleet.agents.filter((a) => a.agent.credential !== undefined && !a.belief.uninstalled);
    if (enrolled.length === 0) return;
    // A fixed stride over the fleet: every agent gets its turn, no randomness to reproduce.
    const a = enrolled[(this.n++ * 7) % enrolled.length]!;
    const target = { tenantId: a.spec.tenantId, clientId: a.spec.clientId };
    if (a.belief.monitoring) void this.jobs.run('client.unassign', target);
    else void this.jobs.run('client.assign', target);
  }
}
