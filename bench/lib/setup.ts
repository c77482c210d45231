/**
 * What each scenario sets up before the gateway starts: its own throwaway redis-server, fresh
 * key and queue prefixes, the default tenant with a known enrollment token, and a license pool
 * activated from a serial key the bench mints with its own vendor keypair.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
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
  /** A connection with licensegate's scripts defined, closed with the scope. */
  redis: Redis;
}

/** A throwaway redis-server (no persistence) for one scenario, stopped with the scope. */
export async function startRedis(scope: Scope): Promise<BenchRedis> {
  scope.check();
  const embedded = await startEmbeddedRedis({ persist: false });
  scope.defer('redis-server', () => embedded.stop());
  const redis = createRedis(embedded.url, { connectionName: 'licensegate:bench' });
  redis.on('error', () => {});
  scope.defer('redis connection', () => redis.quit().catch(() => redis.disconnect()));
  await waitReady(redis);
  const info = await redis.info('server');
  const m = /process_id:(\d+)/.exec(info);
  const pid = m ? Number(m[1]) : undefined;
  if (pid !== undefined) {
    trackPid(pid);
    scope.defer('redis pid', () => untrackPid(pid));
  }
  return { url: embedded.url, pid, redis };
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
