/**
 * Time-driven ledger work on a BullMQ queue, so it survives restarts and runs once however
 * many licensegate processes run: a key's expiry at its instant (S4) and the warnings 15 days
 * and 1 day before (S5), as delayed jobs with deterministic ids; and the ledger upkeep (F2), a
 * repeatable job (one BullMQ job scheduler, whoever registers it) that resumes interrupted
 * sagas and ends due keys. Internal: not part of the admin job contract.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../store/redis-connection.ts';
import { WORKER_TIMING } from './worker-retry.ts';
import type { Logger } from 'pino';
import type { KeyScheduler, LedgerContext } from '../licensing/ledger-context.ts';
import { resumeLedger } from '../licensing/resume-ledger.ts';
import { applyRetention, type RetentionSettings } from '../licensing/retention.ts';
import { ADMIN_QUEUE } from './contract.ts';
import { endSerialKey, warnKeyExpiring, type SerialKeyRecord } from '../licensing/serial-key-ledger.ts';
import { serialKeyExpiresAtMs } from '../licensing/serial-key.ts';

export const SCHEDULER_QUEUE = 'licensegate-scheduler';
const DAY = 86_400_000;
const WARNINGS = [
  ['15d', 15 * DAY],
  ['1d', DAY],
] as const;

/** Id of the upkeep's job scheduler: fixed, so every process upserts the same one. */
export const UPKEEP_SCHEDULER_ID = 'ledger-upkeep';
/** Default interval of the ledger upkeep (LEDGER_UPKEEP_MS). */
export const DEFAULT_UPKEEP_MS = 60_000;

type SchedulerJob =
  | { name: 'serial.expire'; data: { keyId: string } }
  | { name: 'serial.warn'; data: { keyId: string; warning: '15d' | '1d' } }
  | { name: 'ledger.resume'; data: Record<string, never> };

export class LedgerScheduler implements KeyScheduler {
  readonly queue: Queue;

  constructor(connection: RedisClient, queuePrefix: string) {
    this.queue = new Queue(SCHEDULER_QUEUE, { connection, prefix: queuePrefix });
  }

  async scheduleKey(keyId: string, expiresAtMs: number): Promise<void> {
    const now = Date.now();
    const opts = { removeOnComplete: true, removeOnFail: 1000, attempts: 20, backoff: { type: 'exponential', delay: 1000 } };
    await this.queue.add('serial.expire', { keyId }, { ...opts, jobId: `expire-${keyId}`, delay: Math.max(0, expiresAtMs - now) });
    for (const [warning, before] of WARNINGS) {
      const at = expiresAtMs - before;
      if (at > now) await this.queue.add('serial.warn', { keyId, warning }, { ...opts, jobId: `warn-${warning}-${keyId}`, delay: at - now });
    }
  }

  /**
   * Runs the ledger upkeep (resumeLedger) every `everyMs`. Idempotent: one job scheduler with a
   * fixed id, so any number of processes registering it still get one job per interval.
   */
  async startUpkeep(everyMs: number = DEFAULT_UPKEEP_MS): Promise<void> {
    await this.queue.upsertJobScheduler(UPKEEP_SCHEDULER_ID, { every: everyMs }, { name: 'ledger.resume', data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } });
  }

  /** Schedules every active key again (idempotent: job ids are fixed). Start-up safety net. */
  async scheduleAll(records: SerialKeyRecord[]): Promise<void> {
    for (const rec of records) {
      const exp = serialKeyExpiresAtMs(rec.payload);
      if (rec.status === 'active' && exp !== null) await this.scheduleKey(rec.payload.keyId, exp);
    }
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

/**
 * Runs scheduled ledger jobs. With `retention`, each upkeep also trims what grows with time
 * (SPEC Z5, src/licensing/retention.ts), old admin jobs included.
 */
export function startSchedulerWorker(connection: RedisClient, queuePrefix: string, ctx: LedgerContext, logger: Logger, retention?: RetentionSettings): Worker {
  const adminQueue = retention ? new Queue(ADMIN_QUEUE, { connection, prefix: queuePrefix }) : undefined;
  adminQueue?.on('error', () => undefined); // the worker's own connection errors are logged below
  const worker = new Worker(
    SCHEDULER_QUEUE,
    async (job: Job) => {
      const j = { name: job.name, data: job.data } as SchedulerJob;
      if (j.name === 'serial.expire') {
        const lost = await endSerialKey(ctx, j.data.keyId, 'expired');
        logger.info({ keyId: j.data.keyId, unassigned: lost }, 'serial key expired');
        return { unassigned: lost };
      }
      if (j.name === 'serial.warn') {
        await warnKeyExpiring(ctx, j.data.keyId, j.data.warning);
        return { warned: j.data.warning };
      }
      if (j.name === 'ledger.resume') {
        const resumed = await resumeLedger(ctx, logger);
        return retention ? { ...resumed, retention: await applyRetention(ctx, retention, { adminQueue, logger }) } : resumed;
      }
      throw new Error(`unknown scheduler job ${job.name}`);
    },
    { connection, prefix: queuePrefix, concurrency: 4, ...WORKER_TIMING },
  );
  worker.on('failed', (job, err) => logger.error({ err, job: job?.name, id: job?.id }, 'scheduler job failed'));
  worker.on('error', (err) => logger.error({ err }, 'scheduler worker error'));
  if (adminQueue) worker.on('closed', () => void adminQueue.close().catch(() => undefined));
  return worker;
}
