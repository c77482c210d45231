/**
 * Start-up check of the Redis side of a durability mode (SPEC F5, R3): DURABILITY=always on an
 * external Redis that does not fsync every write, or whose CONFIG cannot be read, refuses to
 * start with a message that says how to fix it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyRedisDurability } from '../../src/store/durability.ts';
import { createRedis, waitReady, type RedisClient } from '../../src/store/redis-connection.ts';
import { ownRedis } from '../helpers/durable-stack.ts';
import { TEST_TOKEN } from '../helpers/gateway.ts';
import { connectRedis, redisUrl } from '../helpers/redis.ts';

const root = join(import.meta.dirname, '../..');
const dataDir = mkdtempSync(join(tmpdir(), 'lg-durable-check-'));
const opened: RedisClient[] = [];
afterAll(() => {
  for (const r of opened) r.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

async function connect(url: string): Promise<Redis> {
  const r = createRedis(url, { connectionName: 'licensegate:test-check' });
  r.on('error', () => {});
  opened.push(r);
  await waitReady(r);
  return r;
}

const silent = pino({ level: 'silent' });

describe('durability start-up check', () => {
  it('F5 R3: DURABILITY=always refuses a Redis without appendfsync always, naming what to set', async () => {
    // The shared test redis-server runs without AOF.
    const shared = await connectRedis();
    opened.push(shared);
    await expect(verifyRedisDurability(shared, { kind: 'always' }, { check: 'config', logger: silent })).rejects.toThrow(
      /DURABILITY=always needs a Redis that fsyncs every write, but appendonly is no \(needs yes\), appendfsync is everysec \(needs always\)/,
    );
    // everysec asks nothing of it.
    await expect(verifyRedisDurability(shared, { kind: 'everysec' }, { check: 'config', logger: silent })).resolves.toBeUndefined();
  });

  it('F5 R3: DURABILITY=always accepts a Redis with appendonly yes and appendfsync always', async () => {
    const r = await ownRedis({ dataDir, persist: true, appendfsync: 'always' });
    await expect(verifyRedisDurability(await connect(r.url), { kind: 'always' }, { check: 'config', logger: silent })).resolves.toBeUndefined();
  });

  it('F5 R3: where CONFIG is renamed away the message says how to assert it, and DURABILITY_CHECK=skip does', async () => {
    const r = await ownRedis({ extraArgs: ['--rename-command', 'CONFIG', ''] });
    const conn = await connect(r.url);
    await expect(verifyRedisDurability(conn, { kind: 'always' }, { check: 'config', logger: silent })).rejects.toThrow(
      /cannot read the Redis configuration.*appendfsync always.*DURABILITY_CHECK=skip/,
    );
    await expect(verifyRedisDurability(conn, { kind: 'always' }, { check: 'skip', logger: silent })).resolves.toBeUndefined();
  });

  it('F5 R3: DURABILITY=replicas:<n> refuses a REDIS_URL that names a replica', async () => {
    const primary = await ownRedis();
    const replica = await ownRedis({ extraArgs: ['--replicaof', '127.0.0.1', new URL(primary.url).port] });
    await expect(verifyRedisDurability(await connect(replica.url), { kind: 'replicas', replicas: 1, timeoutMs: 100 }, { check: 'config', logger: silent })).rejects.toThrow(
      /the Redis must be a primary, but it has role slave/,
    );
  });

  it('F5 R3: `licensegate serve` with DURABILITY=always on a Redis that does not fsync every write exits 1 with the message', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin/licensegate.mjs'), 'serve'], {
      env: { ...process.env, REDIS_URL: redisUrl(), DURABILITY: 'always', GATEWAY_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'silent', DATA_DIR: dataDir, ENROLLMENT_TOKEN: TEST_TOKEN, KEY_PREFIX: 'durcheck' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/start-up failed: durability: DURABILITY=always needs a Redis that fsyncs every write.*appendfsync is everysec \(needs always\)[\s\S]*to recover: /);
  });
});
