/**
 * A load-balanced stack for the bench (SPEC X2, X4): one Redis engine, the ledger, the admin
 * worker in its own process, N `licensegate serve` processes (RUN_WORKERS=false) on fixed
 * loopback ports — so a restarted gateway comes back where HAProxy checks it, as in a real
 * deployment — real HAProxy in front of them running deploy/haproxy.cfg (chaos/lib/haproxy.ts,
 * its shipped check timing), and the driver. Torn down by stop() or with the scenario's scope.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HaproxyProcess } from '../../chaos/lib/haproxy.ts';
import type { LicenseTypeName } from '../../src/licensing/license-types.ts';
import { freePort } from '../../src/net/free-port.ts';
import type { BenchEngine } from './engine.ts';
import { startGateway, type GatewayHandle } from './gateway.ts';
import { startHelper, type Helper } from './ipc.ts';
import type { ScenarioContext } from './scenario.ts';
import { Scope } from './scope.ts';
import { prepareLedger, startEngine, type BenchRedis, type Ledger } from './setup.ts';

export interface LbSlot {
  name: string;
  wsPort: number;
  httpPort: number;
  gateway: GatewayHandle;
  /** DRAIN_SECONDS this slot's current process was started with. */
  drainSeconds: number;
}

export interface LbStack {
  redis: BenchRedis;
  ledger: Ledger;
  slots: LbSlot[];
  haproxy: HaproxyProcess;
  driver: Helper<{ pid: number }>;
  /** Starts slot i's gateway (again) on its ports; resolves once HAProxy has it UP. */
  start(i: number, drainSeconds: number): Promise<GatewayHandle>;
  /** One SIGTERM (a drain when its DRAIN_SECONDS > 0); resolves with the exit code. */
  terminate(i: number): Promise<number | null>;
  stop(): Promise<void>;
}

export interface LbStackOptions {
  engine: BenchEngine;
  gateways: number;
  pool: Partial<Record<LicenseTypeName, number>>;
  /** DRAIN_SECONDS of each gateway's first process. */
  drainSeconds: number[];
  drainNoticeMs: number;
}

export async function startLbStack(ctx: ScenarioContext, o: LbStackOptions): Promise<LbStack> {
  ctx.scope.check();
  const scope = new Scope();
  ctx.scope.defer(`lb stack (${o.engine})`, () => scope.close());
  const dir = join(ctx.scratch, o.engine);
  mkdirSync(dir, { recursive: true });
  const redis = await startEngine(scope, o.engine, { dataDir: dir });
  const ledger = await prepareLedger(redis, o.pool, dir);
  // TRUSTED_PROXIES: HAProxy (on loopback) forwards the agents' addresses (SPEC Z4, docs/abuse-limits.md).
  const env = { ...ledger.env, RUN_WORKERS: 'false', DRAIN_NOTICE_MS: String(o.drainNoticeMs), TRUSTED_PROXIES: '127.0.0.1' };
  await startHelper(scope, 'admin-worker', { env: { ...ledger.env, LOG_LEVEL: 'warn' } });
  const driver = await startHelper<{ pid: number }>(scope, 'driver', { env: { UV_THREADPOOL_SIZE: '4' } });
  let generation = 0;
  const launch = (slot: Omit<LbSlot, 'gateway'>) =>
    startGateway(scope, {
      env: { ...env, GATEWAY_PORT: String(slot.wsPort), HTTP_PORT: String(slot.httpPort), DRAIN_SECONDS: String(slot.drainSeconds) },
      label: `${slot.name}#${++generation}`,
    });
  const slots: LbSlot[] = [];
  for (let i = 0; i < o.gateways; i++) {
    const slot = { name: `gw${i + 1}`, wsPort: await freePort(), httpPort: await freePort(), drainSeconds: o.drainSeconds[i] ?? 0 };
    slots.push({ ...slot, gateway: await launch(slot) });
  }
  const haproxy = await HaproxyProcess.start(scope, { dir, backends: slots });
  ctx.log(`${o.engine}: HAProxy ${haproxy.url} (maxconn ${haproxy.maxconn}) in front of ${slots.map((s) => `${s.name} :${s.wsPort}`).join(', ')}`);
  return {
    redis,
    ledger,
    slots,
    haproxy,
    driver,
    async start(i, drainSeconds) {
      const slot = slots[i]!;
      slot.drainSeconds = drainSeconds;
      slot.gateway = await launch(slot);
      await haproxy.waitStatus(slot.name, 'UP', 30_000);
      return slot.gateway;
    },
    terminate(i) {
      const child = slots[i]!.gateway.child;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      return exited;
    },
    async stop() {
      await driver.call('close-agents', { timeoutMs: 10_000 }, 15_000).catch(() => {});
      await scope.close();
      for (const e of scope.cleanupErrors) ctx.log(`lb stack teardown: ${e}`);
    },
  };
}
