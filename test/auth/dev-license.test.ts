/**
 * The dev vendor key is trusted only in the zero-config mode unless DEV_LICENSE says otherwise
 * (SPEC Z2): with REDIS_URL set a `licensegate serve` neither activates the dev serial key nor
 * lets the admin CLI verify serial keys with the dev public key.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adminSettings } from '../../src/cli/admin-connection.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { devLicense } from '../../src/licensing/dev-license.ts';
import { listSerialKeys } from '../../src/licensing/serial-key-ledger.ts';
import { startEmbeddedRedis } from '../../src/store/embedded-redis.ts';
import { Keys } from '../../src/store/keys.ts';
import { clearedTargetEnv } from '../../src/store/redis-target.ts';
import { TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess } from '../helpers/gateway-process.ts';
import { ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, redisUrl, uniquePrefix } from '../helpers/redis.ts';

const root = mkdtempSync(join(tmpdir(), 'lg-dev-license-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** serve against the test Redis (REDIS_URL set), a DATA_DIR of its own; what the dev key did there. */
async function serveWithRedisUrl(extra: Record<string, string>): Promise<{ keyIds: string[]; output: string; devDir: boolean }> {
  const prefix = uniquePrefix('devlic');
  const dataDir = mkdtempSync(join(root, 'data-'));
  const gw = await startGatewayProcess({ REDIS_URL: redisUrl(), ENROLLMENT_TOKEN: '', KEY_PREFIX: prefix, QUEUE_PREFIX: `{${prefix}}`, DATA_DIR: dataDir, LOG_LEVEL: 'info', ...extra });
  const redis = await connectRedis();
  try {
    const keyIds = (await listSerialKeys(ledgerContext(redis, new Keys(prefix, `{${prefix}}`)))).map((k) => k.payload.keyId);
    return { keyIds, output: gw.output(), devDir: existsSync(join(dataDir, 'dev-vendor')) };
  } finally {
    redis.disconnect();
    expect(await gw.stop()).toBe(0);
  }
}

describe('dev license mode', () => {
  it('Z2: with REDIS_URL set the dev key is neither made nor activated (DEV_LICENSE=auto, the default)', async () => {
    const r = await serveWithRedisUrl({});
    expect(r.keyIds).toEqual([]);
    expect(r.devDir).toBe(false);
    expect(r.output).not.toMatch(/DEVELOPMENT LICENSE/);
    // Z2: the default tenant's new token is not printed with REDIS_URL set (stdout goes to log collectors); a warn line says how to get one.
    expect(r.output).not.toMatch(/enrollment-token=|lgt_/);
    expect(r.output).toMatch(/rotate-token default/);
  });

  it('Z2: DEV_LICENSE=on trusts it with REDIS_URL set, and says so loudly (a warn line)', async () => {
    const r = await serveWithRedisUrl({ DEV_LICENSE: 'on' });
    expect(r.keyIds).toEqual(['dev-key']);
    const warn = r.output.split('\n').find((l) => l.includes('DEVELOPMENT LICENSE'));
    expect(warn).toBeDefined();
    expect(JSON.parse(warn!)).toMatchObject({ level: 40, msg: expect.stringMatching(/not for production/) });
  });

  it('Z2: DEV_LICENSE takes auto, on or off; anything else stops start-up (exit 2) and the CLI (CONFIG_INVALID), naming it', () => {
    expect(loadConfig({}).devLicense).toBe('auto');
    expect(loadConfig({ DEV_LICENSE: 'off' }).devLicense).toBe('off');
    expect(() => loadConfig({ DEV_LICENSE: 'yes' })).toThrow(ConfigError);
    expect(() => loadConfig({ DEV_LICENSE: 'yes' })).toThrow(/DEV_LICENSE/);
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '../../bin/licensegate.mjs'), 'serve'], { env: { ...process.env, DEV_LICENSE: 'maybe' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/DEV_LICENSE/);
    expect(() => adminSettings({ DEV_LICENSE: 'maybe' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('Z2: a dev key activated in the zero-config mode, then the same data served with REDIS_URL: not trusted there, and a warn line says how to remove it', async () => {
    const zeroDir = mkdtempSync(join(root, 'zero-'));
    const zero = await startGatewayProcess({ ...clearedTargetEnv(), KEY_PREFIX: '', QUEUE_PREFIX: '', LICENSE_POOL: '', VENDOR_PUBLIC_KEYS: '', ENROLLMENT_TOKEN: TEST_TOKEN, DATA_DIR: zeroDir, LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, 40_000);
    expect(zero.output()).toMatch(/DEVELOPMENT LICENSE: the dev vendor key is trusted \(zero-config mode/);
    expect(await zero.stop()).toBe(0);
    const sameData = await startEmbeddedRedis({ dataDir: zeroDir });
    try {
      const gw = await startGatewayProcess({ REDIS_URL: sameData.url, KEY_PREFIX: '', QUEUE_PREFIX: '', ENROLLMENT_TOKEN: TEST_TOKEN, DATA_DIR: mkdtempSync(join(root, 'other-')), LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, 40_000);
      expect(gw.output()).not.toMatch(/DEVELOPMENT LICENSE/);
      expect(gw.output()).toMatch(/the dev serial key is active in this Redis, though the dev license is not trusted here/);
      expect(gw.output()).not.toContain(new URL(sameData.url).password);
      expect(await gw.stop()).toBe(0);
    } finally {
      await sameData.stop();
    }
  });

  it('Z2: the admin CLI verifies with the dev public key only when it is trusted: zero-config, or DEV_LICENSE=on', () => {
    const dataDir = mkdtempSync(join(root, 'cli-'));
    devLicense(dataDir); // DATA_DIR/dev-vendor as a zero-config run leaves it
    const count = (env: Record<string, string>) => adminSettings({ DATA_DIR: dataDir, ...env }).vendorKeys.length;
    expect(count({})).toBe(1);
    expect(count({ DEV_LICENSE: 'off' })).toBe(0);
    expect(count({ REDIS_URL: 'redis://127.0.0.1:6379' })).toBe(0);
    expect(count({ REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'mymaster' })).toBe(0);
    expect(count({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' })).toBe(0);
    expect(count({ REDIS_URL: 'redis://127.0.0.1:6379', DEV_LICENSE: 'on' })).toBe(1);
  });
});
