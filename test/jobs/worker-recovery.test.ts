/**
 * Workers come back quickly after a Redis failover (SPEC X3, A4). When BullMQ's fetch of the
 * next job fails with a connection error ("Connection is closed", ECONNREFUSED — what a killed
 * Sentinel primary or Cluster master gives), the worker waits `runRetryDelay` before it fetches
 * again; BullMQ's default is 15 s, longer than an admin caller's patience and than the chaos
 * suite's convergence bound (g-sentinel-failover-replicas: every job sent after the kill timed
 * out, 7 of 7, and stayed waiting). licensegate's workers retry within a second.
 */
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Worker } from 'bullmq';
import { startAdminWorker } from '../../src/jobs/admin-worker.ts';
import { WORKER_RETRY_DELAY_MS } from '../../src/jobs/worker-retry.ts';
import { startSchedulerWorker } from '../../src/jobs/scheduler.ts';
import { createRedis } from '../../src/store/redis-connection.ts';
import { newKeys, redisUrl } from '../helpers/redis.ts';

const logger = pino({ level: 'silent' });
const connection = createRedis(redisUrl(), { maxRetriesPerRequest: null });
const keys = newKeys('wr');
const ctx = { redis: connection, keys, vendorKeys: [] };
const workers: Worker[] = [];

afterAll(async () => {
  for (const w of workers) await w.close();
  connection.disconnect();
});

describe('workers after a connection error', () => {
  it('X3: the admin worker fetches again within a second, not after BullMQ\'s 15 s', () => {
    const w = startAdminWorker(connection, keys.queuePrefix, ctx, logger);
    workers.push(w);
    expect(w.opts.runRetryDelay).toBe(WORKER_RETRY_DELAY_MS);
    expect(WORKER_RETRY_DELAY_MS).toBeLessThanOrEqual(1_000);
  });

  it('X3: the scheduler worker fetches again within a second, not after BullMQ\'s 15 s', () => {
    const w = startSchedulerWorker(connection, keys.queuePrefix, ctx, logger);
    workers.push(w);
    expect(w.opts.runRetryDelay).toBe(WORKER_RETRY_DELAY_MS);
  });
});
