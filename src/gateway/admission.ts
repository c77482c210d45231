/**
 * Admission control (SPEC C13): bounds the handshakes and enrollments in flight and the open
 * connections of one gateway process. Beyond a bound the agent gets OVERLOADED with a retry
 * hint spread over a window that widens with the recent refusal rate, so that a refused herd
 * comes back spread out instead of in one wave.
 */
export interface AdmissionLimits {
  /** Hellos being authenticated at once (one Redis round trip each). */
  maxHandshakes: number;
  /** First-time enrollments at once (three round trips each). */
  maxEnrollments: number;
  /** Open WebSocket connections. */
  maxConnections: number;
  /** Smallest retry hint. */
  retryBaseMs: number;
  /** Largest retry hint. */
  retryMaxMs: number;
}

export class Admission {
  handshakes = 0;
  enrollments = 0;
  /** Refusals in the current and previous second, for the hint window. */
  private refusedNow = 0;
  private refusedPrev = 0;
  private second = 0;
  refusedTotal = 0;
  /** Hellos finished in the current and previous second: the service rate behind queue hints. */
  private doneNow = 0;
  private donePrev = 0;
  private doneSecond = 0;

  constructor(
    readonly limits: AdmissionLimits,
    private readonly random: () => number = Math.random,
  ) {}

  /** A new socket may stay open. */
  admitConnection(open: number): boolean {
    return open <= this.limits.maxConnections;
  }

  /**
   * Beyond maxConnections, up to maxHandshakes more sockets are served their Hello — the agent
   * learns its license and credential — and then closed with OVERLOADED: at capacity every
   * agent still ends licensed or waiting, while the sockets held stay bounded.
   */
  admitOverflow(open: number): boolean {
    return open <= this.limits.maxConnections + this.limits.maxHandshakes;
  }

  /** A Hello may start authenticating now. */
  admitHello(enrolling: boolean): boolean {
    if (this.handshakes >= this.limits.maxHandshakes) return false;
    if (enrolling && this.enrollments >= this.limits.maxEnrollments) return false;
    return true;
  }

  begin(enrolling: boolean): void {
    this.handshakes++;
    if (enrolling) this.enrollments++;
  }

  end(enrolling: boolean, now = Date.now()): void {
    this.handshakes--;
    if (enrolling) this.enrollments--;
    const sec = Math.floor(now / 1000);
    if (sec !== this.doneSecond) {
      this.donePrev = sec === this.doneSecond + 1 ? this.doneNow : 0;
      this.doneNow = 0;
      this.doneSecond = sec;
    }
    this.doneNow++;
  }

  /** Hellos finished per second recently (0 when none finished in the last two seconds). */
  serviceRate(now: number): number {
    const sec = Math.floor(now / 1000);
    const current = sec === this.doneSecond ? this.doneNow : 0;
    const previous = sec === this.doneSecond ? this.donePrev : sec === this.doneSecond + 1 ? this.doneNow : 0;
    return (current + previous) / (1 + (now % 1000) / 1000);
  }

  /**
   * A retry hint for a Hello the queue cannot keep (full, or waited too long) with `ahead`
   * Hellos queued before its turn: about the time this process needs to serve those at its
   * recent rate, jittered by up to a quarter, so refused agents come back when they can be
   * served instead of in a wave that is refused again; never shorter than the spread hint of
   * retryAfter, never longer than retryMaxMs.
   */
  retryAfterQueued(now: number, ahead: number): number {
    const spread = this.retryAfter(now);
    const rate = this.serviceRate(now);
    if (rate <= 0) return spread;
    const drainMs = (ahead / rate) * 1000 * (1 + 0.25 * this.random());
    return Math.round(Math.min(this.limits.retryMaxMs, Math.max(spread, drainMs)));
  }

  /**
   * A retry hint for an agent refused because the process holds MAX_CONNECTIONS: that does not
   * clear in a second or two like handshakes in flight, so the hint is long — uniform in
   * [retryMaxMs / 2, retryMaxMs] — and the agents over capacity do not churn through it.
   */
  retryAfterFull(): number {
    this.refusedTotal++;
    const { retryBaseMs, retryMaxMs } = this.limits;
    const low = Math.max(retryBaseMs, retryMaxMs / 2);
    return Math.round(low + this.random() * (retryMaxMs - low));
  }

  /**
   * A retry hint for a refused agent: uniform in [base, base + window], the window growing
   * with how many were refused in the last two seconds relative to what one handshake slot
   * set serves, capped at retryMaxMs.
   */
  retryAfter(now: number): number {
    const sec = Math.floor(now / 1000);
    if (sec !== this.second) {
      this.refusedPrev = sec === this.second + 1 ? this.refusedNow : 0;
      this.refusedNow = 0;
      this.second = sec;
    }
    this.refusedNow++;
    this.refusedTotal++;
    const { retryBaseMs, retryMaxMs, maxHandshakes } = this.limits;
    const pressure = (this.refusedNow + this.refusedPrev) / Math.max(1, maxHandshakes);
    const window = Math.min(retryMaxMs - retryBaseMs, retryBaseMs * (1 + pressure));
    return Math.round(retryBaseMs + this.random() * window);
  }
}
