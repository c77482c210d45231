/**
 * A simulated endpoint agent: one WebSocket to the gateway speaking the agent protocol
 * (proto/licensegate/agent/v1/agent.proto) — Hello, Welcome, Command replay with acks,
 * heartbeats, UninstallNotice — plus optional reconnect with full-jitter backoff.
 *
 * Used by the integration tests and by the fleet simulator, which runs ~10,000 agents in one
 * process, so per-agent cost is kept small: one socket, at most one timer at a time (handshake
 * deadline, heartbeat interval, close deadline or reconnect delay — the phases never overlap),
 * no permessage-deflate, lazily created arrays. Socket handlers never throw: faults (undecodable
 * frames, throwing listeners) go to the 'error' event when it has listeners and are dropped
 * otherwise.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { ClientTls } from './tls-options.ts';
import { ClientFrame, ServerFrame, type IClientFrame, type OsFamily, type ProductType } from '../src/protocol/wire.ts';
import { DEFAULT_BACKOFF, retryDelay, type BackoffOptions } from './backoff.ts';

/** Operating system facts the agent reports in Hello.os. */
export interface AgentOs {
  family: OsFamily;
  productType?: ProductType;
  multiSession?: boolean;
  cloudProvider?: string;
  version?: string;
}

/** Reason passed to AgentOptions.onStateChange. */
export type AgentStateChange = 'connected' | 'disconnected' | 'credential' | 'ack' | 'command' | 'uninstalled';

export interface AgentOptions {
  /** Gateway endpoint, e.g. ws://127.0.0.1:8080/agent. */
  url: string;
  /**
   * Several gateway endpoints (a client-side failover list): each connection attempt takes the
   * next one in turn, starting with the first, so an agent whose gateway died reconnects to
   * another. Default: [url].
   */
  urls?: readonly string[];
  /** Default 'default'. */
  tenantId?: string;
  clientId: string;
  /** Sent as Hello.enrollment_token while the agent has no credential. */
  enrollmentToken?: string;
  /** When set, Hello authenticates with client_credential instead of the enrollment token. */
  credential?: string;
  /**
   * Sent as Hello.enrollment_proof with the enrollment token (SPEC Z3): the per-install secret
   * that binds the client id (see ./enrollment-proof.ts). Default: none (an older agent).
   */
  enrollmentProof?: string;
  /** Default: clientId. */
  hostname?: string;
  os: AgentOs;
  /** Default '1.0.0'. */
  agentVersion?: string;
  nonPersistent?: boolean;
  /** Highest applied and acknowledged Command.seq, sent in Hello. Default 0. */
  lastAckedSeq?: number;
  /** Acknowledge every Command as soon as it is received (and applied). Default true. */
  autoAck?: boolean;
  /** Send Heartbeat every Welcome.heartbeat_interval_ms. Default true. */
  heartbeat?: boolean;
  /**
   * Reconnect after every close with backoff (honouring an Error's retry_after_ms) until
   * close()/terminate() is called, the agent is uninstalled, or the gateway closes it with a
   * code in NO_RECONNECT_CODES. The attempt count resets after each Welcome. Default false.
   */
  reconnect?: boolean;
  /** Default DEFAULT_BACKOFF ({ baseMs: 500, capMs: 30000 }). */
  backoff?: BackoffOptions;
  /** Local source address for the TCP connection (spreads a fleet over source addresses). */
  localAddress?: string;
  /** wss:// only: the CA / client certificate context (tls-options.ts); default the system's CAs. */
  tls?: ClientTls;
  /** Deadline from socket creation to Welcome, and for close()'s closing handshake. Default 10000. */
  handshakeTimeoutMs?: number;
  /** Called after any change of the state toState() persists, and of connected/uninstalled. */
  onStateChange?: (agent: Agent, change: AgentStateChange) => void;
}

/** The agent's view of its license, as reported by the last Welcome. */
export interface AgentLicense {
  licensed: boolean;
  /** A LicenseType value. */
  type: number;
  reason: string;
}

/** One Command as received (redelivered duplicates are recorded too, with duplicate: true). */
export interface AgentCommand {
  seq: number;
  kind: 'start' | 'stop' | 'uninstall';
  /** StartMonitoring.license_type. */
  licenseType?: number;
  /** StopMonitoring.reason. */
  reason?: string;
  /** seq was <= lastAckedSeq on arrival: acknowledged again but not applied again. */
  duplicate: boolean;
}

