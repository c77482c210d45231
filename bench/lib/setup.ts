/**
 * What each scenario sets up before the gateway starts: its own throwaway redis-server, fresh
 * key and queue prefixes, the default tenant with a known enrollment token, and a license pool
 * activated from a serial key the bench mints with its own vendor keypair.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { LicenseTypeName } from '../../src/licensing/license-types.ts';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { activateSerialKey } from '../../src/licensing/serial-key-ledger.ts';
import { mintSerialKey } from '../../src/licensing/serial-key.ts';
import { createTenant, ensureTenant, grantLicenses } from '../../src/licensing/tenants.ts';
import { generateVendorKeyPair } from '../../src/licensing/vendor-keys.ts';
import { startEmbeddedRedis } from '../../src/store/embedded-redis.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import { createRedis, waitReady, type RedisClient } from '../../src/store/redis-connection.ts';
import { singleTarget, type RedisTarget } from '../../src/store/redis-target.ts';
import { engineEnv, startTopology, type BenchEngine, type EngineTopology } from './engine.ts';
import { ROOT } from './gateway.ts';
import { trackPid, untrackPid, type Scope } from './scope.ts';

/** One vendor keypair per bench run. */
const vendor = generateVendorKeyPair();
export const VENDOR_PUBLIC_KEY_PEM = vendor.publicKeyPem;

export const ENROLLMENT_TOKEN = `bench-enroll-${randomBytes(12).toString('hex')}`;

export interface BenchRedis {
  engine: BenchEngine;
  /** How every process of the stack reaches this Redis (engineEnv(target) for spawned ones). */
  target: RedisTarget;
  /** pid of the one redis-server (`single`); undefined on a topology (see pids()). */
  pid: number | undefined;
  /** The replica's pid (durability `replicas:1` on `single`). */
  replicaPid?: number;
  /** Every Redis process of the engine by label (`redis`, `replica`, `redis-0`…, `sentinel-0`…). */
  pids(): Record<string, number | undefined>;
  /** A connection with licensegate's scripts defined, closed with the scope. */
  redis: RedisClient;
  /** The Sentinel setup or Cluster (failover scenarios kill its processes). */
  topology?: EngineTopology;
}

/**
 * The Redis side of a DURABILITY mode (docs/durability.md): `none` — in memory, as every other
 * scenario runs; `everysec` / `always` — AOF with that fsync policy (DURABILITY=everysec is the
 * product's default); `replicas:1` — AOF everysec plus one in-memory replica on the same machine.
 */
export type BenchDurability = 'none' | 'everysec' | 'always' | 'replicas:1';

/**
 * A throwaway redis-server for one scenario (in memory unless a durability mode asks for AOF,
 * then under `dataDir`), stopped with the scope.
 */
export async function startRedis(scope: Scope, o: { durability?: BenchDurability; dataDir?: string; replica?: boolean } = {}): Promise<BenchRedis & { redis: Redis; url: string }> {
  scope.check();
  const durability = o.durability ?? 'none';
  const aofDir = durability === 'none' && !o.replica ? undefined : mkdtempSync(join(o.dataDir ?? scratchDir('redis'), 'redis-'));
  // No password (secret: false): a throwaway bench server whose in-memory replica syncs without masterauth.
  const embedded = await startEmbeddedRedis(aofDir ? { dataDir: aofDir, appendfsync: durability === 'always' ? 'always' : 'everysec', secret: false } : { persist: false });
  scope.defer('redis-server', () => embedded.stop());
  const redis = createRedis(embedded.url, { connectionName: 'licensegate:bench' });
  redis.on('error', () => {});
  scope.defer('redis connection', () => redis.quit().catch(() => redis.disconnect()));
  await waitReady(redis);
  const pid = await pidOf(redis, scope);
  const replicaPid = durability === 'replicas:1' || o.replica ? await startReplica(scope, embedded.url, aofDir!) : undefined;
  return {
    engine: 'single',
    target: singleTarget(embedded.url),
    url: embedded.url,
    pid,
    pids: () => ({ redis: pid, ...(replicaPid !== undefined ? { replica: replicaPid } : {}) }),
    redis,
    ...(replicaPid !== undefined ? { replicaPid } : {}),
  };
}

/**
 * The Redis side of a stack on any engine. `single`: startRedis (in memory unless a durability
 * mode asks for AOF; `replica` adds an in-memory replica without changing DURABILITY).
 * `sentinel` / `cluster`: a real topology, AOF everysec (`appendfsync always` for
 * DURABILITY=always), its replicas already there for `replicas:1`.
 */
export async function startEngine(scope: Scope, engine: BenchEngine, o: { durability?: BenchDurability; dataDir: string; replica?: boolean }): Promise<BenchRedis> {
  if (engine === 'single') return startRedis(scope, o);
  const topology = await startTopology(scope, engine, { dataDir: o.dataDir, appendfsync: o.durability === 'always' ? 'always' : 'everysec' });
  return { engine, target: topology.target, pid: undefined, pids: topology.pids, redis: topology.redis, topology };
}

