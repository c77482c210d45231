/**
 * The driver's stop-latency runs: jobs enqueued at a fixed rate, each timed from enqueue until
 * its client hears of it — the real unassign job to an agent (StopMonitoring), and the baseline
 * no-op job whose worker pushes one frame to a bare-ws client.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Queue, type JobsOptions } from 'bullmq';
import { createRedis } from '../../src/store/redis-connection.ts';
import type { RedisTarget } from '../../src/store/redis-target.ts';
import { Histogram, type HistogramData } from '../../agent-sim/histogram.ts';
import { ADMIN_QUEUE } from '../../src/jobs/contract.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { atRate, loopSummary, sleep, tally } from '../lib/driver-loops.ts';
import { epochNow } from '../lib/raw-protocol.ts';
import { fleet, setCommandHook } from './driver-agents.ts';
import { setPushHook } from './driver-raw-clients.ts';

/** The job options AdminClient uses (src/admin/client.ts), so jobs cost the worker the same. */
const JOB_OPTIONS: JobsOptions = { attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 7 * 86_400 } };

export interface RateParams {
  /** The stack's Redis (a URL would only reach one Redis). */
  target: RedisTarget;
  queuePrefix: string;
  rate: number;
  count: number;
  /** First agent / bare client index of this window (windows of one run take turns). */
  from?: number;
  timeoutMs: number;
}

/** stop-latency: unassign agents 0..count-1 at `rate`; time from enqueue to StopMonitoring. */
export async function unassignRun(p: RateParams) {
  const connection = createRedis(p.target, { connectionName: 'licensegate:bench-driver', maxRetriesPerRequest: null });
  connection.on('error', () => {});
  const queue = new Queue(ADMIN_QUEUE, { connection, prefix: p.queuePrefix });
  const latency = new Histogram();
  const enqueue = new Histogram();
  const sentAt = new Float64Array(p.count);
  const sentEpoch = new Float64Array(p.count);
  const receivedEpoch = new Float64Array(p.count);
  const jobIds: (string | undefined)[] = new Array(p.count);
  let received = 0;
  let allReceived!: () => void;
  const done = new Promise<void>((r) => (allReceived = r));
  const enqueueErrors: Record<string, number> = {};
  const from = p.from ?? 0;
  const notMonitoring = fleet().slice(from, from + p.count).filter((a) => !a?.monitoring).length;
  setCommandHook((i, cmd) => {
    const k = i - from;
    if (cmd.kind !== 'stop' || cmd.duplicate || k < 0 || k >= p.count || sentAt[k] === 0) return;
    latency.record(performance.now() - sentAt[k]!);
    receivedEpoch[k] = epochNow();
    sentAt[k] = 0;
    if (++received === p.count) allReceived();
  });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  try {
    await queue.waitUntilReady();
    loop.enable();
    const t0 = performance.now();
    await atRate(p.count, p.rate, async (k) => {
      const start = performance.now();
      sentAt[k] = start;
      sentEpoch[k] = epochNow();
      try {
        const job = await queue.add('client.unassign', { actor: TECHNICIAN, tenantId: DEFAULT_TENANT, clientId: fleet()[from + k]!.clientId }, JOB_OPTIONS);
        jobIds[k] = job.id;
        enqueue.record(performance.now() - start);
      } catch (err) {
        tally(enqueueErrors, (err as Error).message.slice(0, 80));
      }
    });
    const enqueueSeconds = (performance.now() - t0) / 1000;
    await Promise.race([done, sleep(p.timeoutMs)]);
    loop.disable();
    // Split at the moment the worker took each job (BullMQ's processedOn, the worker's clock).
    const toWorker = new Histogram();
    const toAgent = new Histogram();
    const jobs = await Promise.all(jobIds.map((id) => (id ? queue.getJob(id) : undefined)));
    jobs.forEach((job, k) => {
      if (!job?.processedOn || receivedEpoch[k] === 0) return;
      toWorker.record(Math.max(0, job.processedOn - sentEpoch[k]!));
      toAgent.record(Math.max(0, receivedEpoch[k]! - job.processedOn));
    });
    return {
      jobs: p.count,
      received,
      missing: p.count - received,
      notMonitoringBefore: notMonitoring,
      achievedRate: Math.round((p.count / Math.max(enqueueSeconds, 1e-3)) * 10) / 10,
      latency: latency.summary(),
      latencyData: latency.toData(),
      components: {
        note: "split at BullMQ's processedOn (worker clock, whole ms): approximate, both sides read the same system clock",
        enqueueToProcessed: toWorker.summary(),
        processedToAgent: toAgent.summary(),
      },
      driverLoopDelayMs: loopSummary(loop),
      enqueue: enqueue.summary(),
      enqueueErrors,
    };
  } finally {
    setCommandHook(null);
    await queue.close().catch(() => {});
    connection.disconnect();
  }
}

/** stop-latency baseline: jobs {i} on a no-op worker that pushes one frame to raw client i. */
export async function pushRun(p: RateParams & { queueName: string }) {
  const connection = createRedis(p.target, { connectionName: 'licensegate:bench-driver', maxRetriesPerRequest: null });
  connection.on('error', () => {});
  const queue = new Queue(p.queueName, { connection, prefix: p.queuePrefix });
  const latency = new Histogram();
  const toWorker = new Histogram();
  const push = new Histogram();
  const enqueue = new Histogram();
  const sentAt = new Float64Array(p.count);
  const sentEpoch = new Float64Array(p.count);
  let received = 0;
  let allReceived!: () => void;
  const done = new Promise<void>((r) => (allReceived = r));
  const enqueueErrors: Record<string, number> = {};
  const from = p.from ?? 0;
  setPushHook((i, workerEpoch) => {
    const k = i - from;
    if (k < 0 || k >= p.count || sentAt[k] === 0) return;
    const now = performance.now();
    const nowEpoch = epochNow();
    latency.record(now - sentAt[k]!);
    toWorker.record(workerEpoch - sentEpoch[k]!);
    push.record(nowEpoch - workerEpoch);
    sentAt[k] = 0;
    if (++received === p.count) allReceived();
  });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  try {
    await queue.waitUntilReady();
    loop.enable();
    await atRate(p.count, p.rate, async (k) => {
      const start = performance.now();
      sentAt[k] = start;
      sentEpoch[k] = epochNow();
      try {
        // Same name, payload shape and options as the real unassign job, plus the raw client index.
        await queue.add('client.unassign', { actor: TECHNICIAN, tenantId: DEFAULT_TENANT, clientId: `raw-${from + k}`, i: from + k }, JOB_OPTIONS);
        enqueue.record(performance.now() - start);
      } catch (err) {
        tally(enqueueErrors, (err as Error).message.slice(0, 80));
      }
    });
    await Promise.race([done, sleep(p.timeoutMs)]);
    loop.disable();
    return {
      jobs: p.count,
      received,
      missing: p.count - received,
      latency: latency.summary(),
      latencyData: latency.toData() as HistogramData,
      driverLoopDelayMs: loopSummary(loop),
      components: {
        note: 'split by the worker process clock (performance.timeOrigin + now): approximate, both sides read the same system clock',
        enqueueToProcessed: toWorker.summary(),
        wsPush: push.summary(),
      },
      enqueue: enqueue.summary(),
      enqueueErrors,
    };
  } finally {
    setPushHook(null);
    await queue.close().catch(() => {});
    connection.disconnect();
  }
}
