/**
 * Runs one process's share of the simulated fleet: connects the agents on schedule (ramp or
 * storm), churns and uninstalls some of them, and after the run's duration takes a final
 * snapshot and disconnects every agent cleanly. One scheduler timer for the whole fleet; the
 * agents' own timers (handshake, heartbeat, backoff) are the only per-agent ones.
 */
import { performance } from 'node:perf_hooks';
import type { AgentState } from './agent.ts';
import type { HistogramData } from './histogram.ts';
import { deriveRandom, percentOf, sampleIndices, type Random } from './prng.ts';
import { Recorder, SimAgent } from './sim-agent.ts';
import { newEnrollmentProof } from './enrollment-proof.ts';
import { clientTls, type TlsFlags } from './tls-options.ts';
import { emptyOutcomes, emptySnapshot, latenciesToData, type FleetCounters, type FleetOutcomes, type FleetSnapshot, type LatencyName } from './stats.ts';

/** One agent of the fleet plan, as handed to the process that runs it. */
export interface AgentPlan {
  /** Position in the whole fleet (all processes). */
  index: number;
  /** Identity and credential (AgentState is what the state file stores). */
  state: AgentState;
  /** When it first connects, in ms after the start of the run. */
  connectAtMs: number;
  /** When it sends UninstallNotice, in ms after the start; -1 for never. */
  uninstallAtMs: number;
  /** Local source address for its socket; undefined lets the OS choose. */
  localAddress?: string;
}

/** Settings one process needs to run its share. */
export interface FleetConfig {
  /** URL the agents connect to. */
  url: string;
  /** Enrollment token for agents without a credential. */
  token: string | undefined;
  durationMs: number;
  churnPercent: number;
  churnIntervalMs: number;
  /** Seed of the run; `stream` keeps processes' churn choices apart. */
  seed: number;
  stream: number;
  /** wss:// CA / client certificate files (read once per process). */
  tls?: TlsFlags;
}

/** What a fleet reports every second. */
export interface FleetProgress {
  elapsedMs: number;
  counters: FleetCounters;
  snapshot: FleetSnapshot;
}

/** What a fleet reports once, at the end. */
export interface FleetResult extends FleetProgress {
  /** How each agent ended (taken before the final disconnect, like `snapshot`). */
  outcomes: FleetOutcomes;
  latencies: Record<LatencyName, HistogramData>;
  /** Agents worth keeping in the state file: enrolled and not uninstalled. */
  states: AgentState[];
  /** stop() ended the run before its duration. */
  interrupted: boolean;
}

/** Scheduler resolution. */
const TICK_MS = 20;
/**
 * At the end, handshakes in flight get this long to finish before the clean disconnect: an
 * agent cut off while the gateway registers it would leave a registered Client whose
 * credential never reached the state file.
 */
export const END_GRACE_MS = 5_000;
/**
 * Most connects started per turn; a storm continues on the next turn of the event loop. Small
 * batches let socket I/O (and so the Welcomes of the first agents) interleave with creating
 * the rest: 100 kept event-loop stalls under 0.3 s in a 3,000-agent storm, where 500 caused 1 s.
 */
const CONNECTS_PER_TURN = 100;

interface Timed {
  agent: SimAgent;
  atMs: number;
}

/** One process's share of the fleet, run for the configured duration. */
export class Fleet {
  private readonly recorder = new Recorder();
  /** In connect order. */
  private readonly agents: SimAgent[];
  private readonly connectAt: Float64Array;
  private readonly uninstalls: Timed[];
  private readonly churnRandom: Random;
  private churns: Timed[] = [];
  private nextConnect = 0;
  private nextUninstall = 0;
  private pendingUninstalls: SimAgent[] = [];
  private nextChurnPeriodMs: number;
  private t0 = 0;
  private timer: NodeJS.Timeout | null = null;
  private startTimer: NodeJS.Timeout | null = null;
  private turnQueued = false;
  private finishing = false;
  private resolveResult!: (result: FleetResult) => void;
  private readonly result = new Promise<FleetResult>((resolve) => (this.resolveResult = resolve));

  constructor(
    private readonly config: FleetConfig,
    plans: readonly AgentPlan[],
  ) {
    const ordered = [...plans].sort((a, b) => a.connectAtMs - b.connectAtMs || a.index - b.index);
    const tls = clientTls(config.tls); // one secure context shared by every socket
    this.agents = ordered.map(
      (p) =>
        new SimAgent(
          {
            ...p.state,
            url: config.url,
            enrollmentToken: config.token,
            // Z3: each install binds its client id; one saved by an older version gets one now.
            enrollmentProof: p.state.enrollmentProof ?? newEnrollmentProof(),
            reconnect: true,
            localAddress: p.localAddress,
            tls,
          },
          this.recorder,
        ),
    );
    this.connectAt = Float64Array.from(ordered, (p) => p.connectAtMs);
    this.uninstalls = ordered
      .map((p, i) => ({ agent: this.agents[i]!, atMs: p.uninstallAtMs }))
      .filter((u) => u.atMs >= 0)
      .sort((a, b) => a.atMs - b.atMs);
    this.churnRandom = deriveRandom(config.seed, 1000 + config.stream);
    this.nextChurnPeriodMs = config.churnIntervalMs;
  }

  /** Number of agents this process runs. */
  get size(): number {
    return this.agents.length;
  }