/** What connect() resolves with. */
export interface WelcomeInfo {
  clientId: string;
  /** Present only on first registration. */
  clientCredential?: string;
  license: AgentLicense;
  heartbeatIntervalMs: number;
}

export interface ErrorFrameInfo {
  code: string;
  message: string;
  retryAfterMs: number;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** JSON-serialisable identity and progress of an agent (see toState / fromState). */
export interface AgentState {
  clientId: string;
  tenantId: string;
  credential?: string;
  /** The install's enrollment proof, kept with the client id (absent: none). */
  enrollmentProof?: string;
  lastAckedSeq: number;
  os: AgentOs;
  hostname: string;
  nonPersistent: boolean;
}

/** Events an Agent emits, with their arguments. */
export interface AgentEvents {
  /** A connection attempt opened its socket: connect(), or an automatic reconnect. */
  connecting: [];
  welcome: [WelcomeInfo];
  command: [AgentCommand];
  'error-frame': [ErrorFrameInfo];
  close: [CloseInfo];
  'heartbeat-ack': [{ serverTimeMs: number }];
  /** Local faults; emitted only when someone listens. */
  error: [Error];
}

/** Error codes after which a reconnecting agent gives up (another agent took over, or it is gone). */
export const NO_RECONNECT_CODES: ReadonlySet<string> = new Set(['SUPERSEDED', 'CLIENT_UNINSTALLED', 'UNINSTALLED', 'TENANT_CLIENT_LIMIT', 'ENROLLMENT_PROOF_REQUIRED']);

/** Error codes that tell the agent its Client is uninstalled: it behaves as after an Uninstall command. */
const UNINSTALLED_CODES: ReadonlySet<string> = new Set(['CLIENT_UNINSTALLED', 'UNINSTALLED']);

/** Why connect() failed: a server Error code, or CONNECTION_CLOSED / HANDSHAKE_TIMEOUT / CONNECTION_CLOSING. */
export class AgentError extends Error {
  readonly code: string;
  /** The server's retry_after_ms hint; 0 when none. */
  readonly retryAfterMs: number;
  /** WebSocket close code, when the connection had closed. */
  readonly closeCode: number | undefined;

