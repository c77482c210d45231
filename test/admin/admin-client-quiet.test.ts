/**
 * The AdminClient never prints (DESIGN: components never call console). While Redis is away —
 * a failover, a restart (SPEC X3) — its BullMQ queue re-emits every connection error, and a
 * BullMQ queue without an 'error' listener prints each one with console.error: a Sentinel
 * failover filled the chaos suite's stderr with ECONNREFUSED stacks. Callers learn of the
 * trouble through their calls (a rejected add, JOB_TIMEOUT).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AdminClient } from '../../src/admin/client.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { freePort } from '../../src/net/free-port.ts';
import { createRedis } from '../../src/store/redis-connection.ts';
import { eventually } from '../helpers/gateway.ts';
import { redisUrl } from '../helpers/redis.ts';
import { startRedisProxy } from '../helpers/redis-proxy.ts';

describe('AdminClient while Redis is unreachable', () => {
  const spy = vi.spyOn(console, 'error');
  afterEach(() => spy.mockClear());

  it('X3: connection errors do not reach the console', async () => {
    const connection = createRedis(`redis://127.0.0.1:${await freePort()}`, { maxRetriesPerRequest: null, extra: { retryStrategy: () => 50 } });
    let errors = 0;
    connection.on('error', () => errors++);
    const admin = new AdminClient({ connection, actor: TECHNICIAN, timeoutMs: 1000 });
    try {
      await eventually(() => errors >= 5, 'five connection errors', 10_000);
      expect(spy.mock.calls.map((c) => String(c[0]))).toEqual([]);
    } finally {
      connection.disconnect();
      await Promise.race([admin.close().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    }
  });

  it('X3: nor do the errors of its result listener when a working Redis goes away', async () => {
    const proxy = await startRedisProxy(redisUrl());
    const connection = createRedis(proxy.url, { maxRetriesPerRequest: null, extra: { retryStrategy: () => 50 } });
    let errors = 0;
    connection.on('error', () => errors++);
    const admin = new AdminClient({ connection, actor: TECHNICIAN, timeoutMs: 1000 });
    const probe = createRedis(redisUrl());
    try {
      // The result listener (QueueEvents on its own connection) is blocked in XREAD.
      await eventually(async () => String(await probe.client('LIST')).includes('name=licensegate:admin-events'), 'the result listener', 10_000);
      await proxy.close();
      await eventually(() => errors >= 5, 'five connection errors', 10_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(spy.mock.calls.map((c) => String(c[0]))).toEqual([]);
    } finally {
      probe.disconnect();
      connection.disconnect();
      await Promise.race([admin.close().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    }
  });
});
