/**
 * Counts every agent-port socket from TCP accept until its Hello arrives (SPEC Z4): a socket
 * over the per-process or per-source cap is destroyed on the spot, before its HTTP request is
 * parsed or a WebSocket is made — the cheapest refusal there is (the peer sees its connection
 * reset and retries after its own backoff). A socket whose Hello failed counts again until it
 * has really closed, so a peer that never finishes the close handshake cannot slip past the cap.
 *
 * Sockets are found again by the peer's address and port: the same for the raw socket of
 * 'connection' and for `req.socket` (also when TLS wraps it).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { sourceKey, type SourceLimits, type UnauthenticatedRefusal } from './source-limits.ts';

/**
 * A connection the gateway closed whose peer has not finished the close handshake after this
 * is destroyed by the sweep (ws would wait 30 s): a peer that ignores the close frame must not
 * hold its socket on.
 */
export const CLOSE_LINGER_MS = 2_000;

interface Counted {
  /** Source key counted under ('' when counted only in the process total: a trusted proxy). */
  key: string;
  counted: boolean;
  closed: boolean;
}

export class UnauthenticatedSockets {
  private readonly open = new Map<string, Counted>();
  private readonly byConn = new WeakMap<object, Counted>();
  /** Refusals since the last warning (logged at most every 10 s: a flood must not flood the log). */
  private refusedSinceLog = 0;
  private lastLog = 0;

  constructor(
    readonly limits: SourceLimits,
    private readonly log: Logger,
  ) {}

  /** The http(s) server's 'connection' listener (raw TCP socket). */
  readonly onSocket = (socket: Socket): void => {
    const peer = socket.remoteAddress ?? '';
    const key = this.limits.isTrustedProxy(peer) ? '' : sourceKey(peer);
    const refused = this.limits.enter(key);
    if (refused) {
      socket.destroy();
      this.noteRefusal(refused, peer);
      return;
    }
    const id = `${peer}|${socket.remotePort}`;
    const entry: Counted = { key, counted: true, closed: false };
    this.open.set(id, entry);
    socket.once('close', () => {
      if (this.open.get(id) === entry) this.open.delete(id);
      entry.closed = true;
      this.uncount(entry);
    });
  };

  /** The client's address of a request: its peer, or X-Forwarded-For's behind a trusted proxy. */
  clientAddressOf(req: IncomingMessage): string {
    return this.limits.clientAddress(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for']);
  }

  /**
   * A WebSocket was made on `req`'s socket for the client at `address`: remembers the socket
   * under `conn`; returns a refusal when that client already holds its share of unauthenticated
   * sockets (behind a proxy only knowable now; a direct peer was counted at accept).
   */
  adopt(conn: object, req: IncomingMessage, address: string): UnauthenticatedRefusal {
    const peer = req.socket.remoteAddress ?? '';
    const entry = this.open.get(`${peer}|${req.socket.remotePort}`);
    if (!entry) return undefined;
    this.byConn.set(conn, entry);
    if (entry.key === '' && entry.counted && address !== peer) {
      const key = sourceKey(address);
      if (this.limits.unauthenticatedFrom(key) >= this.limits.options.maxUnauthenticatedPerSource) {
        this.limits.refusedSockets++;
        this.noteRefusal('source', address);
        return 'source';
      }
      this.limits.leave('');
      this.limits.enterAnyway(key);
      entry.key = key;
    }
    return undefined;
  }

  /** `conn` sent its Hello: no longer unauthenticated-idle (the Hello queue bounds it now). */
  helloReceived(conn: object): void {
    const entry = this.byConn.get(conn);
    if (entry) this.uncount(entry);
  }

  /** `conn`'s Hello failed: it counts again until its socket has closed. */
  helloFailed(conn: object): void {
    const entry = this.byConn.get(conn);
    if (!entry || entry.counted || entry.closed) return;
    entry.counted = true;
    this.limits.enterAnyway(entry.key);
  }

  private uncount(entry: Counted): void {
    if (!entry.counted) return;
    entry.counted = false;
    this.limits.leave(entry.key);
  }

  private noteRefusal(why: 'process' | 'source', peer: string): void {
    this.refusedSinceLog++;
    const now = Date.now();
    if (now - this.lastLog < 10_000) return;
    this.log.warn(
      { code: 'TOO_MANY_UNAUTHENTICATED', cap: why, source: why === 'source' ? peer : undefined, refused: this.refusedSinceLog, unauthenticated: this.limits.unauthenticated },
      why === 'source' ? 'sockets refused: too many unauthenticated sockets from one address' : 'sockets refused: too many unauthenticated sockets in this process',
    );
    this.refusedSinceLog = 0;
    this.lastLog = now;
  }
}
