/**
 * How `licensegate admin` reaches licensegate: the one place that builds its AdminApi.
 *
 * Redis: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES (src/store/redis-target.ts), else the running embedded instance recorded in DATA_DIR (default ./data)
 * by `licensegate serve`, with the password kept in DATA_DIR/redis.secret (no flag needed; SPEC
 * Z2), else REDIS_UNAVAILABLE. Keys: KEY_PREFIX / QUEUE_PREFIX. Vendor public
 * keys (serial activate): VENDOR_PUBLIC_KEYS, plus the dev key DATA_DIR/dev-vendor/vendor.pub
 * when DEV_LICENSE trusts it (default: only when no Redis target is set, see dev-license-mode.ts). Only these settings are read; the
 * gateway's own settings are not required.
 *
 * Changes go through the admin job queue (jobAdminApi), so the CLI exercises the same path as
 * any admin service; a running licensegate worker carries them out.
 */
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AdminApi } from '../admin/admin-api.ts';
import { jobAdminApi } from '../admin/job-admin-api.ts';
import { httpAdminApi } from '../admin/http-admin-api.ts';
import { AdminUsageError } from './admin-args.ts';
import { LicensegateError } from '../errors.ts';
import type { LedgerContext } from '../licensing/ledger-context.ts';
import type { Actor } from '../licensing/permissions.ts';
import { devLicenseTrusted, isDevLicenseMode } from '../licensing/dev-license-mode.ts';
import { loadPublicKey, loadPublicKeys, VENDOR_PUBLIC_KEY_FILE } from '../licensing/vendor-keys.ts';
import { EmbeddedRedisAuthError, findRunningEmbedded } from '../store/embedded-redis.ts';
import { DEFAULT_QUEUE_PREFIX, Keys } from '../store/keys.ts';
import { createRedis, type RedisClient } from '../store/redis-connection.ts';
import { isRedisUnavailable } from '../store/redis-errors.ts';
import { describeTarget, RedisTargetError, singleTarget, targetFromEnv, type RedisTarget } from '../store/redis-target.ts';

const CONNECT_TIMEOUT_MS = 5_000;

export interface AdminSettings {
  /** REDIS_URL / REDIS_SENTINELS / REDIS_CLUSTER_NODES; undefined: the embedded Redis of DATA_DIR. */
  redisTarget: RedisTarget | undefined;
  dataDir: string;
  keys: Keys;
  vendorKeys: KeyObject[];
}

const setting = (env: NodeJS.ProcessEnv, name: string): string | undefined => (env[name] === '' ? undefined : env[name]);

/** The settings the admin CLI needs; a wrong one is CONFIG_INVALID naming the variable. */
export function adminSettings(env: NodeJS.ProcessEnv = process.env): AdminSettings {
  let redisTarget: RedisTarget | undefined;
  try {
    redisTarget = targetFromEnv(env);
  } catch (err) {
    if (err instanceof RedisTargetError) throw new LicensegateError('CONFIG_INVALID', err.message);
    throw err;
  }
  const dataDir = resolve(setting(env, 'DATA_DIR') ?? './data');
  let keys: Keys;
  try {
    keys = new Keys(setting(env, 'KEY_PREFIX') ?? 'lg', setting(env, 'QUEUE_PREFIX') ?? DEFAULT_QUEUE_PREFIX);
  } catch (err) {
    throw new LicensegateError('CONFIG_INVALID', `KEY_PREFIX/QUEUE_PREFIX: ${(err as Error).message}`);
  }
  const vendorKeys: KeyObject[] = [];
  try {
    vendorKeys.push(...loadPublicKeys(setting(env, 'VENDOR_PUBLIC_KEYS') ?? ''));
  } catch (err) {
    throw new LicensegateError('CONFIG_INVALID', `VENDOR_PUBLIC_KEYS: ${(err as Error).message}`);
  }
  const devMode = setting(env, 'DEV_LICENSE') ?? 'auto';
  if (!isDevLicenseMode(devMode)) throw new LicensegateError('CONFIG_INVALID', `DEV_LICENSE: must be auto, on or off, got "${devMode}"`);
  const devKey = join(dataDir, 'dev-vendor', VENDOR_PUBLIC_KEY_FILE);
  if (devLicenseTrusted(devMode, redisTarget === undefined) && existsSync(devKey)) {
    try {
      vendorKeys.push(loadPublicKey(devKey));
    } catch (err) {
      throw new LicensegateError('CONFIG_INVALID', `dev vendor key: ${(err as Error).message}`);
    }
  }
  return { redisTarget, dataDir, keys, vendorKeys };
}

