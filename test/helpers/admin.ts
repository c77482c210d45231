/** An in-process admin worker plus an AdminClient on the same isolated queue prefix. */
import type { Worker } from 'bullmq';
import { pino } from 'pino';
import { AdminClient } from '../../src/admin/client.ts';
import { startAdminWorker } from '../../src/jobs/admin-worker.ts';
import { LedgerScheduler } from '../../src/jobs/scheduler.ts';
import type { LedgerContext } from '../../src/licensing/ledger-context.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { openRedis, redisTarget } from './redis.ts';

export interface TestAdmin {
  admin: AdminClient;
  worker: Worker | null;
  stop(): Promise<void>;
}

export async function startTestAdmin(ctx: LedgerContext, opts: { worker?: boolean } = {}): Promise<TestAdmin> {
  const conn: RedisClient = openRedis({ maxRetriesPerRequest: null });
  const scheduler = new LedgerScheduler(conn, ctx.keys.queuePrefix);
  const workerCtx = { ...ctx, scheduler: ctx.scheduler ?? scheduler };
  const worker = opts.worker === false ? null : startAdminWorker(conn, ctx.keys.queuePrefix, workerCtx, pino({ level: 'silent' }));
  if (worker) await worker.waitUntilReady();
  const admin = new AdminClient({ connection: redisTarget(), prefix: ctx.keys.queuePrefix, actor: TECHNICIAN, timeoutMs: 10_000 });
  return {
    admin,
    worker,
    async stop() {
      await admin.close();
      if (worker) await worker.close();
      await scheduler.close();
      conn.disconnect();
    },
  };
}
