/**
 * The global setup of whichever project runs this file provides a `redisTarget` that reaches a
 * live Redis of its kind (SPEC X1): one server, a Sentinel setup's primary, or a Cluster with
 * every slot served. Suites that take their Redis from `redisTarget` rely on that.
 */
import { Cluster, Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';

describe('provided redis target', () => {
  it('X1: redisTarget reaches a live Redis of its kind', async () => {
    const target = inject('redisTarget');
    const common = { maxRetriesPerRequest: 1, connectTimeout: 5000 };
    let client: Redis | Cluster;
    if (target.kind === 'single') {
      expect(target.url).toBe(inject('redisUrl'));
      client = new Redis(target.url, common);
    } else if (target.kind === 'sentinel') {
      client = new Redis({ sentinels: target.sentinels, name: target.name, ...common });
    } else {
      client = new Cluster(target.nodes, { redisOptions: common });
    }
    client.on('error', () => {});
    try {
      const key = `{t:provided-target}:${target.kind}`;
      await client.set(key, target.kind, 'EX', 60);
      expect(await client.get(key)).toBe(target.kind);
      if (target.kind === 'sentinel') expect(((await client.call('ROLE')) as string[])[0]).toBe('master');
      if (target.kind === 'cluster') expect(await client.cluster('INFO')).toContain('cluster_slots_ok:16384');
    } finally {
      client.disconnect();
    }
  });
});
