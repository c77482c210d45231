/**
 * The Sentinel launcher (chaos/lib/redis-sentinel.ts) is real: 1 primary + 2 replicas + 3
 * redis-sentinel processes, with a password on every server (requirepass + masterauth, and
 * the sentinels' auth-pass, SPEC X1). A key written through ioredis in sentinel mode survives
 * kill -9 of the primary: the sentinels promote a replica and the client follows (X3).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Scope } from '../../bench/lib/scope.ts';
import { clientSecurityOptions } from '../../chaos/lib/redis-process.ts';
import { RedisSentinelTopology } from '../../chaos/lib/redis-sentinel.ts';
import { makeTestCertificate } from '../../chaos/lib/test-certificate.ts';
import { eventually } from '../helpers/gateway.ts';

function sentinelClient(topology: RedisSentinelTopology): Redis {
  const sec = clientSecurityOptions(topology.security);
  const redis = new Redis({
    sentinels: topology.sentinels(),
    name: topology.name,
    ...sec,
    ...(sec.tls ? { enableTLSForSentinelMode: true, sentinelTLS: sec.tls } : {}),
  });
  redis.on('error', () => {});
  return redis;
}

describe('redis sentinel launcher', () => {
  const scope = new Scope();
  const dir = mkdtempSync(join(tmpdir(), 'lg-sentinel-'));
  const clients: Redis[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await scope.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('X3: with a password, a key survives kill -9 of the primary; the sentinels promote a replica', async () => {
    let t = Date.now();
    const topology = await RedisSentinelTopology.start(scope, { dir: join(dir, 'auth'), password: 'sentinel-secret' });
    const startMs = Date.now() - t;
    expect(topology.sentinels()).toHaveLength(3);
    const before = await topology.primary();
    expect(before.port).toBe(topology.servers[0]!.port);

    // The servers refuse a client without the password (ioredis 6 opens with HELLO: NOAUTH).
    const anonymous = new Redis({ port: before.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const refusals: string[] = [];
    anonymous.on('error', (err: Error) => refusals.push(err.message));
    clients.push(anonymous);
    await expect(anonymous.connect().then(() => anonymous.get('k'))).rejects.toThrow();
    expect(refusals.join('\n')).toMatch(/NOAUTH/);

    const redis = sentinelClient(topology);
    clients.push(redis);
    await redis.set('{t:default}:infra-probe', 'before-failover');
    // Both replicas have it before the crash (F5's promise: WAIT for replicas).
    expect(await redis.call('WAIT', '2', '5000')).toBe(2);

    t = Date.now();
    const oldPort = await topology.kill9Primary();
    expect(oldPort).toBe(before.port);
    const after = await topology.waitFailover(oldPort, 30_000);
    const failoverMs = Date.now() - t;
    expect(after.port).not.toBe(before.port);
    expect((await topology.primary()).port).toBe(after.port);

    let value: string | null = null;
    await eventually(async () => {
      value = await redis.get('{t:default}:infra-probe').catch(() => null);
      return value !== null;
    }, 'the key read back through the sentinel client', 20_000, 100);
    expect(value).toBe('before-failover');
    // The client follows the new primary: writes succeed there.
    await eventually(async () => (await redis.set('{t:default}:after', '1').catch(() => null)) === 'OK', 'a write after failover', 20_000, 100);
    console.info(`sentinel: start ${startMs} ms, failover ${failoverMs} ms`);
  });

  it('X1: the sentinel setup runs with TLS; ioredis reaches sentinels and primary over TLS', async () => {
    const tls = makeTestCertificate(join(dir, 'tls-cert'));
    const t = Date.now();
    const topology = await RedisSentinelTopology.start(scope, { dir: join(dir, 'tls'), tls });
    console.info(`sentinel with TLS: start ${Date.now() - t} ms`);
    const redis = sentinelClient(topology);
    clients.push(redis);
    await redis.set('tls-probe', 'over-tls');
    expect(await redis.get('tls-probe')).toBe('over-tls');
    expect(await redis.call('WAIT', '2', '5000')).toBe(2);
    // The plain-text protocol is refused on the TLS port.
    const plain = new Redis({ port: (await topology.primary()).port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
    plain.on('error', () => {});
    clients.push(plain);
    await expect(plain.connect().then(() => plain.ping())).rejects.toThrow();
    await topology.stop();
    expect([...topology.servers, ...topology.sentinelProcesses].every((p) => !p.running)).toBe(true);
  });
});
