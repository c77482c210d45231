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
 *
 * The pieces live beside it, one concept each: agent-types.ts (the public shapes),
 * agent-observable.ts (state getters, events, waitFor), agent-frames.ts (Hello and frame
 * decoding), agent-socket.ts (socket options), agent-reconnect.ts (the reconnect policy) and
 * agent-error.ts (AgentError and the Error-code sets). Callers import all of it from here.
 */
import WebSocket from 'ws';
import type { ClientTls } from './tls-options.ts';
import type { IClientFrame } from '../src/protocol/wire.ts';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import type { AgentCommand, AgentOptions, AgentState, AgentStateChange, ErrorFrameInfo, WelcomeInfo } from './agent-types.ts';
import { AgentError, UNINSTALLED_CODES, frameError } from './agent-error.ts';
import { AgentObservable } from './agent-observable.ts';
import { agentCommand, buildHello, decodeServerFrame, encodeClientFrame, errorFrameInfo, welcomeInfo, type ServerFrameT } from './agent-frames.ts';
import { openSocket } from './agent-socket.ts';
import { reconnectDelay } from './agent-reconnect.ts';
import { deferred, type Deferred } from './deferred.ts';

export type {
  AgentOs, AgentStateChange, AgentOptions, AgentLicense, AgentCommand, WelcomeInfo, ErrorFrameInfo, CloseInfo, AgentState, AgentEvents,
} from './agent-types.ts';
export { AgentError, NO_RECONNECT_CODES } from './agent-error.ts';

export class Agent extends AgentObservable {
  readonly url: string;
  readonly agentVersion: string;

  private readonly enrollmentToken: string | undefined;
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

  /** The current socket; null between connections. Events of older sockets are ignored. */
  private ws: WebSocket | null = null;
  /** The single timer: handshake deadline | heartbeat interval | close deadline | reconnect delay. */
  private timer: NodeJS.Timeout | null = null;
  private handshake: Deferred<WelcomeInfo> | null = null;
  private closeWaiters: Array<() => void> | null = null;
  /** Error frame / socket error of the current connection, for connect()'s rejection and the retry hint. */
  private connError: ErrorFrameInfo | null = null;
  private socketError: Error | null = null;
  /** Set by close()/terminate(): no more reconnects until connect() is called again. */
  private stopped = true;
  private attempt = 0;

  constructor(options: AgentOptions) {
    super(options);
    this.url = options.url;
    this.urls = options.urls?.length ? [...options.urls] : [options.url];
    this.agentVersion = options.agentVersion ?? '1.0.0';
    this.enrollmentToken = options.enrollmentToken;
    this.autoAck = options.autoAck ?? true;
    this.heartbeat = options.heartbeat ?? true;
    this.reconnect = options.reconnect ?? false;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.localAddress = options.localAddress;
    this.tls = options.tls;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.onStateChange = options.onStateChange;
  }

  /** Rebuilds an agent from toState() output; defined `overrides` win over the state. */
  static fromState(state: AgentState, overrides: Partial<AgentOptions> & Pick<AgentOptions, 'url'>): Agent {
    const options: AgentOptions = { ...state, os: { ...state.os }, url: overrides.url };
    for (const [key, value] of Object.entries(overrides)) {
      if (value !== undefined) (options as unknown as Record<string, unknown>)[key] = value;
    }
    return new Agent(options);
  }

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

  // --- internals -------------------------------------------------------------------------------

  private open(): Promise<WelcomeInfo> {
    this.connError = null;
    this.socketError = null;
    let ws: WebSocket;
    try {
      ws = openSocket(this.urls[this.attempts++ % this.urls.length]!, this.localAddress, this.tls);
    } catch (err) {
      this.stopped = true; // a bad URL will not get better
      return Promise.reject(new AgentError('CONNECTION_CLOSED', `agent ${this.clientId}: cannot open ${this.url}: ${(err as Error).message}`, { cause: err }));
    }
    const handshake = deferred<WelcomeInfo>();
    this.handshake = handshake;
    this.ws = ws;
    this.setTimer(setTimeout(() => this.onHandshakeTimeout(ws), this.handshakeTimeoutMs));
    ws.on('open', () => this.guard(ws, () => this.send({ hello: buildHello(this, this.enrollmentToken, this.enrollmentProof) })));
    ws.on('message', (data, isBinary) => this.guard(ws, () => this.onMessage(ws, data, isBinary)));
    // Kept on stale sockets too: ws throws on an 'error' event nobody listens to.
    ws.on('error', (err) => this.guard(ws, () => { this.socketError = err; this.report(err); }));
    ws.on('close', (code, reason) => this.guard(ws, () => this.onClose(code, reason.toString('utf8'))));
    this.fire('connecting');
    return handshake.promise;
  }

  private onMessage(ws: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    const frame = decodeServerFrame(data, isBinary); // throws on garbage; guard() reports it
    if (frame.welcome) this.onWelcome(ws, frame.welcome);
    else if (frame.command) this.onCommand(frame.command);
    else if (frame.error) this.onErrorFrame(frame.error);
    else if (frame.heartbeatAck) this.fire('heartbeat-ack', { serverTimeMs: Number(frame.heartbeatAck.serverTimeMs ?? 0) });
    else throw new Error('gateway sent an empty ServerFrame');
  }

  private onWelcome(ws: WebSocket, w: NonNullable<ServerFrameT['welcome']>): void {
    const info = welcomeInfo(w);
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
    const cmd: AgentCommand = agentCommand(c, this._lastAckedSeq);
    (this._commands ??= []).push(cmd);
    if (!cmd.duplicate) {
      if (cmd.kind === 'start') this._monitoring = true;
      else if (cmd.kind === 'stop') this._monitoring = false;
      else this.markUninstalled();
    }
    if (this.autoAck) this.ack(cmd.seq);
    this.changed('command');
    this.fire('command', cmd);
  }

  private onErrorFrame(e: NonNullable<ServerFrameT['error']>): void {
    const info = errorFrameInfo(e);
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
    const delay = reconnectDelay(this.connError, this.attempt, this.backoff);
    if (delay === null) {
      this.stopped = true;
      return;
    }
    this.attempt++;
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
    ws.send(encodeClientFrame(frame), { binary: true });
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

  /** Replaces the single timer; unref'd so an agent never keeps the process alive. */
  private setTimer(timer: NodeJS.Timeout): void {
    this.clearTimer();
    this.timer = timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer); // also clears intervals in Node
    this.timer = null;
  }

}
