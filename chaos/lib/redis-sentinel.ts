/**
 * A real Redis Sentinel setup for tests, the chaos suite and the bench: 1 primary + N replicas
 * (`redis-server --replicaof`) watched by M `redis-sentinel` processes (Debian's redis-sentinel
 * package; never `redis-server --sentinel` in disguise, so that what is tested is what an
 * operator installs). Ready once every replica is linked and every sentinel knows the replicas
 * and the other sentinels (without that a failover cannot be authorised).
 *
 * down-after-milliseconds is 1000 and failover-timeout 5000 (defaults: 30 s and 3 min) so that a
 * killed primary is replaced within a few seconds in a test; a real deployment keeps larger
 * values. Sentinels have no password of their own; with `password` the servers require it and
 * the sentinels use it (`sentinel auth-pass`); with `tls` sentinels listen on TLS and talk TLS.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scope } from '../../bench/lib/scope.ts';
import { findRedisServer } from '../../src/store/embedded-redis.ts';
import { RedisProcess, serverSecurityArgs, type RedisSecurity, type TlsFiles } from './redis-process.ts';
import type { AppendFsync } from './redis-server.ts';

export const SENTINEL_DOWN_AFTER_MS = 1000;
export const SENTINEL_FAILOVER_TIMEOUT_MS = 5000;
const SENTINEL_PATHS = ['/usr/bin/redis-sentinel', '/usr/local/bin/redis-sentinel'];

export interface RedisSentinelOptions {
  /** Parent directory; each process gets its own in it. */
  dir: string;
  /** The monitored master group's name. */
  name?: string;
  replicas?: number;
  sentinels?: number;
  quorum?: number;
  appendfsync?: AppendFsync;
  password?: string;
  tls?: TlsFiles;
  startTimeoutMs?: number;
}

export interface Address {
  host: string;
  port: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function findRedisSentinel(): string {
  const bin = SENTINEL_PATHS.find((p) => existsSync(p));
  if (!bin) throw new Error("redis-sentinel not found: install Debian's redis-sentinel package (apt-get install redis-sentinel)");
  return bin;
}

export class RedisSentinelTopology {
  private constructor(
    readonly name: string,
    /** Data servers: [0] is the first primary, the rest its replicas (roles change on failover). */
    readonly servers: RedisProcess[],
    readonly sentinelProcesses: RedisProcess[],
    readonly security: RedisSecurity,
    private readonly scope: Scope,
  ) {}

  static async start(outer: Scope, options: RedisSentinelOptions): Promise<RedisSentinelTopology> {
    const sentinelBin = findRedisSentinel();
    const serverBin = findRedisServer();
    if (!serverBin) throw new Error('redis-server not found (Debian: apt-get install redis-server)');
    const scope = new Scope();
    outer.defer('redis sentinel setup', () => scope.close());
    const name = options.name ?? 'licensegate';
    const security: RedisSecurity = { password: options.password, tls: options.tls };
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    const server = (i: number, replicaOf?: RedisProcess) => {
      const dir = join(options.dir, `server-${i}`);
      mkdirSync(dir, { recursive: true });
      return RedisProcess.start(scope, {
        label: `sentinel-setup-server-${i}`,
        bin: serverBin,
        security,
        args: (port) => [
          ...serverSecurityArgs(port, security), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--daemonize', 'no',
          '--save', '', '--dir', dir, '--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'everysec',
          '--aof-load-truncated', 'yes', '--loglevel', 'warning',
          ...(replicaOf ? ['--replicaof', replicaOf.host, String(replicaOf.port)] : []),
        ],
      });
    };
    const primary = await server(0);
    const replicas = await Promise.all(Array.from({ length: options.replicas ?? 2 }, (_, i) => server(i + 1, primary)));
    const sentinels = await Promise.all(
      Array.from({ length: options.sentinels ?? 3 }, (_, i) => {
        const dir = join(options.dir, `sentinel-${i}`);
        mkdirSync(dir, { recursive: true });
        return RedisProcess.start(scope, {
          label: `sentinel-${i}`,
          bin: sentinelBin,
          security: { tls: security.tls },
          args: (port) => {
            const conf = join(dir, 'sentinel.conf');
            writeFileSync(conf, sentinelConfig(port, dir, name, primary, options.quorum ?? 2, security));
            return [conf];
          },
        });
      }),
    );
    const topology = new RedisSentinelTopology(name, [primary, ...replicas], sentinels, security, scope);
    await topology.waitReady(deadline - Date.now());
    return topology;
  }

