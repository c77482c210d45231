/**
 * Upgrading a zero-config deployment whose Redis holds an older version's cleartext token
 * (SPEC Z2): `licensegate serve` removes it at start-up, logs the count, and rewrites the AOF so
 * the cleartext is gone from the files on disk too. Real processes, the embedded Redis.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/secrets.ts';
import { startEmbeddedRedis } from '../../src/store/embedded-redis.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import { createRedis } from '../../src/store/redis-connection.ts';
import { clearedTargetEnv } from '../../src/store/redis-target.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { eventually } from '../helpers/gateway.ts';
import { startGatewayProcess } from '../helpers/gateway-process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'lg-migrate-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const zeroConfig = { ...clearedTargetEnv(), KEY_PREFIX: '', QUEUE_PREFIX: '', LICENSE_POOL: '', ENROLLMENT_TOKEN: '', DATA_DIR: dataDir, LOG_LEVEL: 'info', LOG_FORMAT: 'json' };
const LEGACY_TOKEN = 'lgt_legacy-cleartext-token-in-the-aof-01';

/** Every byte of the AOF files, as text. */
function aofText(): string {
  const dir = join(dataDir, 'redis', 'appendonlydir');
  return readdirSync(dir).map((f) => readFileSync(join(dir, f), 'latin1')).join('');
}

describe('the start-up migration of cleartext tokens', () => {
  it('Z2: serve removes the cleartext token, logs the count once, rewrites the AOF without it; agents keep enrolling with the token', async () => {
    // What a version before issue 11 left: the default tenant with its token in cleartext, in the AOF.
    const keys = new Keys();
    const legacy = await startEmbeddedRedis({ dataDir });
    const r = createRedis(legacy.url, { connectionName: 'licensegate:test-legacy' });
    await r.hset(keys.tenant(DEFAULT_TENANT), 'name', DEFAULT_TENANT, 'createdAt', Date.now(), 'enrollToken', LEGACY_TOKEN, 'enrollTokenHash', hashSecret(LEGACY_TOKEN));
    await r.sadd(keys.tenants(), DEFAULT_TENANT);
    r.disconnect();
    await legacy.stop();
    expect(aofText()).toContain(LEGACY_TOKEN);

    const gw = await startGatewayProcess(zeroConfig, 40_000);
    try {
      const lines = gw.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; tenants?: number });
      expect(lines.filter((l) => l.msg.includes('removed cleartext enrollment tokens'))).toEqual([expect.objectContaining({ tenants: 1 })]);
      expect(gw.output()).not.toContain(LEGACY_TOKEN);
      expect(gw.output()).not.toMatch(/enrollment-token=/);
      await eventually(() => !aofText().includes(LEGACY_TOKEN), 'the AOF rewritten without the cleartext token', 30_000, 200);
      expect(statSync(join(dataDir, 'redis')).mode & 0o777).toBe(0o700);
      const agent = newAgent(gw.url, { enrollmentToken: LEGACY_TOKEN, os: OS.linux });
      await agent.connect();
      await agent.close();
    } finally {
      expect(await gw.stop()).toBe(0);
    }
    // The next start finds nothing to migrate.
    const again = await startGatewayProcess(zeroConfig, 40_000);
    expect(again.output()).not.toMatch(/removed cleartext enrollment tokens/);
    expect(await again.stop()).toBe(0);
  });
});
