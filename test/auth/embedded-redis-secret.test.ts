/**
 * The embedded Redis is not reachable without a secret (SPEC Z2): its password lives in
 * DATA_DIR/redis.secret (0600), never on a command line; an older version's instance left
 * running without one gets it when reused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/store/redis-connection.ts';
import { findRunningEmbedded, startEmbeddedRedis, type EmbeddedRedis } from '../../src/store/embedded-redis.ts';

const root = mkdtempSync(join(tmpdir(), 'lg-redis-secret-'));
const started: EmbeddedRedis[] = [];
afterAll(async () => {
  for (const r of started) await r.stop();
  rmSync(root, { recursive: true, force: true });
});

const portOf = (r: EmbeddedRedis) => new URL(r.address).port;

/** redis-cli PING as any local user would try it: no password unless given (through the environment, not argv). */
function cliPing(port: string, password?: string): string {
  const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', port, 'PING'], {
    encoding: 'utf8',
    timeout: 10_000,
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'REDISCLI_AUTH')), ...(password === undefined ? {} : { REDISCLI_AUTH: password }) },
  });
  return `${r.stdout}${r.stderr}`.trim();
}

async function start(dataDir: string, secret?: boolean): Promise<EmbeddedRedis> {
  const r = await startEmbeddedRedis({ dataDir, ...(secret === undefined ? {} : { secret }) });
  started.push(r);
  return r;
}

describe('the embedded Redis password', () => {
  it('Z2: a new DATA_DIR (0700) gets redis.secret (0600); an unauthenticated redis-cli is refused with NOAUTH, the password works', async () => {
    const dataDir = join(root, 'fresh', 'data');
    const r = await start(dataDir);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const secretFile = join(dataDir, 'redis.secret');
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'redis.conf')).mode & 0o777).toBe(0o600);
    const password = readFileSync(secretFile, 'utf8').trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(r.protection).toBe('password');
    expect(cliPing(portOf(r))).toMatch(/NOAUTH/);
    expect(cliPing(portOf(r), password)).toBe('PONG');
    // redis.url holds the address only; the password is nowhere on the server's command line (what `ps` shows).
    expect(readFileSync(join(dataDir, 'redis.url'), 'utf8').trim()).toBe(r.address);
    expect(r.address).not.toContain(password);
    expect(readFileSync(`/proc/${r.pid}/cmdline`, 'utf8')).not.toContain(password);
    // What the admin CLI finds: the URL with the password.
    expect(await findRunningEmbedded(dataDir)).toEqual({ address: r.address, url: r.url, passwordRequired: true });
  });

  it('Z2: the password survives restarts (same file), and a redis.secret made readable to others is set back to 0600', async () => {
    const dataDir = join(root, 'restart');
    const first = await start(dataDir);
    const password = readFileSync(join(dataDir, 'redis.secret'), 'utf8').trim();
    await first.stop();
    const { chmodSync } = await import('node:fs');
    chmodSync(join(dataDir, 'redis.secret'), 0o644);
    const second = await start(dataDir);
    expect(statSync(join(dataDir, 'redis.secret')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dataDir, 'redis.secret'), 'utf8').trim()).toBe(password);
    expect(cliPing(portOf(second))).toMatch(/NOAUTH/);
    expect(cliPing(portOf(second), password)).toBe('PONG');
  });

  it('Z2: an older version\'s instance (no password) still running is reused and gets the password at once; its open connections keep working', async () => {
    const dataDir = join(root, 'legacy');
    const old = await start(dataDir, false); // as started by a version before issue 11
    expect(cliPing(portOf(old))).toBe('PONG');
    const openConn = createRedis(old.url, { connectionName: 'licensegate:test-old-gateway' });
    openConn.on('error', () => {});
    expect(await openConn.ping()).toBe('PONG');

    const reused = await start(dataDir);
    expect(reused.owned).toBe(false);
    expect(reused.protection).toBe('password-applied');
    expect(reused.address).toBe(old.address);
    const password = readFileSync(join(dataDir, 'redis.secret'), 'utf8').trim();
    expect(cliPing(portOf(old))).toMatch(/NOAUTH/);
    expect(cliPing(portOf(old), password)).toBe('PONG');
    expect(await openConn.set('still', 'works')).toBe('OK');
    openConn.disconnect();
  });

  it('Z2: a running instance that refuses the stored password is reported, never doubled with a second server on the same AOF', async () => {
    const dataDir = join(root, 'wrong');
    const r = await start(dataDir);
    writeFileSync(join(dataDir, 'redis.secret'), 'not-the-password\n', { mode: 0o600 });
    await expect(startEmbeddedRedis({ dataDir })).rejects.toThrow(/requires a password that .*redis\.secret does not hold/);
    expect(cliPing(portOf(r))).toMatch(/NOAUTH/);
    expect(existsSync(join(dataDir, 'redis.url'))).toBe(true);
  });
});
