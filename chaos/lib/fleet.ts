/**
 * The ground-truth fleet: real agents (agent-sim's Agent, reconnecting through a list of
 * gateway URLs) whose every observation is recorded with the time it was made — each
 * Welcome (license, whether it registered), each Command (seq, kind, duplicate or not), each
 * close and Error frame — and whose belief (monitoring, which type, uninstalled) is rebuilt
 * from those observations in order. The convergence checker compares that belief and history
 * with what Redis says.
 */
import { Agent, type AgentOs } from '../../agent-sim/agent.ts';
import type { BackoffOptions } from '../../agent-sim/backoff.ts';
import { ENDPOINT_LICENSE_TYPES, type EndpointLicenseType } from '../../src/licensing/license-types.ts';
import { licenseTypeToWire } from '../../src/gateway/wire-mapping.ts';

export interface AgentSpec {
  tenantId: string;
  clientId: string;
  token: string;
  os: AgentOs;
  /** Gateways in the order this agent tries them. */
  urls: string[];
}

export type Observation =
  | { t: number; kind: 'welcome'; conn: number; url: string; licensed: boolean; type: EndpointLicenseType | null; reason: string; registered: boolean; ackedAtHello: number }
  | { t: number; kind: 'command'; conn: number; seq: number; cmd: 'start' | 'stop' | 'uninstall'; arg: string; duplicate: boolean }
  | { t: number; kind: 'close'; conn: number; code: number }
  | { t: number; kind: 'error'; conn: number; code: string };

export interface Belief {
  monitoring: boolean;
  type: EndpointLicenseType | null;
  uninstalled: boolean;
}

export function licenseTypeFromWire(wire: number): EndpointLicenseType | null {
  return ENDPOINT_LICENSE_TYPES.find((t) => licenseTypeToWire(t) === wire) ?? null;
}

/** One agent and what it observed. */
export class TruthAgent {
  readonly agent: Agent;
  readonly observations: Observation[] = [];
  readonly belief: Belief = { monitoring: false, type: null, uninstalled: false };
  /** Connections that reached Welcome so far (numbers observations). */
  conn = 0;
  /** HeartbeatAck.server_time_ms − local time, last seen, with the gateway URL it came from. */
  lastSkew: { url: string; skewMs: number } | null = null;

  constructor(
    readonly spec: AgentSpec,
    options: { backoff: BackoffOptions; handshakeTimeoutMs: number; now: () => number },
  ) {
    const now = options.now;
    this.agent = new Agent({
      url: spec.urls[0]!,
      urls: spec.urls,
      tenantId: spec.tenantId,
      clientId: spec.clientId,
      enrollmentToken: spec.token,
      os: spec.os,
      reconnect: true,
      backoff: options.backoff,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
    });
    const a = this.agent;
    a.on('welcome', (w) => {
      this.conn++;
      const type = w.license.licensed ? licenseTypeFromWire(w.license.type) : null;
      this.observations.push({ t: now(), kind: 'welcome', conn: this.conn, url: a.socketUrl ?? '', licensed: w.license.licensed, type, reason: w.license.reason, registered: w.clientCredential !== undefined, ackedAtHello: a.lastAckedSeq });
      this.belief.monitoring = w.license.licensed;
      this.belief.type = type;
    });
    a.on('command', (c) => {
      const arg = c.kind === 'start' ? (licenseTypeFromWire(c.licenseType ?? 0) ?? `wire:${c.licenseType}`) : c.kind === 'stop' ? (c.reason ?? '') : '';
      this.observations.push({ t: now(), kind: 'command', conn: this.conn, seq: c.seq, cmd: c.kind, arg, duplicate: c.duplicate });
      if (c.duplicate) return;
      if (c.kind === 'start') {
        this.belief.monitoring = true;
        this.belief.type = licenseTypeFromWire(c.licenseType ?? 0);
      } else if (c.kind === 'stop') {
        this.belief.monitoring = false;
        this.belief.type = null;
      } else {
        this.belief.monitoring = false;
        this.belief.type = null;
        this.belief.uninstalled = true;
      }
    });
    a.on('error-frame', (e) => this.observations.push({ t: now(), kind: 'error', conn: this.conn, code: e.code }));
    a.on('close', (c) => this.observations.push({ t: now(), kind: 'close', conn: this.conn, code: c.code }));
    a.on('heartbeat-ack', (h) => {
      this.lastSkew = { url: a.socketUrl ?? '', skewMs: h.serverTimeMs - Date.now() };
    });
    a.on('error', () => {}); // local faults (a torn frame during a cut) must not crash the suite
  }