async function pidOf(redis: RedisClient, scope: Scope): Promise<number | undefined> {
  const m = /process_id:(\d+)/.exec(await redis.info('server'));
  const pid = m ? Number(m[1]) : undefined;
  if (pid !== undefined) {
    trackPid(pid);
    scope.defer('redis pid', () => untrackPid(pid));
  }
  return pid;
}

/** An in-memory replica of `primaryUrl`, in sync when this resolves; its pid. */
async function startReplica(scope: Scope, primaryUrl: string, dir: string): Promise<number | undefined> {
  const { hostname, port } = new URL(primaryUrl);
  // The replica keeps the primary's RDB in `dir` while it syncs (never in the cwd).
  const replica = await startEmbeddedRedis({ persist: false, extraArgs: ['--replicaof', hostname, port, '--dir', dir] });
  scope.defer('replica redis-server', () => replica.stop());
  const conn = createRedis(replica.url, { connectionName: 'licensegate:bench-replica' });
  conn.on('error', () => {});
  scope.defer('replica connection', () => conn.quit().catch(() => conn.disconnect()));
  await waitReady(conn);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const info = await conn.info('replication');
    if (/master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info)) break;
    if (Date.now() > deadline) throw new Error(`replica not in sync after 30 s:\n${info}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return pidOf(conn, scope);
}

export interface Ledger {
  keys: Keys;
  prefix: string;
  queuePrefix: string;
  ctx: LedgerContext;
  /** Environment every licensegate process of the scenario gets. */
  env: Record<string, string>;
  /** Enrollment token of every tenant (the default one's is ENROLLMENT_TOKEN). */
  tokens: Map<string, string>;
}

/** Tenants besides the default one (multi-tenant mode), each with the licenses granted to it. */
export type TenantPools = { id: string; pool: Partial<Record<LicenseTypeName, number>> }[];

/** Fresh prefixes, the default tenant and an activated pool; returns the gateway environment. */
export async function prepareLedger(r: BenchRedis, pool: Partial<Record<LicenseTypeName, number>>, dataDir: string, tenants: TenantPools = []): Promise<Ledger> {
  const tag = randomBytes(4).toString('hex');
  const prefix = `bench-${tag}`;
  const queuePrefix = `{bench-${tag}}`;
  const keys = new Keys(prefix, queuePrefix);
  await ensureTenant(r.redis, keys, DEFAULT_TENANT, { enrollmentToken: ENROLLMENT_TOKEN });
  const ctx: LedgerContext = { redis: r.redis, keys, vendorKeys: [createPublicKey(vendor.publicKeyPem)] };
  // The serial key covers the default tenant's pool plus everything granted to the others.
  const total: Partial<Record<LicenseTypeName, number>> = { ...pool };
  for (const t of tenants) for (const [type, n] of Object.entries(t.pool) as [LicenseTypeName, number][]) total[type] = (total[type] ?? 0) + n;
  const licenses = Object.fromEntries(Object.entries(total).filter(([, n]) => (n ?? 0) > 0));
  const key = mintSerialKey(
    {
      v: 1,
      keyId: `BENCH-${tag}`,
      edition: 'bench',
      kind: 'perpetual',
      licenses,
      issuedAt: new Date(Date.now() - 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      multiTenant: tenants.length > 0,
    },
    vendor.privateKeyPem,
  );
  const activation = await activateSerialKey(ctx, TECHNICIAN, key, 'bench');
  if (activation.status !== 'ACTIVATED') throw new Error(`bench serial key not activated: ${activation.status}`);
  const tokens = new Map([[DEFAULT_TENANT, ENROLLMENT_TOKEN]]);
  for (const t of tenants) {
    const info = await createTenant(ctx, TECHNICIAN, t.id, t.id, `bench-tenant-${t.id}`);
    tokens.set(info.id, info.enrollmentToken);
    for (const [type, n] of Object.entries(t.pool) as [LicenseTypeName, number][]) {
      if (n <= 0) continue;
      const g = await grantLicenses(ctx, TECHNICIAN, info.id, type, n, `bench-grant-${info.id}-${type}`);
      if (g.granted !== n) throw new Error(`tenant ${info.id}: ${g.granted}/${n} ${type} licenses granted`);
    }
  }
  mkdirSync(dataDir, { recursive: true });
  return {
    keys,
    prefix,
    queuePrefix,
    ctx,
    tokens,
    env: {
      ...engineEnv(r.target),
      KEY_PREFIX: prefix,
      QUEUE_PREFIX: queuePrefix,
      ENROLLMENT_TOKEN,
      VENDOR_PUBLIC_KEYS: vendor.publicKeyPem,
      DATA_DIR: dataDir,
    },
  };
}

/** Scratch directory of a run (git-ignored). */
export function scratchDir(name: string): string {
  const dir = join(ROOT, 'bench/results/tmp', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
