/**
 * An Agent that measures itself for the fleet simulator: a few numbers per agent (no closures,
 * no timers of its own — its listeners are shared functions), recording into the Recorder of
 * the process that runs it.
 */
import { performance } from 'node:perf_hooks';
import { Agent, type AgentCommand, type AgentOptions, type CloseInfo, type ErrorFrameInfo, type WelcomeInfo } from './agent.ts';
import { bump, emptyCounters, emptyLatencies, EXPECTED_FINAL_CODES, LICENSE_TYPE_NAMES, type FleetCounters, type FleetOutcomes, type FleetSnapshot, type Latencies } from './stats.ts';

/** Where a process's agents record what happens to them. */
export class Recorder {
  readonly counters: FleetCounters = emptyCounters();
  readonly latencies: Latencies = emptyLatencies();
}

/**
 * Identity conflicts that no retry can fix: the simulated agent stops instead of reconnecting
 * forever (e.g. its enrolling Hello was registered but the Welcome with its credential was
 * lost to a handshake timeout, so every retry meets CLIENT_ALREADY_REGISTERED).
 */
export const GIVE_UP_CODES: ReadonlySet<string> = new Set(['CLIENT_ALREADY_REGISTERED', 'CLIENT_IN_OTHER_TENANT']);

/** Deadline from socket creation to Welcome that SimAgents use (the Agent's default). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** An Agent with the simulator's bookkeeping: license view, failure codes, latency clocks. */
export class SimAgent extends Agent {
  /** performance.now() when the current connect began (0: not connecting). */
  sessionStart = 0;
  /** performance.now() when the current attempt opened its socket. */
  attemptStart = 0;
  /** Session start still waiting for StartMonitoring (0: none). */
  licenseClock = 0;
  /** performance.now() of the heartbeat awaiting its ack (0: none). */
  heartbeatSentAt = 0;
  /** Current license type as the agent knows it (wire value, 0 = none). */
  licenseType = 0;
  /** Why it has none ('' when licensed or never welcomed). */
  unlicensedReason = '';
  /** Connect was called at least once. */
  started = false;
  everWelcomed = false;
  /** The current connection reached Welcome. */
  live = false;
  /** An attempt's socket is open and has not reached Welcome or closed yet. */
  inFlight = false;
  /** The current attempt received an Error frame. */
  errorFrame = false;
  /** The simulator closes this connection itself: its close is not an error. */
  closingOnPurpose = false;
  /** Code of the last failure since the last Welcome ('' none). */
  lastFailure = '';
  /** This agent's handshake deadline (to tell a timeout from other closes). */
  private readonly handshakeTimeout: number;

  constructor(
    options: AgentOptions,
    private readonly recorder: Recorder,
  ) {
    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    super({ ...options, handshakeTimeoutMs });
    this.handshakeTimeout = handshakeTimeoutMs;
    this.on('connecting', onConnecting);
    this.on('welcome', onWelcome);
    this.on('command', onCommand);
    this.on('error-frame', onErrorFrame);
    this.on('close', onClose);
    this.on('heartbeat-ack', onHeartbeatAck);
  }

  /** Starts (or restarts, after a churn close) a connect; failures retry with backoff by themselves. */
  begin(): void {
    this.started = true;
    this.closingOnPurpose = false;
    this.sessionStart = performance.now();
    this.connect().catch(() => {}); // outcomes arrive as events
  }

  /** Closes cleanly on purpose (churn, end of run); resolves when closed. */
  end(): Promise<void> {
    if (this.connected || this.sessionStart !== 0) this.closingOnPurpose = true;
    this.sessionStart = 0;
    return this.close().catch(() => {});
  }

  /** Sends UninstallNotice (the gateway frees the license and closes); false if not connected. */
  uninstall(): boolean {
    if (!this.connected || !this.sendUninstallNotice()) return false;
    this.licenseType = 0;
    this.unlicensedReason = '';
    return true;
  }

  override sendHeartbeat(): boolean {
    const sent = super.sendHeartbeat();
    if (sent) this.heartbeatSentAt = performance.now();
    return sent;
  }

  /** Adds this agent to a snapshot. */
  countInto(s: FleetSnapshot): void {
    s.agents++;
    if (this.started) s.started++;
    if (this.everWelcomed) s.everConnected++;
    if (this.uninstalled) {
      s.uninstalled++;
      return;
    }
    if (this.connected) s.connected++;
    if (this.monitoring) s.monitoring++;
    if (this.licenseType > 0) bump(s.licensed, LICENSE_TYPE_NAMES[this.licenseType] ?? `type-${this.licenseType}`);
    else if (this.everWelcomed) bump(s.unlicensed, this.unlicensedReason || 'UNSPECIFIED');
  }

