/**
 * The host's wall clock as this process reads it, shifted by CLOCK_OFFSET_MS.
 *
 * The offset exists for fault testing: it makes one process behave as if its host clock were
 * off, so a test can prove that nothing that decides correctness depends on host clocks. Node
 * liveness, reaping and the presence stamps written by the disconnect, touch and re-register
 * scripts use Redis `TIME` instead (see docs/presence.md). What still reads this clock only
 * stamps times for people and for ordering heuristics: Hello's lastSeen/registeredAt, the
 * HeartbeatAck's server time, and the
 * ledger's audit, event and expiry times (LedgerContext.now in serve.ts).
 *
 * Durations measured inside one process (heartbeat silence, timeouts, rate limits) keep using
 * Date.now(): an offset cancels out of a difference.
 */
let offsetMs = 0;

/** Sets this process's clock offset in ms (config CLOCK_OFFSET_MS; 0 = the host clock). */
export function setClockOffset(ms: number): void {
  if (!Number.isInteger(ms)) throw new Error(`clock offset must be an integer number of ms, got ${String(ms)}`);
  offsetMs = ms;
}

export function clockOffset(): number {
  return offsetMs;
}

/** Milliseconds since the epoch by this process's (possibly shifted) wall clock. */
export function wallClock(): number {
  return Date.now() + offsetMs;
}
