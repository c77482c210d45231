/**
 * The processes of one chaos scenario: its own Redis (by default one redis-server with its AOF in
 * the scenario's temp dir; or a Sentinel setup or a Cluster, see engine.ts), the starting ledger, `licensegate serve` gateway processes (RUN_WORKERS=false) — each either
 * straight on Redis or behind its own TCP proxy — and a worker (a serve process with
 * RUN_WORKERS=true that agents do not use). Everything is registered with the scenario's scope,
 * so it is torn down whatever happens. Gateways are started by bench/lib/gateway.ts.
 */
import { join } from 'node:path';
import { startGateway, type GatewayHandle } from '../../bench/lib/gateway.ts';
import { createRedis, type RedisClient } from '../../src/store/redis-connection.ts';
import type { RedisTarget } from '../../src/store/redis-target.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import type { Scope } from '../../bench/lib/scope.ts';
import { engineEnv, startEngine, type ChaosEngine, type EngineSpec } from './engine.ts';
import { kill9 } from './kill.ts';
import { prepareLedger, type ChaosLedger, type LedgerSpec } from './ledger.ts';
import type { ChaosRedis, AppendFsync } from './redis-server.ts';
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
  /** The Redis to run on; default one redis-server. A proxied gateway needs that default. */
  engine?: EngineSpec;
  ledger: LedgerSpec;
  gateways: GatewaySpec[];
  /** Timing and durability settings every process gets (HEARTBEAT_INTERVAL_MS, …). */
  env: Record<string, string>;
}

/**
 * On a Cluster the node registry (`<prefix>:nodes`, no hash tag) is put on the master that owns
 * the default tenant's slot: a failover of that master then stops the gateways' liveness beats
 * as well as their tenant work, for longer than NODE_TIMEOUT_MS in the quick form — the hardest
 * case for F1 (gateways must not reap each other when Redis comes back).
 */
function colocation(engine: ChaosEngine): Pick<LedgerSpec, 'acceptKeys'> {
  if (engine.kind !== 'cluster') return {};
  const t = engine.topology;
  return {
    acceptKeys: async (keys) => (await t.masterForKey(keys.nodes())).port === (await t.masterForKey(keys.tenant(DEFAULT_TENANT))).port,
  };
}

export class ChaosStack {
  readonly gateways = new Map<string, GatewayHandle>();
  readonly proxies = new Map<string, TcpProxy>();
  worker: GatewayHandle | undefined;
  private generation = 0;

  private constructor(
    private readonly o: StackOptions,
    readonly engine: ChaosEngine,
    /** A direct connection for the checker (never through a proxy). */
    readonly reader: RedisClient,
    readonly ledger: ChaosLedger,
  ) {}

  static async start(o: StackOptions): Promise<ChaosStack> {
    const engine = await startEngine(o.scope, o.dir, o.engine ?? { kind: 'single' }, o.appendfsync);
    // With the scripts defined: the starting ledger is written through the domain functions.
    const reader = createRedis(engine.target, { maxRetriesPerRequest: 2, connectionName: 'licensegate:chaos-checker' });
    reader.on('error', () => {});
    o.scope.defer('checker connection', () => reader.disconnect());
    const ledger = await prepareLedger(reader, { ...o.ledger, ...colocation(engine) }, join(o.dir, 'data'));
    const stack = new ChaosStack(o, engine, reader, ledger);
    for (const g of o.gateways) {
      if (!g.viaProxy) continue;
      const proxy = await TcpProxy.start(stack.redis.url);
      o.scope.defer(`proxy ${g.name}`, () => proxy.close());
      stack.proxies.set(g.name, proxy);
    }
    await Promise.all([...o.gateways.map((g) => stack.startGateway(g.name)), stack.startWorker()]);
    return stack;
  }

  get keys() {
    return this.ledger.keys;
  }

  /** Where every process of the scenario finds Redis. */
  get target(): RedisTarget {
    return this.engine.target;
  }

  /** The single redis-server (the scenarios that kill, pause or proxy it run on one). */
  get redis(): ChaosRedis {
    if (this.engine.kind !== 'single') throw new Error(`this stack runs on a ${this.engine.kind}, not on one redis-server`);
    return this.engine.redis;
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
    const proxy = this.proxies.get(name);
    const redisEnv = proxy ? engineEnv({ kind: 'single', url: proxy.url }) : engineEnv(this.target);
    const handle = await this.launch(name, { ...redisEnv, RUN_WORKERS: 'false', ...spec.env });
    this.gateways.set(name, handle);
    return handle;
  }

  async startWorker(): Promise<GatewayHandle> {
    this.worker = await this.launch('worker', { ...engineEnv(this.target), RUN_WORKERS: 'true' });
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

  /**
   * What each process logged at warn level or above, counted by message and error (its JSON log
   * lines): how the processes lived through a fault, for the report.
   */
  loggedProblems(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    const all = [...this.gateways.entries(), ...(this.worker ? [['worker', this.worker] as const] : [])];
    for (const [name, h] of all) {
      const counts: Record<string, number> = {};
      for (const line of h.output().split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const rec = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
          if ((rec.level ?? 0) < 40) continue;
          const k = `${rec.msg ?? ''}${rec.err?.message ? `: ${rec.err.message.slice(0, 160)}` : ''}`;
          counts[k] = (counts[k] ?? 0) + 1;
        } catch {
          // a torn line
        }
      }
      out[name] = counts;
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
