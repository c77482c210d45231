/**
 * The chaos suite's own redis-server: a real process with AOF on in a scenario's temp dir, so
 * that it can be killed with SIGKILL and started again on the same port from what its AOF
 * holds — exactly what an operator's Redis does after a crash. `appendfsync` is the durability
 * mode under test: `always` loses nothing acknowledged, `everysec` may lose the last ~1–2 s.
 * (The zero-config embedded Redis of src/store/embedded-redis.ts always runs `everysec` and
 * reuses a running instance; the suite needs both modes and a restart on demand.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Scope } from '../../bench/lib/scope.ts';
import { freePort } from '../../src/net/free-port.ts';
import { findRedisServer } from '../../src/store/embedded-redis.ts';
import { kill9 } from './kill.ts';

export type AppendFsync = 'always' | 'everysec';

export interface ChaosRedisOptions {
  /** AOF directory (created). */
  dir: string;
  appendfsync: AppendFsync;
  startTimeoutMs?: number;
}

export class ChaosRedis {
  private child: ChildProcess | undefined;
  private output = '';
  /** Every process this instance started, for the record (kill/restart counts). */
  readonly starts: { pid: number; at: number }[] = [];

  private constructor(
    private readonly scope: Scope,
    private readonly bin: string,
    readonly port: number,
    private readonly options: ChaosRedisOptions,
  ) {}

  static async start(scope: Scope, options: ChaosRedisOptions): Promise<ChaosRedis> {
    const bin = findRedisServer();
    if (!bin) throw new Error('redis-server not found (Debian: apt-get install redis-server)');
    mkdirSync(options.dir, { recursive: true });
    const redis = new ChaosRedis(scope, bin, await freePort(), options);
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts redis-server on the same port and directory; it loads whatever the AOF holds. */
  async launch(): Promise<void> {
    this.scope.check();
    if (this.running) throw new Error('redis-server is already running');
    const o = this.options;
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--daemonize', 'no',
      '--save', '', '--dir', o.dir, '--appendonly', 'yes', '--appendfsync', o.appendfsync,
      '--aof-load-truncated', 'yes', '--loglevel', 'warning',
    ];
    const child = spawn(this.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    const collect = (b: Buffer) => {
      if (this.output.length < 16_384) this.output += b.toString();
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    // A paused server must be resumed before it can handle SIGTERM; a crashed one needs nothing.
    this.scope.child(`redis-server#${this.starts.length + 1}`, child, 3_000);
    this.scope.defer('redis-server SIGCONT', () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGCONT');
    });
    this.starts.push({ pid: child.pid!, at: Date.now() });
    await this.waitUntilAnswering(o.startTimeoutMs ?? 20_000);
  }

  /** SIGKILL: a crash. Whatever was not yet written to the AOF is gone. */
  async kill(): Promise<void> {
    if (this.child) await kill9(this.child);
  }

  /**
   * Copies the AOF as it is now. Restoring the copy after a crash leaves Redis exactly as a
   * power loss under `appendfsync everysec` may: without the writes made since (the page cache
   * survives a mere SIGKILL, so a kill alone loses almost nothing).
   */
  snapshotAof(): string {
    const copy = `${this.options.dir}.snapshot`;
    rmSync(copy, { recursive: true, force: true });
    cpSync(this.options.dir, copy, { recursive: true });
    return copy;
  }

  /** After a kill: replaces the AOF with `snapshot` (see snapshotAof) and starts again. */
  async restartFrom(snapshot: string): Promise<void> {
    if (this.running) throw new Error('kill redis-server before restoring its AOF');
    rmSync(this.options.dir, { recursive: true, force: true });
    cpSync(snapshot, this.options.dir, { recursive: true });
    await this.launch();
  }

  private async waitUntilAnswering(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
    probe.on('error', () => {});
    try {
      while (Date.now() < deadline) {
        if (!this.running) throw new Error(`redis-server exited during start-up:\n${this.output}`);
        try {
          if (probe.status !== 'ready') await probe.connect();
          // LOADING while the AOF is replayed: not yet.
          if ((await probe.ping()) === 'PONG') return;
        } catch {
          probe.disconnect();
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`redis-server did not answer within ${timeoutMs} ms:\n${this.output}`);
    } finally {
      probe.disconnect();
    }
  }
}