  get key(): string {
    return `${this.spec.tenantId}/${this.spec.clientId}`;
  }

  /** The last `n` observations, compact, for a finding's message: `welcome#2(linux)@5120, cmd 3:stop@6001`. */
  history(n = 6): string {
    return this.observations
      .slice(-n)
      .map((o) => {
        if (o.kind === 'welcome') return `welcome#${o.conn}${o.registered ? '+credential' : ''}(${o.licensed ? o.type : 'unlicensed'})@${o.t}`;
        if (o.kind === 'command') return `cmd${o.duplicate ? '(dup)' : ''} ${o.seq}:${o.cmd}@${o.t}`;
        if (o.kind === 'close') return `close ${o.code}@${o.t}`;
        return `error ${o.code}@${o.t}`;
      })
      .join(', ');
  }

  /** Expected to hold a live connection: every agent not told to uninstall. */
  get shouldBeConnected(): boolean {
    return !this.belief.uninstalled;
  }

  /** Starts connecting (and keeps reconnecting); failures are retried by the agent itself. */
  start(): void {
    this.agent.connect().catch(() => {});
  }

  /** Drops the connection without a close frame and reconnects at once (a reconnect storm). */
  bounce(): void {
    this.agent.terminate();
    this.start();
  }
}

export class GroundTruthFleet {
  readonly agents: TruthAgent[] = [];
  private readonly t0 = Date.now();

  constructor(private readonly options: { backoff: BackoffOptions; handshakeTimeoutMs: number }) {}

  /** Suite-relative time in ms (every observation and job record uses this clock). */
  now(): number {
    return Date.now() - this.t0;
  }

  add(specs: AgentSpec[]): TruthAgent[] {
    const added = specs.map((s) => new TruthAgent(s, { ...this.options, now: () => this.now() }));
    this.agents.push(...added);
    return added;
  }

  /** Connects `agents` spread evenly over `rampMs` (0: all at once). */
  async connect(agents: TruthAgent[], rampMs: number): Promise<void> {
    const step = agents.length > 1 ? rampMs / (agents.length - 1) : 0;
    for (let i = 0; i < agents.length; i++) {
      agents[i]!.start();
      if (step >= 1 && i < agents.length - 1) await new Promise((r) => setTimeout(r, step));
    }
  }

  /** Resolves once every agent that should be connected is; rejects after `timeoutMs`. */
  async waitConnected(timeoutMs: number, agents: TruthAgent[] = this.agents): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const missing = agents.filter((a) => a.shouldBeConnected && !a.agent.connected);
      if (missing.length === 0) return;
      if (Date.now() > deadline) {
        const sample = missing.slice(0, 5).map((a) => `${a.key} (${a.agent.lastError?.code ?? a.agent.lastClose?.code ?? 'never answered'})`);
        throw new Error(`${missing.length} agents not connected after ${timeoutMs} ms: ${sample.join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  byKey(): Map<string, TruthAgent> {
    return new Map(this.agents.map((a) => [a.key, a]));
  }

  /** Closes every agent (no reconnects), bounded. */
  async close(): Promise<void> {
    await Promise.race([
      Promise.all(this.agents.map((a) => a.agent.close().catch(() => {}))),
      new Promise((r) => setTimeout(r, 5_000)),
    ]);
    for (const a of this.agents) a.agent.terminate();
  }
}
