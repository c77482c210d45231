/**
 * The driver's view of a gateway restart from the agents' side (bench/scenarios/drain.ts): after
 * `mark`, every agent's outages (a close → its next Welcome, on the wall clock so the bench can
 * line them up with its own SIGTERM and HAProxy's DOWN), the reconnect Welcomes' times (the
 * handshake rate the remaining gateways saw), Error codes and the Commands received (a license
 * change reaches an agent as a Command). Kept out of driver.ts, which runs the fleet.
 */
import type { Agent } from '../../agent-sim/agent.ts';
import { Histogram } from '../../agent-sim/histogram.ts';

let marked = false;
/** Open outage start (epoch ms) by agent index. */
const offlineSince = new Map<number, number>();
/** Closed outages: agent index, start, end (epoch ms). */
let outages: { i: number; from: number; to: number }[] = [];
let welcomes: number[] = [];
let closes: number[] = [];
let errorCodes: Record<string, number> = {};
let commands = 0;

/** Hooks one agent's events into the view (called for every agent the driver creates). */
export function watchOutages(agent: Agent, i: number): void {
  agent.on('close', () => {
    if (!marked || offlineSince.has(i)) return;
    const t = Date.now();
    offlineSince.set(i, t);
    closes.push(t);
  });
  agent.on('welcome', () => {
    if (!marked) return;
    const t = Date.now();
    welcomes.push(t);
    const from = offlineSince.get(i);
    if (from !== undefined) {
      offlineSince.delete(i);
      outages.push({ i, from, to: t });
    }
  });
  agent.on('error-frame', (e) => {
    if (marked) errorCodes[e.code] = (errorCodes[e.code] ?? 0) + 1;
  });
  agent.on('command', (c) => {
    if (marked && !c.duplicate) commands++;
  });
}

/** From now on, outages, Welcomes, Error frames and Commands are recorded (previous ones dropped). */
export function markOutages(): { markedAt: number } {
  marked = true;
  offlineSince.clear();
  outages = [];
  welcomes = [];
  closes = [];
  errorCodes = {};
  commands = 0;
  return { markedAt: Date.now() };
}

/** Most events within any `windowMs` (sorted times), as a rate per second. */
function peakRate(sorted: number[], windowMs: number): number {
  let peak = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= windowMs) i++;
    peak = Math.max(peak, j - i + 1);
  }
  return Math.round((peak * 1000) / windowMs);
}

export function outageView(agents: readonly (Agent | undefined)[]) {
  let total = 0;
  let connected = 0;
  let served = 0;
  for (const a of agents) {
    if (!a) continue;
    total++;
    if (a.connected) connected++;
    if (a.connected && a.monitoring && a.license?.licensed) served++;
  }
  const reconnect = new Histogram();
  const perAgent = new Map<number, { max: number; sum: number; n: number }>();
  for (const o of outages) {
    const ms = o.to - o.from;
    reconnect.record(ms);
    const p = perAgent.get(o.i) ?? { max: 0, sum: 0, n: 0 };
    p.max = Math.max(p.max, ms);
    p.sum += ms;
    p.n++;
    perAgent.set(o.i, p);
  }
  const now = Date.now();
  const stillOffline = [...offlineSince.values()].map((from) => now - from);
  const agentsMoved = new Set([...perAgent.keys(), ...offlineSince.keys()]).size;
  const per = [...perAgent.values()];
  const sortedWelcomes = [...welcomes].sort((a, b) => a - b);
  const sortedCloses = [...closes].sort((a, b) => a - b);
  return {
    total,
    connected,
    served,
    agentsMoved,
    outages: outages.length,
    stillOffline: stillOffline.length,
    /** Close → next Welcome, every outage (ms). */
    reconnectMs: reconnect.summary(),
    /** The longest single outage of any agent, and the most offline time one agent summed (ms). */
    maxOfflineMs: Math.max(0, ...per.map((p) => p.max), ...stillOffline),
    maxOfflineSumMs: Math.max(0, ...per.map((p) => p.sum)),
    agentsMovedMoreThanOnce: per.filter((p) => p.n > 1).length,
    /** Reconnect Welcomes per second, peak over sliding windows of 200 ms and 1 s. */
    peakHandshakesPerSec: { window200ms: peakRate(sortedWelcomes, 200), window1s: peakRate(sortedWelcomes, 1000) },
    welcomes: welcomes.length,
    firstCloseAt: sortedCloses[0] ?? null,
    lastCloseAt: sortedCloses.at(-1) ?? null,
    lastWelcomeAt: sortedWelcomes.at(-1) ?? null,
    errorCodes: { ...errorCodes },
    commands,
  };
}

export type OutageView = ReturnType<typeof outageView>;
