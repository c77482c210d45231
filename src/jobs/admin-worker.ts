/**
 * The worker that runs admin jobs (SPEC A1–A4). Validates each payload against its schema
 * (INVALID_JOB), lets the domain check the actor (FORBIDDEN) and the rules; coded refusals fail
 * the job at once with `CODE: message`, while anything else (a Redis hiccup) is retried with
 * backoff, safe because every operation is idempotent by job id or by state.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../store/redis-connection.ts';
import { WORKER_TIMING } from './worker-retry.ts';
import type { Logger } from 'pino';
import { z } from 'zod';
import { LicensegateError } from '../errors.ts';
import type { LedgerContext } from '../licensing/ledger-context.ts';
import { awaitDurable } from '../store/durability.ts';
import { adminHandlers } from './admin-handlers.ts';
import { ADMIN_QUEUE, jobSchemas, type JobName } from './contract.ts';
import { NOOP_METRICS, type Metrics } from '../metrics/instruments.ts';

export interface AdminWorkerOptions {
  /** Jobs run at once. Default 16. */
  concurrency?: number;
  /** Job attempts by name and outcome, with their duration (SPEC H4). Default NOOP_METRICS. */
  metrics?: Metrics;
}

/**
 * Runs `attempt` and reports it: `completed`, `refused` (a coded refusal, not retried) or
 * `failed` (retried with backoff), with the attempt's duration.
 */
async function measured<T>(metrics: Metrics, name: string, attempt: () => Promise<T>): Promise<T> {
  if (!metrics.enabled) return attempt();
  const t0 = performance.now();
  try {
    const value = await attempt();
    metrics.adminJob(name, 'completed', (performance.now() - t0) / 1000);
    return value;
  } catch (err) {
    metrics.adminJob(name, err instanceof UnrecoverableError ? 'refused' : 'failed', (performance.now() - t0) / 1000);
    throw err;
  }
}

/** Runs one job: the processor, exported for tests. */
export async function processAdminJob(ctx: LedgerContext, job: Pick<Job, 'name' | 'data' | 'id'>): Promise<unknown> {
  const name = job.name as JobName;
  const schema = jobSchemas[name];
  if (!schema) throw new UnrecoverableError(`INVALID_JOB: unknown job name ${JSON.stringify(job.name)}`);
  const parsed = schema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`INVALID_JOB: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  try {
    const handler = adminHandlers[name] as (c: LedgerContext, j: unknown, id: string) => Promise<unknown>;
    return await handler(ctx, parsed.data, String(job.id));
  } catch (err) {
    if (err instanceof LicensegateError && err.code !== 'INTERNAL_ERROR') throw new UnrecoverableError(`${err.code}: ${err.message}`);
    throw new Error(`INTERNAL_ERROR: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * SPEC F5: the result is returned — and so published to the admin — only once the job's writes
 * are durable in the DURABILITY mode: its own writes on ctx.redis and what it scheduled on the
 * worker's connection. NOT_DURABLE fails the attempt as retryable: the effect stays applied on
 * the primary, BullMQ retries with backoff, and the retry finds it done (F3) and waits again.
 */
async function durableResult<T>(result: Promise<T>, ...connections: RedisClient[]): Promise<T> {
  const value = await result;
  try {
    await awaitDurable(...connections);
  } catch (err) {
    throw new Error(`NOT_DURABLE: ${(err as Error).message}`, { cause: err });
  }
  return value;
}

export function startAdminWorker(connection: RedisClient, queuePrefix: string, ctx: LedgerContext, logger: Logger, options: AdminWorkerOptions = {}): Worker {
  const metrics = options.metrics ?? NOOP_METRICS;
  const worker = new Worker(ADMIN_QUEUE, (job) => measured(metrics, job.name, () => durableResult(processAdminJob(ctx, job), ctx.redis, connection)), {
    connection,
    prefix: queuePrefix,
    concurrency: options.concurrency ?? 16,
    ...WORKER_TIMING,
  });
  worker.on('failed', (job, err) => {
    const coded = err instanceof UnrecoverableError;
    logger[coded ? 'info' : 'error']({ job: job?.name, id: job?.id, err: { message: err.message } }, coded ? 'admin job refused' : 'admin job failed');
  });
  worker.on('error', (err) => logger.error({ err }, 'admin worker error'));
  return worker;
}
