/**
 * One real Redis process of a topology (a cluster node, a replica, a sentinel): started on a
 * free port, probed until it answers (with the topology's password/TLS), and then killed,
 * paused, resumed or restarted on the same port and directory on demand. It is the sibling of
 * ChaosRedis (chaos/lib/redis-server.ts), which stays the one-server AOF tool of the chaos
 * suite; this class takes its arguments from the caller so that cluster nodes and sentinels
 * can share it. Every process is registered with the Scope: it never outlives its run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { Scope } from '../../bench/lib/scope.ts';
import { freePort } from '../../src/net/free-port.ts';
import { kill9 } from './kill.ts';

/** PEM files of a test CA-signed (or self-signed) server certificate. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** How clients reach every process of a topology. */
export interface RedisSecurity {
  password?: string;
  tls?: TlsFiles;
}

/**
 * redis-server arguments for password and TLS. With TLS the plain port is closed (`--port 0`)
 * and replication and the cluster bus use TLS too; clients need no certificate of their own
 * (`tls-auth-clients no`): the suite proves encryption and server identity, not mTLS.
 */
export function serverSecurityArgs(port: number, sec: RedisSecurity): string[] {
  const args = sec.tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', sec.tls.certFile, '--tls-key-file', sec.tls.keyFile,
        '--tls-ca-cert-file', sec.tls.caFile, '--tls-auth-clients', 'no', '--tls-replication', 'yes', '--tls-cluster', 'yes']
    : ['--port', String(port)];
  if (sec.password) args.push('--requirepass', sec.password, '--masterauth', sec.password);
  return args;
}

/** redis-cli arguments for the same password and TLS. */
export function cliSecurityArgs(sec: RedisSecurity): string[] {
  const args: string[] = [];
  if (sec.password) args.push('-a', sec.password, '--no-auth-warning');
  if (sec.tls) args.push('--tls', '--cacert', sec.tls.caFile);
  return args;
}

/** ioredis options for the same password and TLS (the CA only: the server is verified). */
export function clientSecurityOptions(sec: RedisSecurity): Pick<RedisOptions, 'password' | 'tls'> {
  const out: Pick<RedisOptions, 'password' | 'tls'> = {};
  if (sec.password) out.password = sec.password;
  if (sec.tls) out.tls = { ca: readFileSync(sec.tls.caFile) };
  return out;
}

export interface RedisProcessOptions {
  /** For the scope's records and error messages, e.g. `cluster-node-3`. */
  label: string;
  /** Binary: /usr/bin/redis-server or /usr/bin/redis-sentinel. */
  bin: string;
  /** Arguments for a port (called once per start attempt; may write a config file). */
  args: (port: number) => Promise<string[]> | string[];
  /** Password/TLS of the probe (a sentinel has no password of its own here). */
  security: RedisSecurity;
  startTimeoutMs?: number;
}

export class RedisProcess {
  private child: ChildProcess | undefined;
  private output = '';
  /** Between sigstop and sigcont: running, but it answers nothing. */
  paused = false;
  readonly host = '127.0.0.1';

  private constructor(
    private readonly scope: Scope,
    private readonly options: RedisProcessOptions,
    readonly port: number,
    private readonly argv: string[],
  ) {}

  /**
   * Picks a free port and starts. Picking by binding port 0 races with other processes on the
   * machine; when the port was taken meanwhile the start is retried on another one.
   */
  static async start(scope: Scope, options: RedisProcessOptions): Promise<RedisProcess> {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const proc = new RedisProcess(scope, options, port, await options.args(port));
      try {
        await proc.launch();
        return proc;
      } catch (err) {
        if (attempt >= 3 || !/Address already in use/i.test(String(err))) throw err;
      }
    }
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** ioredis options reaching this process alone. */
  clientOptions(): RedisOptions {
    return { host: this.host, port: this.port, ...clientSecurityOptions(this.options.security) };
  }

  /** A short-lived admin connection that fails fast instead of retrying (close it after use). */
  connect(): Redis {
    const r = new Redis({ ...this.clientOptions(), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000, commandTimeout: 2000 });
    r.on('error', () => {});
    return r;
  }

  /** Runs one command on a fresh connection (admin queries; never on hot paths). */
  async call(...args: (string | number)[]): Promise<unknown> {
    const r = this.connect();
    try {
      await r.connect();
      return await r.call(String(args[0]), ...args.slice(1).map(String));
    } finally {
      r.disconnect();
    }
  }

  /** Starts (again) on the same port with the same arguments and directory. */
  async launch(): Promise<void> {
    this.scope.check();
    if (this.running) throw new Error(`${this.options.label} is already running`);
    const child = spawn(this.options.bin, this.argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    this.paused = false;
    const collect = (b: Buffer) => {
      if (this.output.length < 16_384) this.output += b.toString();
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    // A paused process must be resumed before it can handle SIGTERM: SIGCONT is deferred after
    // the stop is registered, so it runs first (cleanups run in reverse order).
    this.scope.child(this.options.label, child, 3_000);
    this.scope.defer(`${this.options.label} SIGCONT`, () => this.signal('SIGCONT'));
    await this.waitUntilAnswering(this.options.startTimeoutMs ?? 20_000);
  }

  /** SIGKILL: a crash; resolves once the process is gone. */
  async kill9(): Promise<void> {
    if (this.child) await kill9(this.child);
  }

  /** SIGSTOP / SIGCONT: a stall with the sockets left open. */
  sigstop(): void {
    this.signal('SIGSTOP');
    this.paused = true;
  }

  sigcont(): void {
    this.signal('SIGCONT');
    this.paused = false;
  }

  private signal(sig: NodeJS.Signals): void {
    if (this.running && this.child?.pid !== undefined) process.kill(this.child.pid, sig);
  }

  private async waitUntilAnswering(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.options.label} exited during start-up:\n${this.output}`);
      try {
        if ((await this.call('PING')) === 'PONG') return;
      } catch {
        // not yet listening, or LOADING
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${this.options.label} did not answer within ${timeoutMs} ms:\n${this.output}`);
  }
}
