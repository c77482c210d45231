/**
 * One agent's WebSocket: the per-connection state machine (SPEC C1). Holds only what it must
 * (a few numbers and strings) so that tens of thousands fit in one process; everything that
 * needs Redis goes through the GatewayServer that owns it.
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { ClientCommand } from '../delivery/client-command.ts';
import { LicensegateError, type ErrorCode } from '../errors.ts';
import { NOOP_METRICS, type Metrics } from '../metrics/instruments.ts';
import { encodeCommand, encodeError, encodeHeartbeatAck } from '../protocol/encode-server-frame.ts';
import { TokenBucket } from './rate-limiter.ts';
import { commandToWire } from './wire-mapping.ts';

/** `queued`: its Hello waits in the gateway's HelloQueue for a handshake slot (SPEC C13). */
export type ConnectionState = 'awaiting-hello' | 'queued' | 'authenticating' | 'live' | 'closed';

export class AgentConnection {
  state: ConnectionState = 'awaiting-hello';
  tenantId = '';
  clientId = '';
  /** `<nodeId>:<id>`, recorded in Redis as the Client's current connection. */
  readonly token: string;
  readonly openedAt: number;
  lastFrameAt: number;
  /** A frame arrived since the last last-seen flush. */
  seenDirty = false;
  /** The connection's epoch among its Client's connections (includes/presence.lua); set by the Hello. */
  epoch = 0;
  /** Highest command seq sent on this connection. */
  lastSentSeq = 0;
  /** The Client's credential is not yet confirmed: the first frame after Welcome confirms it. */
  confirmPending = false;
  /** Non-persistent endpoint (SPEC C12). */
  nonPersistent = false;
  /** Accepted beyond MAX_CONNECTIONS: served its Hello, then closed with OVERLOADED. */
  overflow = false;
  /** A doorbell arrived while a delivery was in flight: read the log again after it. */
  deliverAgain = false;
  delivering = false;
  /** Seq of the Uninstall sent on this connection, 0 if none: its ack ends the connection (SPEC C8). */
  uninstallSentSeq = 0;
  /** Closes the connection when the agent does not acknowledge its Uninstall in time. */
  private uninstallGrace: NodeJS.Timeout | undefined;
  /**
   * Unsent bytes (ws.bufferedAmount) beyond which the peer is a slow reader (SPEC Z4): it is
   * closed instead of growing this process's memory without bound. Set by the gateway.
   */
  maxSendBufferBytes = 1024 * 1024;
  /** When fail() began closing this connection (0: not yet); the sweep ends a close that lingers. */
  closingSince = 0;
  /** Where the Error frames it sends are counted (SPEC H4); set by the gateway. */
  metrics: Metrics = NOOP_METRICS;
  /**
   * With metrics on: [seq, appendedAt ms, …] of commands sent live and not yet acknowledged,
   * for the delivery latency (command-delivery.ts). Undefined while none: commands are rare.
   */
  pendingAppends: number[] | undefined;
  private readonly bucket: TokenBucket;
  private logger: Logger | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly id: number,
    nodeId: string,
    now: number,
    rate: { framesPerSecond: number; burst: number },
    private readonly parentLogger: Logger,
    /**
     * The client's IP address: the socket's peer, or behind a trusted proxy (TRUSTED_PROXIES)
     * the address X-Forwarded-For names (unauthenticated-sockets.ts); '' if unknown.
     */
    readonly remoteAddress = '',
  ) {
    this.token = `${nodeId}:${id}`;
    this.openedAt = now;
    this.lastFrameAt = now;
    this.bucket = new TokenBucket(rate.framesPerSecond, rate.burst, now);
  }

  get key(): string {
    return connectionKey(this.tenantId, this.clientId);
  }

  /** The child logger bound to {tenant, clientId, conn}; made on first use. */
  get log(): Logger {
    this.logger ??= this.parentLogger.child({ conn: this.id, tenant: this.tenantId || undefined, clientId: this.clientId || undefined });
    return this.logger;
  }

  /** Called when Hello names the Client: later log lines carry its identity. */
  identify(tenantId: string, clientId: string): void {
    this.tenantId = tenantId;
    this.clientId = clientId;
    this.logger = undefined;
  }

  takeToken(now: number): boolean {
    return this.bucket.take(now);
  }

  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  send(bytes: Uint8Array): void {
    if (!this.isOpen) return;
    this.ws.send(bytes, { binary: true });
    // One getter (socket queue + ws sender queue) per send: cheap enough for every frame.
    if (this.ws.bufferedAmount > this.maxSendBufferBytes) this.closeSlowReader();
  }

  /**
   * The peer stopped reading: an Error frame and a close handshake would only queue behind
   * what it does not read, so the socket is destroyed at once (the peer sees an abnormal
   * close, 1006) and its buffers freed; the server log says why.
   */
  private closeSlowReader(): void {
    this.log.warn({ code: 'SLOW_READER', bufferedBytes: this.ws.bufferedAmount, limit: this.maxSendBufferBytes, source: this.remoteAddress }, 'connection closed: slow reader');
    this.state = 'closed';
    this.closingSince ||= Date.now();
    this.ws.terminate();
  }

  /** Sends the commands after lastSentSeq, in order. Returns true when one was an Uninstall. */
  sendCommands(commands: ClientCommand[]): boolean {
    let uninstall = false;
    for (const cmd of commands) {
      if (cmd.seq <= this.lastSentSeq) continue;
      this.send(encodeCommand(cmd.seq, commandToWire(cmd)));
      this.lastSentSeq = cmd.seq;
      if (cmd.kind === 'uninstall') {
        this.uninstallSentSeq = cmd.seq;
        uninstall = true;
      }
    }
    return uninstall;
  }

  /**
   * Runs `onExpire` after `ms` unless the socket closes first: the agent was told to uninstall
   * and has that long to acknowledge it (SPEC C8). Armed once; cleared by the close.
   */
  awaitUninstallAck(ms: number, onExpire: () => void): void {
    if (this.uninstallGrace || this.state === 'closed') return;
    const timer = setTimeout(() => {
      if (this.state !== 'closed' && this.isOpen) onExpire();
    }, ms);
    timer.unref();
    this.uninstallGrace = timer;
    this.ws.once('close', () => clearTimeout(timer));
  }

  sendHeartbeatAck(now: number): void {
    this.send(encodeHeartbeatAck(now));
  }

  /** Sends Error{code} and closes with the code's WebSocket close code. */
  fail(error: LicensegateError | ErrorCode): void {
    const err = typeof error === 'string' ? new LicensegateError(error) : error;
    this.closingSince ||= Date.now();
    if (this.isOpen) {
      this.metrics.errorSent(err.code);
      this.ws.send(encodeError(err.code, err.message, err.retryAfterMs), { binary: true });
      this.ws.close(err.closeCode, err.code);
    }
    this.state = 'closed';
  }
}

export function connectionKey(tenantId: string, clientId: string): string {
  return `${tenantId}\u0000${clientId}`;
}
