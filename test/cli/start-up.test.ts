/**
 * Start-up never depends on stored state it cannot handle (issue 8 item 11): the README's own
 * walkthrough removes the zero-config dev key; the next start must come up, keep the key
 * removed and say so in one info line — with real processes and the embedded Redis.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/store/keys.ts';
import { clearedTargetEnv } from '../../src/store/redis-target.ts';
import { runAdminCli } from '../helpers/admin-cli.ts';
import { TEST_TOKEN } from '../helpers/gateway.ts';
import { startGatewayProcess } from '../helpers/gateway-process.ts';
import { connectRedis, newKeys, redisEnv } from '../helpers/redis.ts';

const root = join(import.meta.dirname, '../..');
const dataDir = mkdtempSync(join(tmpdir(), 'lg-startup-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** The zero-config default: no REDIS_URL, so serve starts and owns its redis-server. */
const zeroConfig = { ...clearedTargetEnv(), KEY_PREFIX: '', QUEUE_PREFIX: '', LICENSE_POOL: '', DATA_DIR: dataDir, ENROLLMENT_TOKEN: TEST_TOKEN, LOG_LEVEL: 'info' };
/** The admin CLI against that embedded Redis (found through DATA_DIR), default key names. */
const adminEnv = { ...clearedTargetEnv(), KEY_PREFIX: '', QUEUE_PREFIX: '', VENDOR_PUBLIC_KEYS: '' };
const admin = (args: string[]) => runAdminCli(new Keys(), args, { dataDir, env: adminEnv });

function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('start-up after stored changes', () => {
  it('S4 R3: after `admin serial remove dev-key` the next start comes up, the key stays removed, one info line says so', async () => {
    const first = await startGatewayProcess(zeroConfig);
    const removed = await admin(['serial', 'remove', 'dev-key', '--json']);
    expect(removed.stderr).toBe('');
    expect(JSON.parse(removed.stdout)).toEqual({ keyId: 'dev-key', lost: 0 });
    expect(await first.stop()).toBe(0);

    const second = await startGatewayProcess(zeroConfig);
    const listed = await admin(['serial', 'list', '--json']);
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ status: 'removed', payload: expect.objectContaining({ keyId: 'dev-key' }) })]);
    const lines = logLines(second.output());
    const notes = lines.filter((l) => String(l.msg).includes('dev serial key'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ level: 30, keyId: 'dev-key', status: 'removed' });
    expect(lines.filter((l) => Number(l.level) >= 50)).toEqual([]);
    expect(second.output()).not.toMatch(/start-up failed|\n\s+at /);
    expect(await second.stop()).toBe(0);
  });
});

describe('start-up failures name their recovery', () => {
  it('R3: a gateway port in use stops start-up with exit 1, the step and how to recover, and no stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const keys = newKeys('su');
      const r = spawnSync(process.execPath, [join(root, 'bin/licensegate.mjs'), 'serve'], {
        cwd: root,
        env: { ...process.env, ...redisEnv(), KEY_PREFIX: keys.prefix, QUEUE_PREFIX: keys.queuePrefix, GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: String(port), HTTP_PORT: '0', LOG_LEVEL: 'fatal', LOG_FORMAT: 'json', DATA_DIR: dataDir },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/start-up failed: gateway: .*EADDRINUSE/);
      expect(r.stderr).toMatch(new RegExp(`to recover: 127\\.0\\.0\\.1:${port} is in use: .*GATEWAY_PORT`));
      expect(`${r.stdout}\n${r.stderr}`).not.toMatch(/\n\s+at |"stack"/);
    } finally {
      blocker.close();
    }
  });

  it('R3 F2: a damaged serial key record does not stop start-up; the error is logged', async () => {
    const keys = newKeys('su');
    const redis = await connectRedis();
    try {
      await redis.hset(keys.serials(), 'K-DAMAGED', '{not json');
      const gw = await startGatewayProcess({ ...redisEnv(), KEY_PREFIX: keys.prefix, QUEUE_PREFIX: keys.queuePrefix, DATA_DIR: dataDir, LOG_LEVEL: 'info' });
      expect(logLines(gw.output()).some((l) => l.level === 50 && String(l.msg).includes('ledger'))).toBe(true);
      expect(await gw.stop()).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