  /** Where clients ask for the primary. */
  sentinels(): Address[] {
    return this.sentinelProcesses.map((s) => ({ host: s.host, port: s.port }));
  }

  /** The primary as the first answering sentinel reports it. */
  async primary(): Promise<Address> {
    for (const s of this.liveSentinels()) {
      try {
        const [host, port] = (await s.call('SENTINEL', 'get-master-addr-by-name', this.name)) as [string, string];
        return { host, port: Number(port) };
      } catch {
        // ask the next one
      }
    }
    throw new Error('no sentinel answered get-master-addr-by-name');
  }

  /** The data server listening on `port`. */
  server(port: number): RedisProcess {
    const s = this.servers.find((p) => p.port === port);
    if (!s) throw new Error(`no server of this setup listens on ${port}`);
    return s;
  }

  /** kill -9 of the current primary; returns its port (for waitFailover). */
  async kill9Primary(): Promise<number> {
    const { port } = await this.primary();
    await this.server(port).kill9();
    return port;
  }

  /**
   * Resolves once every live sentinel reports a primary other than `oldPrimaryPort` and that
   * server answers ROLE master; returns it.
   */
  async waitFailover(oldPrimaryPort: number, timeoutMs: number): Promise<Address> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const reports = await Promise.all(
          this.liveSentinels().map((s) => s.call('SENTINEL', 'get-master-addr-by-name', this.name) as Promise<[string, string]>),
        );
        const ports = new Set(reports.map((r) => Number(r[1])));
        const [port] = [...ports];
        if (ports.size === 1 && port !== oldPrimaryPort && ((await this.server(port!).call('ROLE')) as [string])[0] === 'master') {
          return { host: '127.0.0.1', port: port! };
        }
      } catch {
        // sentinels or servers between states: ask again
      }
      await sleep(100);
    }
    throw new Error(`sentinels did not report a new primary (other than ${oldPrimaryPort}) within ${timeoutMs} ms`);
  }

  /** Stops every process of the setup (SIGTERM, then SIGKILL after 3 s). */
  async stop(): Promise<void> {
    await this.scope.close();
  }

  private liveSentinels(): RedisProcess[] {
    return this.sentinelProcesses.filter((s) => s.running && !s.paused);
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const replicas = this.servers.length - 1;
    const others = this.sentinelProcesses.length - 1;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const linked = await Promise.all(this.servers.slice(1).map((s) => s.call('ROLE') as Promise<unknown[]>));
        const states = await Promise.all(this.sentinelProcesses.map((s) => s.call('SENTINEL', 'MASTER', this.name) as Promise<string[]>));
        const field = (state: string[], key: string) => Number(state[state.indexOf(key) + 1]);
        last = `replicas linked ${linked.filter((r) => r[3] === 'connected').length}/${replicas}, sentinels ` +
          states.map((st) => `${field(st, 'num-slaves')} replicas/${field(st, 'num-other-sentinels')} peers`).join(', ');
        if (linked.every((r) => r[3] === 'connected') &&
          states.every((st) => field(st, 'num-slaves') === replicas && field(st, 'num-other-sentinels') === others)) return;
      } catch (err) {
        last = String(err);
      }
      await sleep(100);
    }
    throw new Error(`sentinel setup not ready within ${timeoutMs} ms (${last})`);
  }
}

function sentinelConfig(port: number, dir: string, name: string, primary: RedisProcess, quorum: number, sec: RedisSecurity): string {
  const lines = [
    'bind 127.0.0.1', 'protected-mode no', 'daemonize no', `dir ${dir}`, 'logfile ""', 'loglevel warning',
    ...(sec.tls
      ? ['port 0', `tls-port ${port}`, `tls-cert-file ${sec.tls.certFile}`, `tls-key-file ${sec.tls.keyFile}`,
          `tls-ca-cert-file ${sec.tls.caFile}`, 'tls-auth-clients no', 'tls-replication yes']
      : [`port ${port}`]),
    `sentinel monitor ${name} ${primary.host} ${primary.port} ${quorum}`,
    `sentinel down-after-milliseconds ${name} ${SENTINEL_DOWN_AFTER_MS}`,
    `sentinel failover-timeout ${name} ${SENTINEL_FAILOVER_TIMEOUT_MS}`,
    `sentinel parallel-syncs ${name} 1`,
    ...(sec.password ? [`sentinel auth-pass ${name} ${sec.password}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}
