/**
 * The chaos suite's network-cut injector against the real test redis-server: it forwards,
 * `drop` resets and refuses, `blackhole` goes silent without closing and delivers what was
 * held once healed.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpProxy } from '../../chaos/lib/tcp-proxy.ts';
import { redisUrl } from '../helpers/redis.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function proxyAndClient(options: { retry?: boolean } = {}) {
  const proxy = await TcpProxy.start(redisUrl());
  cleanups.push(() => proxy.close());
  const client = new Redis(proxy.url, {
    maxRetriesPerRequest: null,
    retryStrategy: options.retry === false ? () => null : () => 50,
    connectTimeout: 2_000,
  });
  const events: string[] = [];
  client.on('error', (err: Error) => events.push(`error ${err.message}`));
  client.on('close', () => events.push('close'));
  cleanups.push(() => client.disconnect());
  return { proxy, client, events };
}

const settleWithin = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then((v) => ({ v })), new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

describe('chaos TcpProxy', () => {
  it('F1: forwards Redis traffic both ways', async () => {
    const { proxy, client } = await proxyAndClient();
    expect(await client.ping()).toBe('PONG');
    await client.set('chaos-proxy-k', 'v');
    expect(await client.get('chaos-proxy-k')).toBe('v');
    expect(proxy.connections).toBe(1);
    expect(proxy.stats.bytesUp).toBeGreaterThan(0);
    expect(proxy.stats.bytesDown).toBeGreaterThan(0);
  });

  it('F1: drop resets open connections and refuses new ones until heal', async () => {
    const { proxy, client, events } = await proxyAndClient();
    expect(await client.ping()).toBe('PONG');
    proxy.cut('drop');
    await expect.poll(() => events.includes('close'), { timeout: 5_000 }).toBe(true);
    expect(proxy.connections).toBe(0);
    // A fresh connection is reset at once.
    const fresh = new Redis(proxy.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    fresh.on('error', () => {});
    cleanups.push(() => fresh.disconnect());
    await expect(fresh.connect().then(() => fresh.ping())).rejects.toThrow();
    expect(proxy.stats.reset).toBeGreaterThanOrEqual(2);
    // The client's reconnects keep failing while cut; after heal its queued command succeeds.
    const pending = client.ping();
    expect(await settleWithin(pending, 300)).toBe('pending');
    proxy.heal();
    expect(await pending).toBe('PONG');
  });

  it('F1: blackhole keeps the connection open, passes nothing, and delivers it all on heal', async () => {
    const { proxy, client, events } = await proxyAndClient();
    expect(await client.ping()).toBe('PONG');
    proxy.cut('blackhole');
    const write = client.set('chaos-proxy-bh', 'held');
    const read = client.get('chaos-proxy-bh');
    expect(await settleWithin(read, 500)).toBe('pending');
    expect(events).toEqual([]); // silence, not an error
    expect(proxy.connections).toBe(1);
    // Meanwhile Redis itself never saw the write.
    const direct = new Redis(redisUrl());
    cleanups.push(() => direct.disconnect());
    expect(await direct.get('chaos-proxy-bh')).toBeNull();
    proxy.heal();
    expect(await write).toBe('OK');
    expect(await read).toBe('held');
    expect(events).toEqual([]);
  });

  it('F1: a connection opened during a blackhole reaches Redis once healed', async () => {
    const proxy = await TcpProxy.start(redisUrl());
    cleanups.push(() => proxy.close());
    proxy.cut('blackhole');
    const client = new Redis(proxy.url, { maxRetriesPerRequest: null, connectTimeout: 10_000 });
    client.on('error', () => {});
    cleanups.push(() => client.disconnect());
    const pong = client.ping();
    expect(await settleWithin(pong, 400)).toBe('pending');
    await proxy.cutFor('blackhole', 100); // cutFor heals at its end
    expect(proxy.mode).toBe('pass');
    expect(await pong).toBe('PONG');
  });
});
