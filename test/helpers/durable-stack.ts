/**
 * The durability tests' own Redis processes (they kill, pause and restart them, so never the
 * shared test redis-server) and an in-process gateway plus admin worker on them, with the
 * connections created in a DURABILITY mode as `licensegate serve` creates them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll } from 'vitest';
import { AdminClient } from '../../src/admin/client.ts';
import { GatewayServer } from '../../src/gateway/gateway-server.ts';
import type { GatewayOptions } from '../../src/gateway/gateway-options.ts';
import { startAdminWorker } from '../../src/jobs/admin-worker.ts';
import { LedgerScheduler } from '../../src/jobs/scheduler.ts';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import type { LicenseTypeName } from '../../src/licensing/license-types.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import type { DurabilityMode } from '../../src/store/durability.ts';
import { startEmbeddedRedis, type EmbeddedRedis, type EmbeddedRedisOptions } from '../../src/store/embedded-redis.ts';
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import { createRedis, waitReady } from '../../src/store/redis-connection.ts';
import { eventually, TEST_TOKEN } from './gateway.ts';
import { activatePool, ledgerContext } from './ledger.ts';
import { newKeys } from './redis.ts';

/** Every redis-server started here; continued (if paused) and stopped when the file ends. */
const servers = new Set<EmbeddedRedis>();
const dirs: string[] = [];
afterAll(async () => {
  for (const s of servers) {
    if (s.pid) signal(s.pid, 'SIGCONT');
    await s.stop();
  }
  servers.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** A redis-server of this test file, stopped with the file. */
export async function ownRedis(options: EmbeddedRedisOptions = {}): Promise<EmbeddedRedis & { pid: number; port: number }> {
  // In memory, but a replica stores its primary's RDB while it syncs: a directory of its own, never the cwd.
  const dir = mkdtempSync(join(tmpdir(), 'lg-redis-'));
  dirs.push(dir);
  const persist = options.persist ?? false;
  const started = await startEmbeddedRedis({ ...options, persist, extraArgs: [...(persist ? [] : ['--dir', dir]), ...(options.extraArgs ?? [])] });
  const r = { ...started, pid: started.pid!, port: Number(new URL(started.url).port) };
  servers.add(r);
  return r;
}

/** Kills it with SIGKILL (a crash) and waits until the process is gone. */
export async function crash(r: EmbeddedRedis): Promise<void> {
  signal(r.pid!, 'SIGKILL');
  await eventually(() => !alive(r.pid!), `redis-server ${r.pid} gone`, 10_000);
  servers.delete(r);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A primary and one replica of it (in memory), the replica in sync. */
export async function replicaPair(): Promise<{ primary: Awaited<ReturnType<typeof ownRedis>>; replica: Awaited<ReturnType<typeof ownRedis>>; replicaConn: Redis }> {
  const primary = await ownRedis();
  const replica = await ownRedis({ extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
  const replicaConn = createRedis(replica.url, { connectionName: 'licensegate:test-replica' });
  replicaConn.on('error', () => {});
  await waitReady(replicaConn);
  await waitInSync(replicaConn);
  return { primary, replica, replicaConn };
}

/** Waits until a replica's link to its primary is up and its initial sync done. */
export async function waitInSync(replicaConn: Redis, timeoutMs = 20_000): Promise<void> {
  await eventually(
    async () => {
      const info = await replicaConn.info('replication');
      return /master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info);
    },
    'replica in sync',
    timeoutMs,
    50,
  );
}

async function bounded(p: Promise<unknown>, ms = 5_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export interface DurableStack {
  redis: Redis;
  keys: Keys;
  ctx: LedgerContext;
  gateway: GatewayServer;
  wsUrl: string;
  admin: AdminClient;
  worker: Worker;
  stop(): Promise<void>;
}

/** Gateway + admin worker + AdminClient on `url`, their connections in `durability`. */
export async function startDurableStack(
  url: string,
  durability: DurabilityMode,
  o: { pool?: Partial<Record<LicenseTypeName, number>>; gateway?: Partial<GatewayOptions>; keys?: Keys } = {},
): Promise<DurableStack> {
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const keys = o.keys ?? newKeys('dur');
  const redis = createRedis(url, { connectionName: 'licensegate:test-gateway', autoPipelining: true, durability });
  const bull = createRedis(url, { connectionName: 'licensegate:test-bull', maxRetriesPerRequest: null, durability });
  for (const c of [redis, bull]) c.on('error', () => {});
  await waitReady(redis);
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  const scheduler = new LedgerScheduler(bull, keys.queuePrefix);
  const ctx = ledgerContext(redis, keys, { scheduler });
  if (o.pool) await activatePool(ctx, o.pool);
  const gateway = new GatewayServer({ redis, keys, logger, port: 0, ...o.gateway });
  const address = await gateway.start();
  const worker = startAdminWorker(bull, keys.queuePrefix, ctx, logger, { concurrency: 4 });
  await worker.waitUntilReady();
  const admin = new AdminClient({ connection: url, prefix: keys.queuePrefix, actor: TECHNICIAN, timeoutMs: 30_000 });
  return {
    redis,
    keys,
    ctx,
    gateway,
    wsUrl: `ws://127.0.0.1:${address.port}`,
    admin,
    worker,
    async stop() {
      await gateway.stop();
      // After a redis-server crash and restart BullMQ's close can wait on a blocking connection
      // for good (seen with bullmq 6.7): bounded, then the connections are dropped.
      await bounded(admin.close());
      await bounded(worker.close(true));
      await bounded(scheduler.close());
      redis.disconnect();
      bull.disconnect();
    },
  };
}