  /** Adds how this agent ends the run to `o` (call before the final disconnect). */
  outcomeInto(o: FleetOutcomes): void {
    if (this.connected || this.uninstalled) return;
    if (!this.lastFailure) {
      o.stillConnecting++;
      return;
    }
    bump(o.failedByCode, this.lastFailure);
    if (!EXPECTED_FINAL_CODES.has(this.lastFailure)) o.unexpected++;
  }

  // Listener bodies (called with `this` = the agent by the shared functions below).

  handleConnecting(): void {
    const now = performance.now();
    this.recorder.counters.attempts++;
    this.attemptStart = now;
    this.inFlight = true;
    this.errorFrame = false;
    if (this.sessionStart === 0) this.sessionStart = now;
  }

  handleWelcome(info: WelcomeInfo): void {
    const now = performance.now();
    const { counters, latencies } = this.recorder;
    counters.welcomes++;
    if (info.clientCredential) counters.enrolled++;
    if (this.everWelcomed) counters.reconnects++;
    this.everWelcomed = true;
    this.live = true;
    this.inFlight = false;
    this.lastFailure = '';
    if (this.sessionStart > 0) latencies.timeToWelcome.record(now - this.sessionStart);
    if (this.attemptStart > 0) latencies.handshake.record(now - this.attemptStart);
    // Licensed by this Welcome (first connect, or a license freed for it while it was away):
    // the license arrived now. Unlicensed: the clock runs until a StartMonitoring.
    if (info.license.licensed && this.licenseType === 0 && this.sessionStart > 0) latencies.timeToLicense.record(now - this.sessionStart);
    this.licenseClock = info.license.licensed ? 0 : this.sessionStart;
    this.sessionStart = 0;
    this.licenseType = info.license.licensed ? info.license.type : 0;
    this.unlicensedReason = info.license.licensed ? '' : info.license.reason;
  }

  handleCommand(cmd: AgentCommand): void {
    const { counters, latencies } = this.recorder;
    bump(counters.commands, cmd.kind);
    if (cmd.duplicate) {
      counters.duplicateCommands++;
      return;
    }
    if (cmd.kind === 'start') {
      this.licenseType = cmd.licenseType ?? 0;
      this.unlicensedReason = '';
      if (this.licenseClock > 0) latencies.timeToLicense.record(performance.now() - this.licenseClock);
      this.licenseClock = 0;
    } else {
      this.licenseType = 0;
      this.unlicensedReason = cmd.kind === 'stop' ? cmd.reason ?? '' : 'UNINSTALLED';
    }
  }

  handleErrorFrame(e: ErrorFrameInfo): void {
    this.errorFrame = true;
    if (this.uninstalled && e.code === 'UNINSTALLED') {
      this.recorder.counters.uninstallsConfirmed++; // the gateway's answer to our UninstallNotice
      return;
    }
    bump(this.recorder.counters.errors, e.code);
    this.lastFailure = e.code;
    if (GIVE_UP_CODES.has(e.code)) void this.close().catch(() => {}); // no more reconnects
  }

  handleClose(info: CloseInfo): void {
    const wasLive = this.live;
    this.live = false;
    this.inFlight = false;
    this.heartbeatSentAt = 0;
    if (this.closingOnPurpose) {
      this.closingOnPurpose = false;
      return;
    }
    if (!this.errorFrame) {
      // The Agent terminates (1006) an attempt that got no Welcome in time.
      const timedOut = !wasLive && info.code === 1006 && performance.now() - this.attemptStart >= this.handshakeTimeout - 1;
      const code = wasLive ? 'CONNECTION_LOST' : timedOut ? 'HANDSHAKE_TIMEOUT' : 'CONNECTION_CLOSED';
      bump(this.recorder.counters.errors, code);
      this.lastFailure = code;
    }
    // An automatic reconnect follows (unless the agent gave up): its clock starts now.
    if (this.sessionStart === 0 && !this.uninstalled) this.sessionStart = performance.now();
  }

  handleHeartbeatAck(): void {
    if (this.heartbeatSentAt > 0) this.recorder.latencies.heartbeatRtt.record(performance.now() - this.heartbeatSentAt);
    this.heartbeatSentAt = 0;
  }
}

function onConnecting(this: SimAgent): void {
  this.handleConnecting();
}
function onWelcome(this: SimAgent, info: WelcomeInfo): void {
  this.handleWelcome(info);
}
function onCommand(this: SimAgent, cmd: AgentCommand): void {
  this.handleCommand(cmd);
}
function onErrorFrame(this: SimAgent, e: ErrorFrameInfo): void {
  this.handleErrorFrame(e);
}
function onClose(this: SimAgent, info: CloseInfo): void {
  this.handleClose(info);
}
function onHeartbeatAck(this: SimAgent): void {
  this.handleHeartbeatAck();
}
