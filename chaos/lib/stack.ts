/**
 * The processes of one chaos scenario: its own redis-server (AOF in the scenario's temp dir),
 * the starting ledger, `licensegate serve` gateway processes (RUN_WORKERS=false) — each either
 * straight on Redis or behind its own TCP proxy — and a worker (a serve process with
 * RUN_WORKERS=true that agents do not use). Everything is registered with the scenario's scope,
 * so it is torn down whatever happens. Gateways are started by bench/lib/gateway.ts.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { startGateway, type GatewayHandle } from '../../bench/lib/gateway.ts';
import { createRedis } from '../../src/store/redis-connection.ts';
import type { Scope } from '../../bench/lib/scope.ts';
import { kill9 } from './kill.ts';
import { prepareLedger, type ChaosLedger, type LedgerSpec } from './ledger.ts';
import { ChaosRedis, type AppendFsync } from './redis-server.ts';
import { TcpProxy } from './tcp-proxy.ts';

export interface GatewaySpec {
  name: string;
  /** Reach Redis through a TCP proxy that the scenario can cut. */
  viaProxy?: boolean;
  /** Extra environment (e.g. CLOCK_OFFSET_MS). */
  env?: Record<string, string>;
}

export interface StackOptions {
  scope: Scope;
  dir: string;
  appendfsync: AppendFsync;
  ledger: LedgerSpec;
  gateways: GatewaySpec[];
  /** Timing and durability settings every process gets (HEARTBEAT_INTERVAL_MS, …). */
  env: Record<string, string>;
}

export class ChaosStack {
  readonly gateways = new Map<string, GatewayHandle>();
  readonly proxies = new Map<string, TcpProxy>();
  worker: GatewayHandle | undefined;
  private generation = 0;

  private constructor(
    private readonly o: StackOptions,
    readonly redis: ChaosRedis,
    /** A direct connection for the checker (never through a proxy). */
    readonly reader: Redis,
    readonly ledger: ChaosLedger,
  ) {}

  static async start(o: StackOptions): Promise<ChaosStack> {
    const redis = await ChaosRedis.start(o.scope, { dir: join(o.dir, 'redis'), appendfsync: o.appendfsync });
    // With the scripts defined: the starting ledger is written through the domain functions.
    const reader = createRedis(redis.url, { maxRetriesPerRequest: 2, connectionName: 'licensegate:chaos-checker' });
    reader.on('error', () => {});
    o.scope.defer('checker connection', () => reader.disconnect());
    const ledger = await prepareLedger(reader, o.ledger, join(o.dir, 'data'));
    const stack = new ChaosStack(o, redis, reader, ledger);
    for (const g of o.gateways) {
      if (!g.viaProxy) continue;
      const proxy = await TcpProxy.start(redis.url);
      o.scope.defer(`proxy ${g.name}`, () => proxy.close());
      stack.proxies.set(g.name, proxy);
    }
    await Promise.all([...o.gateways.map((g) => stack.startGateway(g.name)), stack.startWorker()]);
    return stack;
  }

  get keys() {
    return this.ledger.keys;
  }

  private launch(label: string, env: Record<string, string>): Promise<GatewayHandle> {
    return startGateway(this.o.scope, {
      label: `${label}#${++this.generation}`,
      env: { ...this.ledger.env, LOG_LEVEL: 'error', ...this.o.env, ...env },
      readyTimeoutMs: 60_000,
    });
  }

  async startGateway(name: string): Promise<GatewayHandle> {
    const spec = this.o.gateways.find((g) => g.name === name);
    if (!spec) throw new Error(`no gateway ${name}`);
    const redisUrl = this.proxies.get(name)?.url ?? this.redis.url;
    const handle = await this.launch(name, { REDIS_URL: redisUrl, RUN_WORKERS: 'false', ...spec.env });
    this.gateways.set(name, handle);
    return handle;
  }

  async startWorker(): Promise<GatewayHandle> {
    this.worker = await this.launch('worker', { REDIS_URL: this.redis.url, RUN_WORKERS: 'true' });
    return this.worker;
  }

  async killGateway(name: string): Promise<void> {
    const g = this.gateways.get(name);
    if (g) await kill9(g.child);
  }

  async killWorker(): Promise<void> {
    if (this.worker) await kill9(this.worker.child);
  }

  /** WebSocket URLs of the gateways, in the order they were specified (current instances). */
  gatewayUrls(): string[] {
    return this.o.gateways.map((g) => this.gateways.get(g.name)?.url).filter((u): u is string => u !== undefined);
  }

  /** Node id behind each live process's WebSocket URL. */
  nodeOfUrl(): Map<string, string> {
    const out = new Map<string, string>();
    for (const h of [...this.gateways.values(), ...(this.worker ? [this.worker] : [])]) {
      if (h.child.exitCode === null && h.child.signalCode === null) out.set(h.url, h.nodeId);
    }
    return out;
  }

  /** Everything the processes printed, for the report when something went wrong. */
  outputs(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, h] of this.gateways) out[name] = h.output().slice(-3000);
    if (this.worker) out.worker = this.worker.output().slice(-3000);
    return out;
  }
}
