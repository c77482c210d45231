/**
 * A fleet of reconnecting agents (agent-sim's Agent) that records, on the agent side, what a
 * restart of its gateway costs it: every interval between losing its connection and its next
 * Welcome (offline time), every Welcome's license, Error frames by code, and every Command
 * received after the fleet was first online (a license change reaches an agent as a Command).
 */
import { Agent } from '../../agent-sim/agent.ts';
import type { BackoffOptions } from '../../agent-sim/backoff.ts';
import { clientId, OS } from './agents.ts';
import { TEST_TOKEN } from './gateway.ts';

/** Reconnect quickly (the gateway's retry hint still sets the floor). */
export const FAST_BACKOFF: BackoffOptions = { baseMs: 100, capMs: 1_000 };

export interface Outage {
  agent: number;
  from: number;
  /** Infinity while the agent is still offline. */
  to: number;
}

export class ObservedFleet {
  readonly agents: Agent[];
  readonly outages: Outage[] = [];
  /** Welcomes after the first one of each agent (its reconnects), with their time. */
  readonly rewelcomes: { agent: number; t: number; licensed: boolean }[] = [];
  readonly errorCodes = new Map<string, number>();
  /** Commands received after markOnline(). */
  commandsAfterOnline = 0;
  private online = false;
  private readonly openOutage = new Map<number, Outage>();

  constructor(url: string, n: number, backoff: BackoffOptions = FAST_BACKOFF) {
    this.agents = Array.from({ length: n }, (_, i) => {
      const agent = new Agent({ url, clientId: clientId('lb'), enrollmentToken: TEST_TOKEN, os: OS.windows, reconnect: true, backoff });
      agent.on('close', () => {
        if (!this.online || this.openOutage.has(i)) return;
        const o = { agent: i, from: Date.now(), to: Infinity };
        this.openOutage.set(i, o);
        this.outages.push(o);
      });
      agent.on('welcome', (w) => {
        const o = this.openOutage.get(i);
        if (o) {
          o.to = Date.now();
          this.openOutage.delete(i);
        }
        if (this.online) this.rewelcomes.push({ agent: i, t: Date.now(), licensed: w.license.licensed });
      });
      agent.on('error-frame', (e) => this.errorCodes.set(e.code, (this.errorCodes.get(e.code) ?? 0) + 1));
      agent.on('command', () => {
        if (this.online) this.commandsAfterOnline++;
      });
      return agent;
    });
  }

  /**
   * First connect of every agent, `concurrency` at a time (an agent refused, e.g. OVERLOADED,
   * retries by itself and is waited for); resolves with how many are licensed.
   */
  async connectAll(concurrency = 50, timeoutMs = 30_000): Promise<number> {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < this.agents.length) {
          const agent = this.agents[next++]!;
          await agent.connect().catch(() => agent.waitFor(() => agent.connected, timeoutMs));
        }
      }),
    );
    return this.agents.filter((a) => a.license?.licensed).length;
  }

  /** From now on closes count as outages and Commands as license changes. */
  markOnline(): void {
    this.online = true;
  }

  get connectedCount(): number {
    return this.agents.filter((a) => a.connected).length;
  }

  /** Every agent connected and licensed by its last Welcome. */
  allLicensedOnline(): boolean {
    return this.agents.every((a) => a.connected && a.license?.licensed === true);
  }

  /** Longest outage of any agent (ms); Infinity while one is still offline. */
  maxOfflineMs(): number {
    return this.outages.reduce((m, o) => Math.max(m, o.to - o.from), 0);
  }

  /** Outage durations, sorted (ms). */
  offlineDurations(): number[] {
    return this.outages.map((o) => o.to - o.from).sort((a, b) => a - b);
  }

  /** Most reconnect Welcomes in any `windowMs` window (a handshake-rate peak, per second). */
  peakWelcomeRate(windowMs = 200): number {
    const ts = this.rewelcomes.map((w) => w.t).sort((a, b) => a - b);
    let peak = 0;
    for (let i = 0, j = 0; j < ts.length; j++) {
      while (ts[j]! - ts[i]! >= windowMs) i++;
      peak = Math.max(peak, j - i + 1);
    }
    return Math.round((peak * 1000) / windowMs);
  }

  async closeAll(): Promise<void> {
    this.online = false;
    await Promise.all(this.agents.map((a) => a.close().catch(() => {})));
  }
}

/** p-th percentile (0-100) of sorted numbers. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
