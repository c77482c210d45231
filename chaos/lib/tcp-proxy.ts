/**
 * Fault injector: a network cut between one process and Redis. The process is given the
 * proxy's address instead of Redis's; the proxy forwards bytes both ways until told to cut:
 *
 * - `drop`: every connection is reset (RST) and every new one is reset at once — a firewall
 *   that rejects, or a peer that rebooted. Clients see errors and reconnect.
 * - `blackhole`: connections stay open but nothing passes either way, and new connections are
 *   accepted but never reach Redis — a partition. Clients see silence, not errors. Nothing is
 *   lost: what was sent meanwhile is held (as TCP would retransmit it) and delivered on heal.
 *
 * `heal()` restores forwarding. Loopback only.
 */
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

export type CutMode = 'drop' | 'blackhole';
export type ProxyMode = 'pass' | CutMode;

export interface ProxyStats {
  accepted: number;
  reset: number;
  bytesUp: number;
  bytesDown: number;
}

/** One proxied connection: the client's socket and its upstream socket to Redis. */
class Pipe {
  upstream: Socket | undefined;
  /** Bytes read while blackholed (a chunk already in flight when the cut began). */
  private held: { to: 'up' | 'down'; chunk: Buffer }[] = [];

  constructor(
    readonly client: Socket,
    private readonly proxy: TcpProxy,
  ) {
    client.on('error', () => this.destroy());
    client.on('close', () => this.destroy());
    client.on('data', (chunk) => this.forward('up', chunk));
  }

  connectUpstream(host: string, port: number): void {
    if (this.upstream || this.client.destroyed) return;
    const up = new Socket();
    this.upstream = up;
    up.on('error', () => this.destroy());
    up.on('close', () => this.destroy());
    up.on('data', (chunk) => this.forward('down', chunk));
    up.connect(port, host);
    this.flushHeld();
  }

  private forward(to: 'up' | 'down', chunk: Buffer): void {
    if (this.proxy.mode !== 'pass' || !this.upstream) {
      this.held.push({ to, chunk });
      this.pause();
      return;
    }
    this.write(to, chunk);
  }

  private write(to: 'up' | 'down', chunk: Buffer): void {
    const dest = to === 'up' ? this.upstream! : this.client;
    const src = to === 'up' ? this.client : this.upstream!;
    if (to === 'up') this.proxy.stats.bytesUp += chunk.length;
    else this.proxy.stats.bytesDown += chunk.length;
    if (!dest.write(chunk)) {
      src.pause();
      dest.once('drain', () => {
        if (this.proxy.mode === 'pass') src.resume();
      });
    }
  }

  pause(): void {
    this.client.pause();
    this.upstream?.pause();
  }

  resume(): void {
    this.flushHeld();
    this.client.resume();
    this.upstream?.resume();
  }

  private flushHeld(): void {
    if (this.proxy.mode !== 'pass' || !this.upstream) return;
    const held = this.held;
    this.held = [];
    for (const { to, chunk } of held) this.write(to, chunk);
  }

  reset(): void {
    this.proxy.stats.reset++;
    this.client.resetAndDestroy();
    this.upstream?.resetAndDestroy();
    this.destroy();
  }

  destroy(): void {
    if (!this.client.destroyed) this.client.destroy();
    if (this.upstream && !this.upstream.destroyed) this.upstream.destroy();
    this.proxy.forget(this);
  }
}

export class TcpProxy {
  private _mode: ProxyMode = 'pass';
  private readonly pipes = new Set<Pipe>();
  readonly stats: ProxyStats = { accepted: 0, reset: 0, bytesUp: 0, bytesDown: 0 };

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** Listens on a free loopback port and forwards to `target` (a redis:// URL or host and port). */
  static async start(target: string | { host: string; port: number }): Promise<TcpProxy> {
    const t = typeof target === 'string' ? hostPortOf(target) : target;
    if (t.host !== '127.0.0.1' && t.host !== 'localhost' && t.host !== '::1') throw new Error(`tcp proxy: loopback targets only, not ${t.host}`);
    const server = createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new TcpProxy(server, (server.address() as AddressInfo).port, t);
    server.on('connection', (socket) => proxy.accept(socket));
    return proxy;
  }

  get mode(): ProxyMode {
    return this._mode;
  }

  /** redis:// URL that reaches the target through this proxy. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Connections currently open through the proxy. */
  get connections(): number {
    return this.pipes.size;
  }

  private accept(socket: Socket): void {
    this.stats.accepted++;
    socket.setNoDelay(true);
    const pipe = new Pipe(socket, this);
    if (this._mode === 'drop') {
      pipe.reset();
      return;
    }
    this.pipes.add(pipe);
    if (this._mode === 'blackhole') pipe.pause();
    else pipe.connectUpstream(this.target.host, this.target.port);
  }

  /** Cuts the network: `drop` resets every connection now and later; `blackhole` goes silent. */
  cut(mode: CutMode): void {
    this._mode = mode;
    for (const pipe of [...this.pipes]) {
      if (mode === 'drop') pipe.reset();
      else pipe.pause();
    }
  }

  /** Forwards again; held bytes are delivered and blackholed new connections reach Redis now. */
  heal(): void {
    this._mode = 'pass';
    for (const pipe of [...this.pipes]) {
      pipe.connectUpstream(this.target.host, this.target.port);
      pipe.resume();
    }
  }

  /** Cuts for `ms`, then heals. */
  async cutFor(mode: CutMode, ms: number): Promise<void> {
    this.cut(mode);
    try {
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      this.heal();
    }
  }

  /** @internal */
  forget(pipe: Pipe): void {
    this.pipes.delete(pipe);
  }

  async close(): Promise<void> {
    for (const pipe of [...this.pipes]) pipe.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function hostPortOf(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379) };
}
