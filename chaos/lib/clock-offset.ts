/**
 * Fault injector: a skewed clock. A gateway started with CLOCK_OFFSET_MS=<ms> runs with its
 * wall clock that far ahead (negative: behind) — the injectable clock of issue 8, a contract
 * with the gateway. Whether the offset took effect is observed, not assumed: a gateway's
 * HeartbeatAck carries its server_time_ms, so the agents connected to it see the skew.
 */
import type { GroundTruthFleet } from './fleet.ts';

export function clockOffsetEnv(offsetMs: number): Record<string, string> {
  return { CLOCK_OFFSET_MS: String(offsetMs) };
}

/** Median HeartbeatAck skew (server time − local time) seen by agents on `url`; null if none. */
export function observedSkewMs(fleet: GroundTruthFleet, url: string): number | null {
  const skews = fleet.agents
    .map((a) => a.lastSkew)
    .filter((s): s is { url: string; skewMs: number } => s !== null && s.url === url)
    .map((s) => s.skewMs)
    .sort((x, y) => x - y);
  return skews.length ? skews[Math.floor(skews.length / 2)]! : null;
}
