import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { describeTarget, RedisTargetError, targetEnv, targetFromEnv } from '../../src/store/redis-target.ts';

describe('X1: one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES', () => {
  it('X1: none set means the embedded Redis', () => {
    expect(targetFromEnv({})).toBeUndefined();
  });

  it('X1: each mode parses, with credentials and TLS', () => {
    expect(targetFromEnv({ REDIS_URL: 'redis://:pw@127.0.0.1:6390/0' })).toEqual({ kind: 'single', url: 'redis://:pw@127.0.0.1:6390/0' });
    expect(targetFromEnv({ REDIS_SENTINELS: '10.0.0.1:26379, 10.0.0.2:26379,[::1]:26380', REDIS_SENTINEL_NAME: 'lg', REDIS_PASSWORD: 'p', REDIS_SENTINEL_PASSWORD: 's' })).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'lg',
      password: 'p',
      sentinelPassword: 's',
    });
    expect(targetFromEnv({ REDIS_CLUSTER_NODES: 'redis-a:7000', REDIS_USERNAME: 'lg', REDIS_PASSWORD: 'p', REDIS_TLS: 'true' })).toEqual({
      kind: 'cluster',
      nodes: [{ host: 'redis-a', port: 7000 }],
      username: 'lg',
      password: 'p',
      tls: true,
    });
  });

  it('X1: a wrong or ambiguous setting names its variable', () => {
    const cases: [NodeJS.ProcessEnv, string][] = [
      [{ REDIS_URL: 'redis://a:1', REDIS_CLUSTER_NODES: 'a:1' }, 'REDIS_URL, REDIS_CLUSTER_NODES'],
      [{ REDIS_URL: 'http://a:1' }, 'REDIS_URL'],
      [{ REDIS_SENTINELS: 'a:1' }, 'REDIS_SENTINEL_NAME'],
      [{ REDIS_SENTINEL_NAME: 'x', REDIS_URL: 'redis://a:1' }, 'REDIS_SENTINEL_NAME'],
      [{ REDIS_CLUSTER_NODES: 'a' }, 'REDIS_CLUSTER_NODES'],
      [{ REDIS_CLUSTER_NODES: 'a:99999' }, 'REDIS_CLUSTER_NODES'],
      [{ REDIS_CLUSTER_NODES: ' , ' }, 'REDIS_CLUSTER_NODES'],
      [{ REDIS_CLUSTER_NODES: 'a:1', REDIS_TLS: 'yes' }, 'REDIS_TLS'],
      [{ REDIS_CLUSTER_NODES: 'a:1', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }, 'REDIS_TLS_CA_FILE'],
      [{ REDIS_PASSWORD: 'p' }, 'REDIS_PASSWORD'],
    ];
    for (const [env, variable] of cases) {
      let caught: unknown;
      try {
        targetFromEnv(env);
      } catch (err) {
        caught = err;
      }
      expect(caught, JSON.stringify(env)).toBeInstanceOf(RedisTargetError);
      expect((caught as RedisTargetError).variable).toBe(variable);
      // loadConfig turns it into the ConfigError that makes start-up exit 2 with the variable named.
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(variable);
    }
  });

  it('X1: targetEnv reproduces a target for a spawned process; describeTarget hides secrets', () => {
    const env = { REDIS_SENTINELS: '127.0.0.1:26379,[::1]:26380', REDIS_SENTINEL_NAME: 'lg', REDIS_USERNAME: 'u', REDIS_PASSWORD: 'secret-pw', REDIS_TLS: 'false' };
    const t = targetFromEnv(env)!;
    expect(targetEnv(t)).toEqual(env);
    expect(targetFromEnv(targetEnv(t))).toEqual(t);
    expect(describeTarget(t)).not.toContain('secret-pw');
    expect(describeTarget(targetFromEnv({ REDIS_URL: 'redis://user:secret-pw@h:1/2' })!)).toBe('redis://h:1/2');
  });
});