async function locateRedis(settings: AdminSettings): Promise<RedisTarget> {
  if (settings.redisTarget !== undefined) return settings.redisTarget;
  let embedded;
  try {
    embedded = await findRunningEmbedded(settings.dataDir);
  } catch (err) {
    if (err instanceof EmbeddedRedisAuthError) throw new LicensegateError('REDIS_UNAVAILABLE', err.message);
    throw err;
  }
  if (embedded) return singleTarget(embedded.url);
  throw new LicensegateError(
    'REDIS_UNAVAILABLE',
    `REDIS_URL is not set and no running licensegate Redis is recorded in ${join(settings.dataDir, 'redis.url')}; ` +
      'start licensegate with `npm start` (same DATA_DIR), or set REDIS_URL (or REDIS_SENTINELS, REDIS_CLUSTER_NODES) to its Redis',
  );
}

/** One short-lived connection with licensegate's scripts: fails fast instead of retrying. */
async function connect(target: RedisTarget): Promise<RedisClient> {
  const redis = createRedis(target, {
    connectionName: 'licensegate:admin',
    maxRetriesPerRequest: 1,
    extra: { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, retryStrategy: () => null },
  });
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => (lastError = err)); // later failures surface as rejected commands
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS).unref()),
    ]);
  } catch (err) {
    redis.disconnect();
    throw new LicensegateError('REDIS_UNAVAILABLE', `cannot connect to ${describeTarget(target)} (${(lastError ?? (err as Error)).message})`);
  }
  return redis;
}

/** How long the CLI waits for an admin job's result (LICENSEGATE_JOB_TIMEOUT_MS, default 30 s). */
function jobTimeout(env: NodeJS.ProcessEnv): number {
  const raw = setting(env, 'LICENSEGATE_JOB_TIMEOUT_MS');
  const n = raw === undefined ? 30_000 : Number(raw);
  if (!Number.isInteger(n) || n < 100) throw new LicensegateError('CONFIG_INVALID', 'LICENSEGATE_JOB_TIMEOUT_MS: must be an integer ≥ 100');
  return n;
}

/**
 * Opens the AdminApi the CLI uses, acting as `actor`. Changes run as admin jobs (the same path
 * an admin service takes), so a licensegate worker must be running; reads go to Redis.
 * Close it to end the process promptly.
 */
export async function openAdminApi(actor: Actor, env: NodeJS.ProcessEnv = process.env): Promise<AdminApi> {
  const settings = adminSettings(env);
  const timeoutMs = jobTimeout(env);
  const target = await locateRedis(settings);
  const redis = await connect(target);
  const ctx: LedgerContext = { redis, keys: settings.keys, vendorKeys: settings.vendorKeys };
  return jobAdminApi(ctx, actor, target, [redis], timeoutMs);
}

/** `--server`, `--token`, `--ca` of the command line (each falls back to its LICENSEGATE_* variable). */
export interface RemoteFlags {
  server: string | undefined;
  token: string | undefined;
  ca: string | undefined;
}

/** The admin API's URL when the CLI runs remotely (--server, else LICENSEGATE_SERVER). */
export function remoteServer(flags: RemoteFlags, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flags.server ?? setting(env, 'LICENSEGATE_SERVER');
}

/**
 * The AdminApi over the admin HTTP API (src/admin/http-admin-api.ts): the token's account is the
 * actor and the server checks its permissions, so --actor has no meaning here (usage error).
 * LICENSEGATE_TOKEN keeps the token out of the process list (`ps` shows --token to every user).
 */
export function openRemoteAdminApi(flags: RemoteFlags, actorFlag: string | undefined, env: NodeJS.ProcessEnv = process.env): AdminApi {
  if (actorFlag !== undefined) throw new AdminUsageError('--actor does not apply with --server: the account of --token is the actor');
  const token = flags.token ?? setting(env, 'LICENSEGATE_TOKEN');
  if (token === undefined) throw new LicensegateError('CONFIG_INVALID', '--server needs an API token: --token TOKEN or LICENSEGATE_TOKEN');
  return httpAdminApi({ server: remoteServer(flags, env)!, token, caFile: flags.ca ?? setting(env, 'LICENSEGATE_CA'), timeoutMs: jobTimeout(env) + 30_000 });
}

/** A lost Redis connection in the middle of a command, as REDIS_UNAVAILABLE; null otherwise. */
export function connectionFailure(err: unknown): LicensegateError | null {
  if (!(err instanceof Error) || err instanceof LicensegateError) return null;
  return isRedisUnavailable(err) ? new LicensegateError('REDIS_UNAVAILABLE', err.message, { cause: err }) : null;
}

/**
 * A Redis connection and key namer for commands that work on Redis directly, without an admin
 * job (admin accounts and API tokens, src/cli/account-commands.ts: an operator who reaches
 * Redis is fully trusted). Close it with `disconnect()`.
 */
export async function openAdminRedis(env: NodeJS.ProcessEnv = process.env): Promise<{ redis: RedisClient; keys: Keys }> {
  const settings = adminSettings(env);
  return { redis: await connect(await locateRedis(settings)), keys: settings.keys };
}
