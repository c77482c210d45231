/**
 * The driver's view of its fleet during a failover (bench/scenarios/failover.ts): after `mark`,
 * which agents lost their connection (a `close`) and came back (a Welcome), and at any moment
 * how many are connected, monitoring and licensed. Kept out of driver.ts, which runs the fleet.
 */
import type { Agent, AgentOs } from '../../agent-sim/agent.ts';

let marked = false;
/** Agents (by index) closed / welcomed again since the mark. */
const closedSince = new Set<number>();
const welcomedSince = new Set<number>();

/** Hooks one agent's events into the view (called for every agent the driver creates). */
export function watchForFailover(agent: Agent, i: number): void {
  agent.on('close', () => {
    if (marked) closedSince.add(i);
  });
  agent.on('welcome', () => {
    if (marked) welcomedSince.add(i);
  });
}

/** From now on, closes and Welcomes are counted. */
export function markFailover(): { marked: true } {
  marked = true;
  closedSince.clear();
  welcomedSince.clear();
  return { marked: true };
}

/** Every agent connected, monitoring and licensed (as the last Welcome said)? And who reconnected. */
export function servedView(agents: readonly (Agent | undefined)[]) {
  let served = 0;
  let connected = 0;
  let total = 0;
  for (const a of agents) {
    if (!a) continue;
    total++;
    if (a.connected) connected++;
    if (a.connected && a.monitoring && a.license?.licensed) served++;
  }
  return { total, connected, served, closedSinceMark: closedSince.size, reconnectedSinceMark: welcomedSince.size };
}

export interface ProbeParams {
  url: string;
  clientId: string;
  token: string;
  os: AgentOs;
  timeoutMs: number;
}

/**
 * One new agent enrolls through `url` and waits for StartMonitoring (a license written on the
 * tenant's master and told back): proof that this gateway serves again. Closed afterwards.
 */
export async function probeEnroll(AgentClass: typeof Agent, p: ProbeParams): Promise<{ ok: boolean; code?: string; ms: number }> {
  const t0 = performance.now();
  const agent = new AgentClass({ url: p.url, clientId: p.clientId, enrollmentToken: p.token, os: p.os, handshakeTimeoutMs: p.timeoutMs });
  agent.on('error', () => {});
  try {
    await agent.connect();
    await agent.waitFor(() => agent.monitoring, Math.max(1, p.timeoutMs - (performance.now() - t0)));
    return { ok: true, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    return { ok: false, code: (err as { code?: string }).code ?? (err as Error).message.slice(0, 80), ms: Math.round(performance.now() - t0) };
  } finally {
    agent.terminate();
  }
}