  /** Starts at `startAtEpochMs` (Date.now() clock, shared with the other processes); resolves when done. */
  run(startAtEpochMs: number): Promise<FleetResult> {
    if (!this.finishing && !this.startTimer && !this.timer) {
      this.startTimer = setTimeout(() => this.begin(), Math.max(0, startAtEpochMs - Date.now()));
    }
    return this.result;
  }

  /** Ends the run early (interrupt): final snapshot, clean disconnect, result. */
  stop(): Promise<FleetResult> {
    void this.finish(true);
    return this.result;
  }

  /** Counters and a fresh snapshot (a scan of this process's agents). */
  progress(): FleetProgress {
    return { elapsedMs: this.elapsed(), counters: this.recorder.counters, snapshot: this.snapshot() };
  }

  private elapsed(): number {
    return this.t0 === 0 ? 0 : performance.now() - this.t0;
  }

  private snapshot(): FleetSnapshot {
    const s = emptySnapshot();
    for (const agent of this.agents) agent.countInto(s);
    return s;
  }

  private begin(): void {
    this.startTimer = null;
    if (this.finishing) return;
    this.t0 = performance.now();
    this.timer = setInterval(() => this.turn(), TICK_MS);
    this.turn();
  }

  /** One scheduler turn: due connects, uninstalls, churn, and the end of the run. */
  private turn(): void {
    this.turnQueued = false;
    if (this.finishing) return;
    const t = this.elapsed();
    if (t >= this.config.durationMs) {
      void this.finish(false);
      return;
    }
    let started = 0;
    while (this.nextConnect < this.agents.length && this.connectAt[this.nextConnect]! <= t) {
      if (started++ === CONNECTS_PER_TURN) {
        this.queueTurn(); // a storm: keep going, but let I/O and the progress timer run
        break;
      }
      this.agents[this.nextConnect++]!.begin();
    }
    this.runUninstalls(t);
    if (this.config.churnPercent > 0) this.runChurn(t);
  }

  private queueTurn(): void {
    if (this.turnQueued) return;
    this.turnQueued = true;
    setImmediate(() => this.turn());
  }

  /** Due agents send UninstallNotice; one that is not connected yet tries again next turn. */
  private runUninstalls(t: number): void {
    const retry: SimAgent[] = [];
    const attempt = (agent: SimAgent) => {
      if (agent.uninstalled) return;
      if (agent.uninstall()) this.recorder.counters.uninstallNotices++;
      else retry.push(agent);
    };
    for (const agent of this.pendingUninstalls) attempt(agent);
    while (this.nextUninstall < this.uninstalls.length && this.uninstalls[this.nextUninstall]!.atMs <= t) {
      attempt(this.uninstalls[this.nextUninstall++]!.agent);
    }
    this.pendingUninstalls = retry;
  }

  /** Each churn interval, churnPercent of the agents disconnect and reconnect, spread over the interval. */
  private runChurn(t: number): void {
    const interval = this.config.churnIntervalMs;
    if (t >= this.nextChurnPeriodMs) {
      const candidates = this.agents.filter((a) => a.connected && !a.uninstalled);
      const picks = sampleIndices(candidates.length, percentOf(this.agents.length, this.config.churnPercent), this.churnRandom);
      picks.forEach((pick, i) => this.churns.push({ agent: candidates[pick]!, atMs: t + ((i + 0.5) * interval) / picks.length }));
      this.churns.sort((a, b) => a.atMs - b.atMs);
      this.nextChurnPeriodMs = (Math.floor(t / interval) + 1) * interval;
    }
    let done = 0;
    while (done < this.churns.length && this.churns[done]!.atMs <= t) {
      const { agent } = this.churns[done++]!;
      if (!agent.connected || agent.uninstalled) continue;
      this.recorder.counters.churned++;
      void agent.end().then(() => {
        if (!this.finishing) agent.begin();
      });
    }
    if (done > 0) this.churns = this.churns.slice(done);
  }

  private async finish(interrupted: boolean): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    if (this.timer) clearInterval(this.timer);
    // Every figure is taken now, at the end of the run; the disconnect below adds nothing to them.
    const elapsedMs = this.elapsed();
    const snapshot = this.snapshot();
    const outcomes = emptyOutcomes();
    for (const agent of this.agents) agent.outcomeInto(outcomes);
    const counters = structuredClone(this.recorder.counters);
    const latencies = latenciesToData(this.recorder.latencies);
    await this.settleHandshakes(END_GRACE_MS);
    await Promise.all(this.agents.map((a) => a.end()));
    const states = this.agents
      .filter((a) => a.credential !== undefined && !a.uninstalled && a.lastFailure !== 'CLIENT_UNINSTALLED')
      .map((a) => a.toState());
    this.resolveResult({ elapsedMs, counters, snapshot, outcomes, latencies, states, interrupted });
  }

  /**
   * Stops agents waiting to retry, and waits (at most `graceMs`, one shared poll) until no
   * handshake is in flight; an attempt that fails meanwhile is not retried.
   */
  private async settleHandshakes(graceMs: number): Promise<void> {
    const deadline = performance.now() + graceMs;
    for (;;) {
      let inFlight = 0;
      for (const agent of this.agents) {
        if (agent.inFlight) inFlight++;
        else if (!agent.connected) void agent.end(); // cancels a pending reconnect
      }
      if (inFlight === 0 || performance.now() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
