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
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { generateVendorKeyPair } from '../../src/licensing/vendor-keys.ts';
import { startEmbeddedRedis } from '../../src/store/embedded-redis.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import { createRedis, waitReady } from '../../src/store/redis-connection.ts';
import { ROOT } from './gateway.ts';
import { trackPid, untrackPid, type Scope } from './scope.ts';

/** One vendor keypair per bench run. */
const vendor = generateVendorKeyPair();
export const VENDOR_PUBLIC_KEY_PEM = vendor.publicKeyPem;

export const ENROLLMENT_TOKEN = `bench-enroll-${randomBytes(12).toString('hex')}`;

export interface BenchRedis {
  url: string;
  pid: number | undefined;
  /** The replica's pid (durability `replicas:1`). */
  replicaPid?: number;
  /** A connection with licensegate's scripts defined, closed with the scope. */
  redis: Redis;
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
export async function startRedis(scope: Scope, o: { durability?: BenchDurability; dataDir?: string } = {}): Promise<BenchRedis> {
  scope.check();
  const durability = o.durability ?? 'none';
  const aofDir = durability === 'none' ? undefined : mkdtempSync(join(o.dataDir ?? scratchDir('redis'), 'redis-'));
  const embedded = await startEmbeddedRedis(aofDir ? { dataDir: aofDir, appendfsync: durability === 'always' ? 'always' : 'everysec' } : { persist: false });
  scope.defer('redis-server', () => embedded.stop());
  const redis = createRedis(embedded.url, { connectionName: 'licensegate:bench' });
  redis.on('error', () => {});
  scope.defer('redis connection', () => redis.quit().catch(() => redis.disconnect()));
  await waitReady(redis);
  const pid = await pidOf(redis, scope);
  const replicaPid = durability === 'replicas:1' ? await startReplica(scope, embedded.url, aofDir!) : undefined;
  return { url: embedded.url, pid, redis, ...(replicaPid !== undefined ? { replicaPid } : {}) };
}

async function pidOf(redis: Redis, scope: Scope): Promise<number | undefined> {
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
}

/** Fresh prefixes, the default tenant and an activated pool; returns the gateway environment. */
export async function prepareLedger(r: BenchRedis, pool: Partial<Record<LicenseTypeName, number>>, dataDir: string): Promise<Ledger> {
  const tag = randomBytes(4).toString('hex');
  const prefix = `bench-${tag}`;
  const queuePrefix = `{bench-${tag}}`;
  const keys = new Keys(prefix, queuePrefix);
  await ensureTenant(r.redis, keys, DEFAULT_TENANT, { enrollmentToken: ENROLLMENT_TOKEN });
  const ctx: LedgerContext = { redis: r.redis, keys, vendorKeys: [createPublicKey(vendor.publicKeyPem)] };
  const licenses = Object.fromEntries(Object.entries(pool).filter(([, n]) => (n ?? 0) > 0));
  const key = mintSerialKey(
    {
      v: 1,
      keyId: `BENCH-${tag}`,
      edition: 'bench',
      kind: 'perpetual',
      licenses,
      issuedAt: new Date(Date.now() - 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      multiTenant: false,
    },
    vendor.privateKeyPem,
  );
  const activation = await activateSerialKey(ctx, TECHNICIAN, key, 'bench');
  if (activation.status !== 'ACTIVATED') throw new Error(`bench serial key not activated: ${activation.status}`);
  mkdirSync(dataDir, { recursive: true });
  return {
    keys,
    prefix,
    queuePrefix,
    ctx,
    env: {
      REDIS_URL: r.url,
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
