/**
 * The processes of one licensegate scenario: redis-server, the ledger (tenant + pool), the
 * gateway, optionally the admin worker in its own process, and the driver. Everything is
 * registered with the scenario's scope (torn down when the scenario ends, whatever happens);
 * `stop()` tears the stack down earlier, e.g. between the trials of a storm.
 */
import type { LicenseTypeName } from '../../src/licensing/license-types.ts';
import { startGateway, type GatewayHandle } from './gateway.ts';
import { startHelper, type Helper } from './ipc.ts';
import type { EnrollResult } from '../scenarios/boot-storm.ts';
import { connectTimeoutMs, type ScenarioContext } from './scenario.ts';
import { Scope, stopChild } from './scope.ts';
import type { BenchEngine } from './engine.ts';
import { ENROLLMENT_TOKEN, prepareLedger, startEngine, type BenchDurability, type BenchRedis, type Ledger, type TenantPools } from './setup.ts';

export interface Stack {
  redis: BenchRedis;
  ledger: Ledger;
  gateway: GatewayHandle;
  worker: Helper<{ concurrency: number }> | undefined;
  driver: Helper<{ pid: number }>;
  /** Starts another gateway on the same Redis and prefixes (after a restart). */
  restartGateway(): Promise<GatewayHandle>;
  /** Starts one more gateway process next to the current one (same Redis, prefixes, env). */
  addGateway(): Promise<GatewayHandle>;
  /** Stops the admin worker process (closing its BullMQ worker first). */
  stopWorker(): Promise<void>;
  pids(): Record<string, number | undefined>;
  /** Inspector URLs of the gateway and the worker (profiling targets). */
  inspectors(): Record<string, string | undefined>;
  /**
   * Tears the whole stack down now: the driver closes its agents, the worker closes its BullMQ
   * worker, then every process and connection of the stack is stopped as the scope would (the
   * gateway(s), worker, driver, the Redis connection and redis-server). The scenario's scope
   * does not stop them a second time. Never throws.
   */
  stop(): Promise<void>;
}

export interface StackOptions {
  pool: Partial<Record<LicenseTypeName, number>>;
  gatewayEnv?: Record<string, string>;
  /** Run the admin worker in its own process; the gateway then runs with RUN_WORKERS=false. */
  worker?: boolean;
  inspect?: boolean;
  /**
   * DURABILITY of the gateway and worker, with the Redis side it needs (setup.ts). Default
   * `none`: in-memory Redis and the product's default mode, as the other scenarios run.
   */
  durability?: BenchDurability;
  /** The Redis engine (default: the run's --engine, `single` unless asked). */
  engine?: BenchEngine;
  /** `single` only: an in-memory replica next to the Redis (as a topology has), DURABILITY unchanged. */
  replica?: boolean;
  /** Tenants besides the default one (multi-tenant mode), with their grants. */
  tenants?: TenantPools;
}

/**
 * The cleanups of one stack. Each is registered with the scenario's scope as well (in the same
 * order as before, so a failing or timed-out scenario tears the stack down as it always did),
 * and runs at most once: by `close()` (Stack.stop) or by the scenario's scope, whichever comes
 * first. Nothing can be started through it once the scenario's scope is closed.
 */
class StackScope extends Scope {
  constructor(private readonly parent: Scope) {
    super();
  }

  override defer(label: string, fn: () => Promise<unknown> | unknown): void {
    let done: Promise<unknown> | undefined;
    const once = () => (done ??= Promise.resolve().then(fn));
    super.defer(label, once);
    this.parent.defer(label, once);
  }

  override check(): void {
    this.parent.check();
    super.check();
  }
}

export async function startStack(ctx: ScenarioContext, o: StackOptions): Promise<Stack> {
  ctx.scope.check();
  const scope = new StackScope(ctx.scope);
  const engine = o.engine ?? ctx.opts.engine;
  const redis = await startEngine(scope, engine, { durability: o.durability, dataDir: ctx.scratch, replica: o.replica });
  const ledger = await prepareLedger(redis, o.pool, ctx.scratch, o.tenants);
  if (o.durability && o.durability !== 'none') ledger.env.DURABILITY = o.durability;
  const gatewayEnv = { ...ledger.env, RUN_WORKERS: o.worker ? 'false' : 'true', ...o.gatewayEnv };
  let generation = 0;
  const launch = () =>
    startGateway(scope, {
      env: gatewayEnv,
      label: `gateway#${++generation}`,
      inspect: o.inspect || ctx.opts.profile,
    });
  let gateway = await launch();
  ctx.log(`gateway ${gateway.url} (pid ${gateway.pid}) on ${engine}`);
  const worker = o.worker
    ? await startHelper<{ concurrency: number }>(scope, 'admin-worker', { env: { ...ledger.env, LOG_LEVEL: 'warn' }, inspect: o.inspect || ctx.opts.profile })
    : undefined;
  const driver = await startHelper<{ pid: number }>(scope, 'driver', { env: { UV_THREADPOOL_SIZE: '4' } });
  const stack: Stack = {
    redis,
    ledger,
    get gateway() {
      return gateway;
    },
    worker,
    driver,
    async addGateway() {
      const extra = await launch();
      ctx.log(`gateway ${extra.url} (pid ${extra.pid}) added`);
      return extra;
    },
    async restartGateway() {
      gateway = await launch();
      ctx.log(`gateway restarted ${gateway.url} (pid ${gateway.pid})`);
      return gateway;
    },
    async stopWorker() {
      if (!worker) return;
      await worker.call('close', {}, 15_000).catch(() => {});
      await stopChild(worker.child, 5_000);
    },
    pids() {
      return { gateway: gateway.pid, ...redis.pids(), driver: driver.pid, worker: worker?.pid };
    },
    inspectors() {
      return { gateway: gateway.inspectorUrl, worker: worker?.inspectorUrl };
    },
    async stop() {
      if (scope.isClosed) return;
      await driver.call('close-agents', { timeoutMs: 10_000 }, 15_000).catch(() => {});
      await stack.stopWorker();
      await scope.close();
      for (const e of scope.cleanupErrors) ctx.log(`stack teardown: ${e}`);
    },
  };
  return stack;
}

/** Enrolls agents 0..n-1 through the stack's driver and waits until every one is licensed. */
export async function enrollLicensedFleet(ctx: ScenarioContext, stack: Stack, prefix: string, n: number): Promise<void> {
  const enrolled = await stack.driver.call<EnrollResult>('enroll', {
    url: stack.gateway.url,
    count: n,
    prefix,
    token: ENROLLMENT_TOKEN,
    concurrency: ctx.opts.concurrency,
    timeoutMs: connectTimeoutMs(n),
    sourceIps: ctx.sizes.sourceIps,
    waitLicense: true,
  });
  if (enrolled.licensed !== n) throw new Error(`only ${enrolled.licensed}/${n} agents licensed: ${JSON.stringify(enrolled.finalFailures)}`);
}
