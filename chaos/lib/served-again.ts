/**
 * How long a Redis failover kept the fleet from being served, read afterwards from the ground
 * truth (every agent's Welcomes and closes, every job's answer, on the suite's clock): the
 * time from the kill until every agent that should be connected held a connection again, the
 * first Welcome and the first answered job after the kill, and the errors agents were told
 * meanwhile (REDIS_UNAVAILABLE, NOT_DURABLE, …). It measures an upper bound of the outage an
 * agent saw: a storm still under way after the kill keeps some agents connecting anyway.
 */
import type { GroundTruthFleet, TruthAgent } from './fleet.ts';
import type { JobRecord } from './job-ledger.ts';

export interface ServedAgain {
  /**
   * Kill → the moment from which every agent that should be connected stayed connected (null:
   * some agent is not connected at the end). An agent that lost its connection after the kill
   * counts from the Welcome after its last close.
   */
  allAgentsMs: number | null;
  /** Kill → the first Welcome after it. */
  firstWelcomeMs: number | null;
  /** Kill → the first job sent after the kill that was answered (ok or a rule's refusal). */
  firstJobMs: number | null;
  /** Agents that got a Welcome after the kill. */
  agentsReconnected: number;
  /** Error frames agents received after the kill, by code. */
  errorsAfterKill: Record<string, number>;
  /** Answers of the jobs sent after the kill, by outcome (and code). */
  jobsAfterKill: Record<string, number>;
  /**
   * Doorbells after the kill: for each assign / unassign answered after it whose agent was
   * connected at the answer, whether its StartMonitoring / StopMonitoring came on the open
   * connection (the doorbell rang; time from the answer), only with a later Welcome (replayed
   * after a reconnect — the storm bounces agents), or never.
   */
  commandsAfterKill: { answered: number; onOpenConnection: number; afterReconnect: number; never: number; medianMs: number | null; maxMs: number | null };
}

function commandDelivery(fleet: GroundTruthFleet, jobs: readonly JobRecord[], killAt: number): ServedAgain['commandsAfterKill'] {
  const agents = fleet.byKey();
  const delays: number[] = [];
  const out = { answered: 0, onOpenConnection: 0, afterReconnect: 0, never: 0 };
  for (const j of jobs) {
    if (j.outcome !== 'ok' || j.tRes === null || j.tRes < killAt) continue;
    if (j.name !== 'client.assign' && j.name !== 'client.unassign') continue;
    const a = agents.get(`${String(j.input.tenantId)}/${String(j.input.clientId)}`);
    if (!a || !connectedAt(a, j.tRes)) continue;
    if (j.name === 'client.assign' && !(j.result as { license?: string | null } | undefined)?.license) continue;
    out.answered++;
    const want = j.name === 'client.assign' ? 'start' : 'stop';
    // The command may reach the agent a little before the job's answer reaches the suite.
    const seen = a.observations.find((o) => o.t >= j.tEnq && o.kind === 'command' && o.cmd === want);
    const reconnected = a.observations.find((o) => o.t >= j.tEnq && (o.kind === 'close' || o.kind === 'welcome'));
    if (!seen) out.never++;
    else if (reconnected && reconnected.t < seen.t) out.afterReconnect++;
    else {
      out.onOpenConnection++;
      delays.push(Math.max(0, seen.t - j.tRes));
    }
  }
  delays.sort((x, y) => x - y);
  return { ...out, medianMs: delays.length ? delays[Math.floor(delays.length / 2)]! : null, maxMs: delays.length ? delays[delays.length - 1]! : null };
}

/** Connected at `t` (suite clock): the last Welcome or close up to `t` was a Welcome. */
function connectedAt(a: TruthAgent, t: number): boolean {
  let connected = false;
  for (const o of a.observations) {
    if (o.t > t) break;
    if (o.kind === 'welcome') connected = true;
    else if (o.kind === 'close') connected = false;
  }
  return connected;
}

/**
 * From when on (≥ `since`) the agent stayed connected to the end: `since` when no close came
 * after it, else the Welcome that followed its last close (null: not connected at the end).
 */
function servedFrom(a: TruthAgent, since: number): number | null {
  let from: number | null = since;
  let connected = false;
  for (const o of a.observations) {
    if (o.kind === 'welcome') {
      connected = true;
      if (from === null) from = Math.max(o.t, since);
    } else if (o.kind === 'close') {
      connected = false;
      if (o.t >= since) from = null;
    }
  }
  return connected ? from : null;
}

export function servedAgain(fleet: GroundTruthFleet, jobs: readonly JobRecord[], killAt: number): ServedAgain {
  const agents = fleet.agents.filter((a) => a.shouldBeConnected);
  const welcomes = agents.flatMap((a) => a.observations.filter((o) => o.kind === 'welcome' && o.t >= killAt).map((o) => o.t));
  const from = agents.map((a) => servedFrom(a, killAt));
  const allAt = from.includes(null) ? undefined : Math.max(killAt, ...(from as number[]));
  const errors: Record<string, number> = {};
  for (const a of agents) for (const o of a.observations) if (o.kind === 'error' && o.t >= killAt) errors[o.code] = (errors[o.code] ?? 0) + 1;
  const after = jobs.filter((j) => j.tEnq >= killAt);
  const answered = after.filter((j) => j.tRes !== null && (j.outcome === 'ok' || j.outcome === 'refused')).map((j) => j.tRes!);
  const outcomes: Record<string, number> = {};
  for (const j of after) {
    const k = j.code && j.outcome !== 'ok' ? `${j.outcome} ${j.code}` : j.outcome;
    outcomes[k] = (outcomes[k] ?? 0) + 1;
  }
  return {
    allAgentsMs: allAt === undefined ? null : allAt - killAt,
    firstWelcomeMs: welcomes.length ? Math.min(...welcomes) - killAt : null,
    firstJobMs: answered.length ? Math.min(...answered) - killAt : null,
    agentsReconnected: agents.filter((a) => a.observations.some((o) => o.kind === 'welcome' && o.t >= killAt)).length,
    errorsAfterKill: errors,
    jobsAfterKill: outcomes,
    commandsAfterKill: commandDelivery(fleet, jobs, killAt),
  };
}
