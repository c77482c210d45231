/**
 * Admin jobs run through the typed AdminClient, each recorded with when it was enqueued and
 * when (and with what) it was answered: the acknowledged changes the convergence checker holds
 * the product to. A job whose answer never came (the caller timed out) is in doubt: its final
 * state is read from BullMQ afterwards — finished by a retry or a resume, or not finished.
 */
import { Queue } from 'bullmq';
import { AdminClient, AdminJobError, type CallInput } from '../../src/admin/client.ts';
import { ADMIN_QUEUE, type JobName } from '../../src/jobs/contract.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { createRedis, type RedisClient } from '../../src/store/redis-connection.ts';
import type { RedisTarget } from '../../src/store/redis-target.ts';

export type JobOutcome = 'pending' | 'ok' | 'refused' | 'error' | 'timeout';

export interface JobRecord {
  id: string;
  name: JobName;
  input: Record<string, unknown>;
  /** Suite clock (GroundTruthFleet.now). */
  tEnq: number;
  tRes: number | null;
  outcome: JobOutcome;
  result?: unknown;
  code?: string;
  message?: string;
}

/** A job's state in BullMQ, read after the fact. */
export interface JobFinalState {
  state: string;
  returnvalue: unknown;
  failedReason: string | undefined;
  attemptsMade: number;
}

/** Codes that are the product's answer (a rule refusal), not a failure to answer. */
const INFRASTRUCTURE_CODES = new Set(['JOB_TIMEOUT', 'INTERNAL_ERROR', 'REDIS_UNAVAILABLE']);

export class JobLedger {
  readonly records: JobRecord[] = [];
  private clients: { admin: AdminClient; connection: RedisClient; queue: Queue } | undefined;
  private next = 0;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly target: RedisTarget | string,
    private readonly queuePrefix: string,
    private readonly label: string,
    private readonly now: () => number,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Connects on first use: an idle admin client holds a blocking XREAD in Redis, and a blocked
   * client changes the order in which a resumed Redis serves its backlog — enough to hide the
   * reaping race of a Redis pause (issue 8 item 1). A scenario without jobs has none.
   */
  private get c(): { admin: AdminClient; connection: RedisClient; queue: Queue } {
    if (!this.clients) {
      const connection = createRedis(this.target, { maxRetriesPerRequest: null, connectionName: 'licensegate:chaos-admin' });
      connection.on('error', () => {});
      const queue = new Queue(ADMIN_QUEUE, { connection, prefix: this.queuePrefix });
      // BullMQ prints a queue's connection errors when nobody listens: a failover would fill stderr.
      queue.on('error', () => {});
      this.clients = {
        // Our own connection, with an error listener: a Redis restart must not print as unhandled.
        admin: new AdminClient({ connection, prefix: this.queuePrefix, actor: TECHNICIAN, timeoutMs: this.timeoutMs }),
        connection,
        queue,
      };
    }
    return this.clients;
  }

  /** Jobs sent and not answered yet. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Enqueues one job and records its answer; never rejects. */
  run<N extends JobName>(name: N, input: Omit<CallInput<N>, 'idempotencyKey'>): Promise<void> {
    const id = `${this.label}-${++this.next}`;
    const record: JobRecord = { id, name, input: input as Record<string, unknown>, tEnq: this.now(), tRes: null, outcome: 'pending' };
    this.records.push(record);
    const p = this.c.admin
      .run(name, { ...input, idempotencyKey: id } as CallInput<N>)
      .then(
        (result) => {
          record.outcome = 'ok';
          record.result = result;
        },
        (err: unknown) => {
          const code = err instanceof AdminJobError ? err.code : 'CLIENT_ERROR';
          record.code = code;
          record.message = (err as Error).message;
          record.outcome = code === 'JOB_TIMEOUT' ? 'timeout' : INFRASTRUCTURE_CODES.has(code) || code === 'CLIENT_ERROR' ? 'error' : 'refused';
        },
      )
      .finally(() => {
        record.tRes = this.now();
        this.running.delete(p);
      });
    this.running.add(p);
    return p;
  }

  /** Waits for every job sent so far to be answered (or to time out in the client). */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** BullMQ's view of each job (for the ones whose answer did not come, or to prove none is stuck). */
  async finalStates(ids: string[] = this.records.map((r) => r.id)): Promise<Map<string, JobFinalState>> {
    const out = new Map<string, JobFinalState>();
    if (ids.length === 0) return out;
    for (const id of ids) {
      const job = await this.c.queue.getJob(id);
      if (!job) {
        out.set(id, { state: 'missing', returnvalue: undefined, failedReason: undefined, attemptsMade: 0 });
        continue;
      }
      out.set(id, { state: await job.getState(), returnvalue: job.returnvalue, failedReason: job.failedReason, attemptsMade: job.attemptsMade });
    }
    return out;
  }

  async close(): Promise<void> {
    const c = this.clients;
    if (!c) return;
    await Promise.race([c.admin.close().catch(() => {}), new Promise((r) => setTimeout(r, 3_000))]);
    await c.queue.close().catch(() => {});
    c.connection.disconnect();
  }
}