  constructor(code: string, message: string, options: { retryAfterMs?: number; closeCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.retryAfterMs = options.retryAfterMs ?? 0;
    this.closeCode = options.closeCode;
  }
}

/** Server frames are tiny; refuse anything absurd instead of buffering it. */
const MAX_PAYLOAD = 1024 * 1024;
const NO_COMMANDS: readonly AgentCommand[] = Object.freeze([]);

type Hello = NonNullable<IClientFrame['hello']>;
interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}
interface Waiter {
  predicate: () => boolean;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class Agent extends EventEmitter<AgentEvents> {
  readonly url: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly hostname: string;
  readonly os: AgentOs;
  readonly agentVersion: string;
  readonly nonPersistent: boolean;

  private readonly enrollmentToken: string | undefined;
  private readonly enrollmentProof: string | undefined;
  private readonly urls: readonly string[];
  /** Connection attempts made so far: picks the next of `urls`. */
  private attempts = 0;
  private readonly autoAck: boolean;
  private readonly heartbeat: boolean;
  private readonly reconnect: boolean;
  private readonly backoff: BackoffOptions;
  private readonly localAddress: string | undefined;
  private readonly tls: ClientTls | undefined;
  private readonly handshakeTimeoutMs: number;
  private readonly onStateChange: AgentOptions['onStateChange'];

  private _credential: string | undefined;
  private _lastAckedSeq: number;
  private _license: AgentLicense | null = null;
  private _monitoring = false;
  private _commands: AgentCommand[] | null = null;
  private _connected = false;
  private _uninstalled = false;
  private _lastError: ErrorFrameInfo | null = null;
  private _lastClose: CloseInfo | null = null;
  private _lastWelcome: WelcomeInfo | null = null;

  /** The current socket; null between connections. Events of older sockets are ignored. */
  private ws: WebSocket | null = null;
  /** The single timer: handshake deadline | heartbeat interval | close deadline | reconnect delay. */
  private timer: NodeJS.Timeout | null = null;
  private handshake: Deferred<WelcomeInfo> | null = null;
  private closeWaiters: Array<() => void> | null = null;
  private waiters: Waiter[] | null = null;
  /** Error frame / socket error of the current connection, for connect()'s rejection and the retry hint. */
  private connError: ErrorFrameInfo | null = null;
  private socketError: Error | null = null;
  /** Set by close()/terminate(): no more reconnects until connect() is called again. */
  private stopped = true;
  private attempt = 0;

  constructor(options: AgentOptions) {
    super();
    this.url = options.url;
    this.urls = options.urls?.length ? [...options.urls] : [options.url];
    this.tenantId = options.tenantId ?? 'default';
    this.clientId = options.clientId;
    this.hostname = options.hostname ?? options.clientId;
    this.os = { ...options.os };
    this.agentVersion = options.agentVersion ?? '1.0.0';
    this.nonPersistent = options.nonPersistent ?? false;
    this.enrollmentToken = options.enrollmentToken;
    this.enrollmentProof = options.enrollmentProof;
    this.autoAck = options.autoAck ?? true;
    this.heartbeat = options.heartbeat ?? true;
    this.reconnect = options.reconnect ?? false;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.localAddress = options.localAddress;
    this.tls = options.tls;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.onStateChange = options.onStateChange;
    this._credential = options.credential;
    this._lastAckedSeq = options.lastAckedSeq ?? 0;
  }

  /** Rebuilds an agent from toState() output; defined `overrides` win over the state. */
  static fromState(state: AgentState, overrides: Partial<AgentOptions> & Pick<AgentOptions, 'url'>): Agent {
    const options: AgentOptions = { ...state, os: { ...state.os }, url: overrides.url };
    for (const [key, value] of Object.entries(overrides)) {
      if (value !== undefined) (options as unknown as Record<string, unknown>)[key] = value;
    }
    return new Agent(options);
  }

  /** What a simulator persists between runs (JSON-safe; credential absent until enrolled). */
  toState(): AgentState {
    return {
      clientId: this.clientId,
      tenantId: this.tenantId,
      credential: this._credential,
      ...(this.enrollmentProof !== undefined ? { enrollmentProof: this.enrollmentProof } : {}),
      lastAckedSeq: this._lastAckedSeq,
      os: { ...this.os },
      hostname: this.hostname,
      nonPersistent: this.nonPersistent,
    };
  }

  // --- state -----------------------------------------------------------------------------------

  /** Client credential: the configured one, or the one issued by the last registering Welcome. */
  get credential(): string | undefined { return this._credential; }
  /** Highest Command.seq acknowledged (sent in the next Hello). */
  get lastAckedSeq(): number { return this._lastAckedSeq; }
  /** License reported by the last Welcome; null before the first. Commands do not change it. */
  get license(): AgentLicense | null { return this._license; }
  /** Set by each Welcome's license state, then by the Commands in order: StartMonitoring on; StopMonitoring, Uninstall, UninstallNotice off. */
  get monitoring(): boolean { return this._monitoring; }
  /** Every Command received, in order, duplicates included. */
  get commands(): readonly AgentCommand[] { return this._commands ?? NO_COMMANDS; }
  /** True between Welcome and the close of that connection. */
  get connected(): boolean { return this._connected; }
  /** True after an Uninstall command was applied, an UninstallNotice was sent, or an Error said CLIENT_UNINSTALLED / UNINSTALLED. */
  get uninstalled(): boolean { return this._uninstalled; }
  /** Last Error frame received, on any connection. */
  get lastError(): ErrorFrameInfo | null { return this._lastError; }
  /** How the last connection closed (terminate() records code 1006). */
  get lastClose(): CloseInfo | null { return this._lastClose; }
  /** The last Welcome received. */
  get lastWelcome(): WelcomeInfo | null { return this._lastWelcome; }
  /** URL of the current connection (or attempt); null between connections. */
  get socketUrl(): string | null { return this.ws ? this.urls[(this.attempts - 1) % this.urls.length]! : null; }

  // --- lifecycle -------------------------------------------------------------------------------

  /**
   * Opens a connection, sends Hello and resolves on Welcome. Rejects with an AgentError whose
   * `code` is the server's Error code (with `retryAfterMs`), 'CONNECTION_CLOSED' or
   * 'HANDSHAKE_TIMEOUT'; a server Error rejects once the socket has closed, so lastError and
   * lastClose are both set by then. While a handshake is running the same promise is returned;
   * when already connected it resolves with the last Welcome. With `reconnect`, a failed
   * connect() still schedules retries: call close() to stop them.
   */
  connect(): Promise<WelcomeInfo> {
    if (this.handshake) return this.handshake.promise;
    if (this.ws) {
      if (this._connected && this._lastWelcome) return Promise.resolve(this._lastWelcome);
      return Promise.reject(new AgentError('CONNECTION_CLOSING', `agent ${this.clientId}: connect() while the previous connection is closing`));
    }
    this.stopped = false;
    this.clearTimer(); // a pending reconnect: connect now instead
    return this.open();
  }

  /**
   * Closes cleanly with a close frame (`code` default 1000) and stops reconnecting. Resolves
   * once the socket is closed; terminates it if the gateway does not finish the closing
   * handshake within handshakeTimeoutMs.
   */
  close(code = 1000): Promise<void> {
    this.stopped = true;
    const ws = this.ws;
    if (!ws) {
      this.clearTimer();
      return Promise.resolve();
    }
    const closed = new Promise<void>((resolve) => (this.closeWaiters ??= []).push(resolve));
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
      this.setTimer(setTimeout(() => this.ws === ws && ws.terminate(), this.handshakeTimeoutMs));
      try {
        ws.close(code);
      } catch (err) {
        ws.terminate(); // e.g. an invalid close code: still close, but report it
        return Promise.reject(err as Error);
      }
    }
    return closed;
  }

