/**
 * F2 A4 X3: a job left active with no worker — its worker was killed, or Redis crashed after
 * recording the job active but before the worker got the reply — is taken again and answered
 * within the worker's lock time plus one stalled check (10 s + 5 s), not BullMQ's default minute.
 * A "ghost" worker takes the job with licensegate's worker timing and vanishes without finishing
 * it; a real admin worker must finish it.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startAdminWorker } from '../../src/jobs/admin-worker.ts';
import { ADMIN_QUEUE } from '../../src/jobs/contract.ts';
import { WORKER_TIMING } from '../../src/jobs/worker-retry.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { createRedis } from '../../src/store/redis-connection.ts';
import { eventually } from '../helpers/gateway.ts';
import { newKeys, redisTarget } from '../helpers/redis.ts';

const connection = createRedis(redisTarget(), { maxRetriesPerRequest: null });
const keys = newKeys('stall');
const closers: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  connection.disconnect();
});

describe('a job whose worker vanished', () => {
  it('F2 A4 X3: is taken again and answered within the lock time plus one stalled check', async () => {
    await ensureTenant(connection, keys, DEFAULT_TENANT, { enrollmentToken: 'stalled-recovery-token-01' });
    const queue = new Queue(ADMIN_QUEUE, { connection, prefix: keys.queuePrefix });
    closers.push(() => queue.close());
    const job = await queue.add('tenant.create', { actor: TECHNICIAN, name: `Stall ${randomUUID().slice(0, 8)}` }, { jobId: `stall-${randomUUID()}`, attempts: 3 });

    // The ghost takes the job as a licensegate worker would (same lock time) and disappears.
    const ghost = new Worker(ADMIN_QUEUE, null, { connection, prefix: keys.queuePrefix, autorun: false, ...WORKER_TIMING });
    const taken = await ghost.getNextJob('ghost-token');
    expect(taken?.id).toBe(job.id);
    await ghost.close(true);
    const leftAt = Date.now();
    expect(await job.getState()).toBe('active');

    const ctx = { redis: connection, keys, vendorKeys: [] };
    closers.push(() => worker.close());
    const worker = startAdminWorker(connection, keys.queuePrefix, ctx, pino({ level: 'silent' }));
    // Answered: run by the handler, whose answer here is the ledger's refusal (no multi-tenant key).
    await eventually(async () => ['completed', 'failed'].includes(await queue.getJobState(job.id!)), 'the abandoned job answered', 40_000, 200);
    const answered = await queue.getJob(job.id!);
    expect(answered?.failedReason).toMatch(/^MULTI_TENANT_NOT_ALLOWED/);
    expect(answered?.stalledCounter).toBe(1);
    const tookMs = Date.now() - leftAt;
    // 10 s lock + 5 s stalled check + slack for a loaded machine; BullMQ's defaults take up to 60 s.
    expect(tookMs).toBeLessThan(WORKER_TIMING.lockDuration + 2 * WORKER_TIMING.stalledInterval + 5_000);
  });
});
