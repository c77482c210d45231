/**
 * SPEC X1: credentials and TLS to Redis work in all three modes, through the same settings an
 * operator writes (REDIS_URL / REDIS_SENTINELS / REDIS_CLUSTER_NODES, REDIS_USERNAME,
 * REDIS_PASSWORD, REDIS_TLS, REDIS_TLS_CA_FILE): one TLS redis-server with an ACL user, a TLS
 * Sentinel set-up and a TLS Cluster, each with a password, a certificate made at test time.
 * Each mode runs licensegate's own start-up writes (default tenant, scripts, invariants), and a
 * real `licensegate serve` enrolls an agent over the TLS Cluster.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Scope } from '../../bench/lib/scope.ts';
import { RedisClusterTopology } from '../../chaos/lib/redis-cluster.ts';
import { RedisProcess } from '../../chaos/lib/redis-process.ts';
import { RedisSentinelTopology } from '../../chaos/lib/redis-sentinel.ts';
import { makeTestCertificate } from '../../chaos/lib/test-certificate.ts';
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { findRedisServer } from '../../src/store/embedded-redis.ts';
import { DEFAULT_TENANT, Keys } from '../../src/store/keys.ts';
import { createRedis, waitReady, type RedisClient } from '../../src/store/redis-connection.ts';
import { clearedTargetEnv, targetEnv, targetFromEnv, type RedisTarget } from '../../src/store/redis-target.ts';
import { enrolledAgent } from '../helpers/agents.ts';
import { startGatewayProcess } from '../helpers/gateway-process.ts';
import { uniquePrefix } from '../helpers/redis.ts';

const PASSWORD = 'x1-test-password-0001';
const TOKEN = 'x1-auth-tls-enrollment-token';

describe('X1: Redis credentials and TLS in every mode', () => {
  const scope = new Scope();
  const dir = mkdtempSync(join(tmpdir(), 'lg-auth-tls-'));
  const tls = makeTestCertificate(join(dir, 'cert'));
  const clients: RedisClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await scope.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Connects as the product does from `env`, then runs licensegate's first writes and checks. */
  async function productWrites(env: NodeJS.ProcessEnv): Promise<RedisTarget> {
    const target = targetFromEnv(env)!;
    const redis = createRedis(target, { connectionName: 'licensegate:test' });
    redis.on('error', () => undefined);
    clients.push(redis);
    await waitReady(redis, 20_000);
    const keys = new Keys(uniquePrefix('x'));
    expect(await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TOKEN })).toBe(TOKEN);
    const report = await checkInvariants(redis, keys);
    expect(report.violations).toEqual([]);
    return target;
  }

  it('X1: one Redis over rediss:// with an ACL user; a wrong password is refused', async () => {
    const bin = findRedisServer()!;
    const server = await RedisProcess.start(scope, {
      label: 'tls-single',
      bin,
      security: { password: PASSWORD, tls },
      args: (port) => [
        '--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile,
        '--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--requirepass', PASSWORD, '--dir', dir,
      ],
    });
    await server.call('ACL', 'SETUSER', 'lg', 'on', `>${PASSWORD}-lg`, '~*', '&*', '+@all');
    const url = `rediss://lg:${PASSWORD}-lg@127.0.0.1:${server.port}`;
    await productWrites({ REDIS_URL: url, REDIS_TLS_CA_FILE: tls.caFile });

    const wrong = createRedis(targetFromEnv({ REDIS_URL: `rediss://lg:wrong@127.0.0.1:${server.port}`, REDIS_TLS_CA_FILE: tls.caFile })!, {
      maxRetriesPerRequest: 0,
      extra: { retryStrategy: () => null, lazyConnect: true },
    });
    wrong.on('error', () => undefined);
    clients.push(wrong);
    await expect(wrong.connect().then(() => wrong.ping())).rejects.toThrow();
  });

  it('X1: Sentinel over TLS with a password', async () => {
    const topology = await RedisSentinelTopology.start(scope, { dir: join(dir, 'sentinel'), password: PASSWORD, tls });
    const hp = topology.sentinels().map((s) => `${s.host}:${s.port}`).join(',');
    await productWrites({ REDIS_SENTINELS: hp, REDIS_SENTINEL_NAME: topology.name, REDIS_PASSWORD: PASSWORD, REDIS_TLS: 'true', REDIS_TLS_CA_FILE: tls.caFile });
  });

  it('X1: Cluster over TLS with a password; a licensegate process enrolls an agent through it', async () => {
    const topology = await RedisClusterTopology.start(scope, { dir: join(dir, 'cluster'), password: PASSWORD, tls });
    const hp = topology.seedNodes().map((n) => `${n.host}:${n.port}`).join(',');
    const target = await productWrites({ REDIS_CLUSTER_NODES: hp, REDIS_PASSWORD: PASSWORD, REDIS_TLS: 'true', REDIS_TLS_CA_FILE: tls.caFile });
    const gw = await startGatewayProcess({ ...clearedTargetEnv(), ...targetEnv(target), KEY_PREFIX: uniquePrefix('g'), ENROLLMENT_TOKEN: TOKEN }, 40_000);
    try {
      const agent = await enrolledAgent(gw.url, { enrollmentToken: TOKEN });
      expect(agent.credential).toBeTruthy();
      expect(agent.license).not.toBeNull();
      await agent.close();
      // No secret in what the process wrote (its start-up line names the cluster, not the password).
      expect(gw.output()).not.toContain(PASSWORD);
    } finally {
      await gw.stop();
    }
  });
});