  /**
   * Destroys the socket without a close frame, like a crashed agent, and stops reconnecting.
   * The agent is disconnected when this returns: 'close' ({ code: 1006 }) is emitted
   * synchronously, and connect() may be called again at once.
   */
  terminate(): void {
    this.stopped = true;
    this.clearTimer();
    const ws = this.ws;
    if (!ws) return;
    this.onClose(1006, '');
    ws.terminate(); // its own close event now belongs to a stale socket and is ignored
  }

  // --- sending (each returns false, without throwing, when the socket is not open) -------------

  /** Sends Heartbeat. */
  sendHeartbeat(): boolean {
    return this.send({ heartbeat: {} });
  }

  /** Sends CommandAck{seq}; raises lastAckedSeq to seq when sent. */
  ack(seq: number): boolean {
    const sent = this.send({ commandAck: { seq } });
    if (sent && seq > this._lastAckedSeq) {
      this._lastAckedSeq = seq;
      this.changed('ack');
    }
    return sent;
  }

  /** Sends UninstallNotice and marks the agent uninstalled (no more monitoring, no reconnects). */
  sendUninstallNotice(): boolean {
    const sent = this.send({ uninstallNotice: {} });
    this.markUninstalled();
    return sent;
  }

  /** Sends arbitrary bytes or text, for tests of bad input. */
  sendRaw(data: Buffer | Uint8Array | string, binary = true): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(data, { binary });
    return true;
  }

