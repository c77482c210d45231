/** Enqueues batches of BullMQ jobs and waits until a worker has finished them all. */
import { Queue, type JobsOptions } from 'bullmq';
import { createRedis, type RedisClient } from '../../src/store/redis-connection.ts';
import type { RedisTarget } from '../../src/store/redis-target.ts';

/** AdminClient's job options (src/admin/client.ts). */
export const ADMIN_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 7 * 86_400 },
  removeOnFail: { age: 7 * 86_400 },
};

export interface BatchResult {
  jobs: number;
  completed: number;
  failed: number;
  elapsedMs: number;
  enqueueMs: number;
  failedReasons: string[];
  timedOut: boolean;
}

export class JobQueue {
  private readonly connection: RedisClient;
  readonly queue: Queue;

  /** `prefix` must be one hash tag (`{…}`) so that a queue's keys share a slot on a Cluster. */
  constructor(target: RedisTarget, name: string, prefix: string) {
    this.connection = createRedis(target, { connectionName: 'licensegate:bench-jobs', maxRetriesPerRequest: null });
    this.connection.on('error', () => {});
    this.queue = new Queue(name, { connection: this.connection, prefix });
  }

  private async finished(): Promise<{ completed: number; failed: number }> {
    const c = await this.queue.getJobCounts('completed', 'failed');
    return { completed: c.completed ?? 0, failed: c.failed ?? 0 };
  }

  /** Adds every job (bulk, 500 at a time), then polls until all of them completed or failed. */
  async runBatch(jobs: { name: string; data: Record<string, unknown> }[], timeoutMs: number): Promise<BatchResult> {
    await this.queue.waitUntilReady();
    const start = await this.finished();
    const t0 = performance.now();
    for (let i = 0; i < jobs.length; i += 500) {
      await this.queue.addBulk(jobs.slice(i, i + 500).map((j) => ({ ...j, opts: ADMIN_JOB_OPTIONS })));
    }
    const enqueueMs = performance.now() - t0;
    const deadline = t0 + timeoutMs;
    let now = start;
    for (;;) {
      now = await this.finished();
      if (now.completed + now.failed - start.completed - start.failed >= jobs.length) break;
      if (performance.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const elapsedMs = performance.now() - t0;
    const failed = now.failed - start.failed;
    const failedReasons = failed > 0 ? (await this.queue.getFailed(0, 4)).map((j) => j.failedReason) : [];
    return {
      jobs: jobs.length,
      completed: now.completed - start.completed,
      failed,
      elapsedMs: Math.round(elapsedMs),
      enqueueMs: Math.round(enqueueMs),
      failedReasons,
      timedOut: performance.now() > deadline,
    };
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => {});
    this.connection.disconnect();
  }
}