  /**
   * Resolves when `predicate()` is true — checked now and after every event and state change.
   * Rejects after `timeoutMs` with a message naming the agent, the predicate and its state.
   */
  waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    try {
      if (predicate()) return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.removeWaiter(waiter);
          reject(new Error(`agent ${this.clientId}: waitFor(${String(predicate).slice(0, 120)}) timed out after ${timeoutMs} ms; state ${this.describe()}`));
        }, timeoutMs),
      };
      (this.waiters ??= []).push(waiter);
    });
  }

  // --- internals -------------------------------------------------------------------------------

  private open(): Promise<WelcomeInfo> {
    this.connError = null;
    this.socketError = null;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.urls[this.attempts++ % this.urls.length]!, { perMessageDeflate: false, maxPayload: MAX_PAYLOAD, localAddress: this.localAddress, ...this.tls });
    } catch (err) {
      this.stopped = true; // a bad URL will not get better
      return Promise.reject(new AgentError('CONNECTION_CLOSED', `agent ${this.clientId}: cannot open ${this.url}: ${(err as Error).message}`, { cause: err }));
    }
    const handshake = deferred<WelcomeInfo>();
    this.handshake = handshake;
    this.ws = ws;
    this.setTimer(setTimeout(() => this.onHandshakeTimeout(ws), this.handshakeTimeoutMs));
    ws.on('open', () => this.guard(ws, () => this.send({ hello: this.buildHello() })));
    ws.on('message', (data, isBinary) => this.guard(ws, () => this.onMessage(ws, data, isBinary)));
    // Kept on stale sockets too: ws throws on an 'error' event nobody listens to.
    ws.on('error', (err) => this.guard(ws, () => { this.socketError = err; this.report(err); }));
    ws.on('close', (code, reason) => this.guard(ws, () => this.onClose(code, reason.toString('utf8'))));
    this.fire('connecting');
    return handshake.promise;
  }

  private buildHello(): Hello {
    const hello: Hello = {
      tenantId: this.tenantId,
      clientId: this.clientId,
      hostname: this.hostname,
      os: { ...this.os }, // unset fields are omitted from the encoding
      agentVersion: this.agentVersion,
      lastAckedSeq: this._lastAckedSeq,
      nonPersistent: this.nonPersistent,
    };
    if (this._credential !== undefined) hello.clientCredential = this._credential;
    else if (this.enrollmentToken !== undefined) {
      hello.enrollmentToken = this.enrollmentToken;
      if (this.enrollmentProof !== undefined) hello.enrollmentProof = this.enrollmentProof;
    }
    return hello;
  }

  private onMessage(ws: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    if (!isBinary) throw new Error('gateway sent a text frame');
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    const frame = ServerFrame.decode(bytes); // throws on garbage; guard() reports it
    if (frame.welcome) this.onWelcome(ws, frame.welcome);
    else if (frame.command) this.onCommand(frame.command);
    else if (frame.error) this.onErrorFrame(frame.error);
    else if (frame.heartbeatAck) this.fire('heartbeat-ack', { serverTimeMs: Number(frame.heartbeatAck.serverTimeMs ?? 0) });
    else throw new Error('gateway sent an empty ServerFrame');
  }

  private onWelcome(ws: WebSocket, w: NonNullable<ServerFrameT['welcome']>): void {
    const info: WelcomeInfo = {
      clientId: w.clientId ?? '',
      license: { licensed: w.license?.licensed === true, type: Number(w.license?.type ?? 0), reason: w.license?.reason ?? '' },
      heartbeatIntervalMs: Number(w.heartbeatIntervalMs ?? 0),
    };
    if (w.clientCredential) {
      info.clientCredential = w.clientCredential;
      this._credential = w.clientCredential; // kept even if we are closing: the next Hello needs it
      this.changed('credential');
    }
    this._license = info.license;
    this._lastWelcome = info;
    // The Welcome states the license now; the Commands replayed after it are applied in order.
    this._monitoring = info.license.licensed;
    if (ws.readyState !== WebSocket.OPEN) return; // close() raced the Welcome; its close settles connect()
    this._connected = true;
    this.attempt = 0;
    this.clearTimer();
    if (this.heartbeat && info.heartbeatIntervalMs > 0) {
      this.setTimer(setInterval(() => this.sendHeartbeat(), info.heartbeatIntervalMs));
    }
    this.handshake?.resolve(info);
    this.handshake = null;
    this.changed('connected');
    this.fire('welcome', info);
  }

  private onCommand(c: NonNullable<ServerFrameT['command']>): void {
    const seq = Number(c.seq ?? 0);
    const duplicate = seq <= this._lastAckedSeq;
    let cmd: AgentCommand;
    if (c.startMonitoring) cmd = { seq, kind: 'start', licenseType: Number(c.startMonitoring.licenseType ?? 0), duplicate };
    else if (c.stopMonitoring) cmd = { seq, kind: 'stop', reason: c.stopMonitoring.reason ?? '', duplicate };
    else if (c.uninstall) cmd = { seq, kind: 'uninstall', duplicate };
    else throw new Error(`gateway sent Command ${seq} without a kind`);
    (this._commands ??= []).push(cmd);
    if (!duplicate) {
      if (cmd.kind === 'start') this._monitoring = true;
      else if (cmd.kind === 'stop') this._monitoring = false;
      else this.markUninstalled();
    }
    if (this.autoAck) this.ack(seq);
    this.changed('command');
    this.fire('command', cmd);
  }

  private onErrorFrame(e: NonNullable<ServerFrameT['error']>): void {
    const info: ErrorFrameInfo = { code: e.code ?? '', message: e.message ?? '', retryAfterMs: Number(e.retryAfterMs ?? 0) };
    this._lastError = info;
    this.connError = info;
    // The gateway says this Client is uninstalled (SPEC C8, F4): an agent that missed or never
    // acknowledged its Uninstall command learns it here; it stops monitoring and reconnecting.
    if (UNINSTALLED_CODES.has(info.code)) this.markUninstalled();
    this.fire('error-frame', info);
  }

  private onHandshakeTimeout(ws: WebSocket): void {
    if (this.ws !== ws || !this.handshake) return;
    this.timer = null;
    this.handshake.reject(this.connError
      ? frameError(this.connError)
      : new AgentError('HANDSHAKE_TIMEOUT', `agent ${this.clientId}: no Welcome within ${this.handshakeTimeoutMs} ms`));
    this.handshake = null;
    ws.terminate(); // its close event runs onClose (and the reconnect policy)
  }

  /** Bookkeeping for the end of the current connection (real close event, or terminate()). */
  private onClose(code: number, reason: string): void {
    this.ws = null;
    this.clearTimer();
    const wasConnected = this._connected;
    this._connected = false;
    this._lastClose = { code, reason };
    if (this.handshake) {
      const detail = `${code}${reason ? ` ${reason}` : ''}${this.socketError ? `; ${this.socketError.message}` : ''}`;
      this.handshake.reject(this.connError
        ? frameError(this.connError, code)
        : new AgentError('CONNECTION_CLOSED', `agent ${this.clientId}: connection closed before Welcome (${detail})`, { closeCode: code, cause: this.socketError ?? undefined }));
      this.handshake = null;
    }
    if (wasConnected) this.changed('disconnected');
    this.fire('close', this._lastClose);
    const closeWaiters = this.closeWaiters;
    this.closeWaiters = null;
    closeWaiters?.forEach((resolve) => resolve());
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.reconnect || this.stopped || this._uninstalled || this.ws) return;
    if (this.connError && NO_RECONNECT_CODES.has(this.connError.code)) {
      this.stopped = true;
      return;
    }
    const delay = retryDelay(this.attempt++, this.backoff, this.connError?.retryAfterMs ?? 0);
    this.setTimer(setTimeout(() => {
      this.timer = null;
      if (!this.stopped && !this.ws) this.open().catch(() => {}); // failure closes, which reschedules
    }, delay));
  }

  private markUninstalled(): void {
    this._monitoring = false;
    if (this._uninstalled) return;
    this._uninstalled = true;
    this.changed('uninstalled');
  }

  private send(frame: IClientFrame): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(ClientFrame.encode(frame).finish(), { binary: true });
    return true;
  }

  /** Runs a socket handler for `ws` if it is still the current socket; never throws. */
  private guard(ws: WebSocket, fn: () => void): void {
    if (this.ws !== ws) return;
    try {
      fn();
    } catch (err) {
      this.report(err);
    }
  }

  /** Emits an event without letting a throwing listener escape, then re-checks waiters. */
  private fire<K extends keyof AgentEvents>(event: K, ...args: AgentEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: AgentEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.report(err);
    }
    this.checkWaiters();
  }

  private changed(change: AgentStateChange): void {
    if (this.onStateChange) {
      try {
        this.onStateChange(this, change);
      } catch (err) {
        this.report(err);
      }
    }
    this.checkWaiters();
  }

  /** Local faults go to 'error' listeners, if any; an unlistened 'error' must not throw. */
  private report(err: unknown): void {
    if (this.listenerCount('error') === 0) return;
    try {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    } catch {
      // an 'error' listener threw; nothing sensible left to do
    }
  }

  private checkWaiters(): void {
    if (!this.waiters) return;
    for (const waiter of [...this.waiters]) {
      let done: boolean;
      try {
        done = waiter.predicate();
      } catch (err) {
        this.removeWaiter(waiter);
        waiter.reject(err as Error);
        continue;
      }
      if (done) {
        this.removeWaiter(waiter);
        waiter.resolve();
      }
    }
  }

  private removeWaiter(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    const i = this.waiters?.indexOf(waiter) ?? -1;
    if (i >= 0) this.waiters!.splice(i, 1);
    if (this.waiters?.length === 0) this.waiters = null;
  }

  /** Replaces the single timer; unref'd so an agent never keeps the process alive. */
  private setTimer(timer: NodeJS.Timeout): void {
    this.clearTimer();
    this.timer = timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer); // also clears intervals in Node
    this.timer = null;
  }

  private describe(): string {
    return JSON.stringify({
      connected: this._connected,
      monitoring: this._monitoring,
      uninstalled: this._uninstalled,
      lastAckedSeq: this._lastAckedSeq,
      commands: this._commands?.length ?? 0,
      lastError: this._lastError?.code,
      lastClose: this._lastClose?.code,
    });
  }
}

type ServerFrameT = ReturnType<typeof ServerFrame.decode>;

function frameError(e: ErrorFrameInfo, closeCode?: number): AgentError {
  return new AgentError(e.code, `${e.code}: ${e.message}`, { retryAfterMs: e.retryAfterMs, closeCode });
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
