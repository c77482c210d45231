/**
 * The typed admin client (SPEC A4): enqueues admin jobs and awaits their results, so an admin
 * service writes `await admin.assign({ tenantId, clientId })` and gets the new state, or a
 * rejection with the job's coded error. Plain BullMQ works too; this adds types and waiting.
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, type JobsOptions } from 'bullmq';
import type { ClientState, TenantPolicy } from '../licensing/client-admin.ts';
import type { PamUser } from '../licensing/pam-seats.ts';
import type { Actor } from '../licensing/permissions.ts';
import type { ActivationResult } from '../licensing/serial-key-ledger.ts';
import type { TenantLimits } from '../licensing/tenant-limits.ts';
import type { CreatedTenant, TenantInfo } from '../licensing/tenants.ts';
import type { RotationResult } from '../licensing/enrollment-tokens.ts';
import { hashSecret, newEnrollmentToken } from '../auth/secrets.ts';
import type { LicenseTypeName } from '../licensing/license-types.ts';
import { DEFAULT_QUEUE_PREFIX } from '../store/keys.ts';
import { createRedis, duplicateClient, type RedisClient } from '../store/redis-connection.ts';
import type { RedisTarget } from '../store/redis-target.ts';
import { ADMIN_QUEUE, IDEMPOTENCY_KEY, parseFailedReason, type JobName, type JobPayload } from '../jobs/contract.ts';

export interface AdminClientOptions {
  /**
   * Where the queue lives: a Redis URL, a RedisTarget (Sentinel, Cluster; see
   * src/store/redis-target.ts, or `targetFromEnv()` for the REDIS_* variables), or an ioredis
   * connection (used for enqueueing; a duplicate listens for results).
   */
  connection: string | RedisTarget | RedisClient;
  /** BullMQ prefix. Default `{licensegate}`. */
  prefix?: string;
  /** Actor of every call that names none. */
  actor: Actor;
  /** How long to wait for a job's result. Default 30 000 ms. */
  timeoutMs?: number;
}

/** A refused or failed admin job. `code` comes from the error catalogue (FORBIDDEN, INVALID_JOB, …). */
export class AdminJobError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly jobId: string,
  ) {
    super(message);
    this.name = 'AdminJobError';
  }
}

/** Per call: the payload without `actor` (or with one to override), plus an optional idempotency key. */
export type CallInput<N extends JobName> = Omit<JobPayload<N>, 'actor'> & { actor?: Actor; idempotencyKey?: string };

const JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
  // Kept a week so that a repeated idempotency key returns the first result (A3).
  removeOnComplete: { age: 7 * 86_400 },
  removeOnFail: { age: 7 * 86_400 },
};

export class AdminClient {
  private readonly queue: Queue;
  private readonly owned: RedisClient[] = [];
  private readonly actor: Actor;
  private readonly timeoutMs: number;
  /** The result listener, started once from a known stream position (see listen()). */
  private readonly events: Promise<QueueEvents>;

  constructor(options: AdminClientOptions) {
    const c = options.connection;
    const own = typeof c === 'string' || 'kind' in c;
    const base = own ? createRedis(c, { maxRetriesPerRequest: null, connectionName: 'licensegate:admin-client' }) : c;
    if (own) base.on('error', () => undefined); // as for the listener below
    if (own) this.owned.push(base);
    const prefix = options.prefix ?? DEFAULT_QUEUE_PREFIX;
    this.queue = new Queue(ADMIN_QUEUE, { connection: base, prefix });
    // BullMQ re-emits every connection error on the queue and prints it when nobody listens (a
    // failover would fill the caller's stderr); callers learn of it through their calls.
    this.queue.on('error', () => undefined);
    // Every call in flight listens for the queue closing; hundreds at once are normal here.
    this.queue.setMaxListeners(0);
    this.actor = options.actor;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.events = this.listen(base);
    this.events.catch(() => undefined); // surfaced by the first run()
  }

  /**
   * QueueEvents started with its default position ('$') only sees events appended after its
   * first XREAD reaches Redis, which can be after a fast worker has already finished the job
   * and after waitUntilFinished's one state check: the result is then lost and the call times
   * out. Reading from the stream's last id taken before any job is added closes that gap.
   */
  private async listen(base: RedisClient): Promise<QueueEvents> {
    const [last] = (await base.xrevrange(this.queue.keys.events, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const listener = duplicateClient(base, 'licensegate:admin-events', { maxRetriesPerRequest: null });
    // ioredis reconnects by itself; a connection error reaches the caller through its call (a
    // JOB_TIMEOUT or a rejected add), never as an unhandled 'error' event of a library.
    listener.on('error', () => undefined);
    this.owned.push(listener);
    const events = new QueueEvents(ADMIN_QUEUE, { connection: listener, prefix: this.queue.opts.prefix, lastEventId: last?.[0] ?? '0-0' });
    events.setMaxListeners(0);
    events.on('error', () => undefined); // as for the queue: BullMQ would print it
    await events.waitUntilReady();
    return events;
  }

  /** Enqueues a job and resolves with its result (A4); rejects with AdminJobError. */
  async run<N extends JobName, R = unknown>(name: N, input: CallInput<N>): Promise<R> {
    const { idempotencyKey, actor, ...payload } = input;
    const jobId = idempotencyKey ?? randomUUID();
    if (!IDEMPOTENCY_KEY.test(jobId)) throw new AdminJobError('INVALID_JOB', 'idempotencyKey must be 1-128 characters of [A-Za-z0-9._-]', jobId);
    const events = await this.events;
    const job = await this.queue.add(name, { ...payload, actor: actor ?? this.actor }, { ...JOB_OPTIONS, jobId });
    try {
      return (await job.waitUntilFinished(events, this.timeoutMs)) as R;
    } catch (err) {
      const message = (err as Error).message;
      if (/timed out/i.test(message)) throw new AdminJobError('JOB_TIMEOUT', `job ${jobId} (${name}) not finished after ${this.timeoutMs} ms; is a licensegate worker running?`, jobId);
      const { code, message: detail } = parseFailedReason(message);
      throw new AdminJobError(code, detail, jobId);
    }
  }

  activateSerial = (i: CallInput<'serial.activate'>) => this.run<'serial.activate', ActivationResult>('serial.activate', i);
  removeSerial = (i: CallInput<'serial.remove'>) => this.run<'serial.remove', { keyId: string; lost: number }>('serial.remove', i);
  /**
   * Creates a tenant. Unless the caller sends its own `enrollTokenHash`, the token is made here
   * and only its hash is enqueued (SPEC Z2): the result carries it, and nothing in Redis does.
   */
  createTenant = async (i: CallInput<'tenant.create'>): Promise<CreatedTenant> => {
    if (i.enrollTokenHash !== undefined) return this.run<'tenant.create', CreatedTenant>('tenant.create', i);
    const token = newEnrollmentToken();
    const r = await this.run<'tenant.create', CreatedTenant>('tenant.create', { ...i, enrollTokenHash: hashSecret(token) });
    return { ...r, enrollmentToken: await this.tokenOf('tenant.create', i.idempotencyKey, token) };
  };
  /**
   * A new enrollment token for a tenant (SPEC Z2), made here: only its hash is enqueued. The old
   * one keeps enrolling for `graceSeconds` (default 0: it dies at once). Show the token once.
   */
  rotateToken = async (i: Omit<CallInput<'tenant.rotateToken'>, 'enrollTokenHash'>): Promise<RotationResult & { enrollmentToken: string }> => {
    const token = newEnrollmentToken();
    const r = await this.run<'tenant.rotateToken', RotationResult>('tenant.rotateToken', { ...i, enrollTokenHash: hashSecret(token) });
    return { ...r, enrollmentToken: await this.tokenOf('tenant.rotateToken', i.idempotencyKey, token) };
  };

  /**
   * The token this call made, if its job is the one that ran. A repeated idempotency key returns
   * the first job's result (A3), whose token was made — and shown — by the first call: then ''.
   */
  private async tokenOf(name: JobName, idempotencyKey: string | undefined, token: string): Promise<string> {
    if (idempotencyKey === undefined) return token; // a fresh random job id: this call's job
    const job = await this.queue.getJob(idempotencyKey);
    return job?.name === name && (job.data as { enrollTokenHash?: string }).enrollTokenHash === hashSecret(token) ? token : '';
  }
  renameTenant = (i: CallInput<'tenant.rename'>) => this.run<'tenant.rename', TenantInfo>('tenant.rename', i);
  /** Refused with TENANT_NOT_EMPTY while the tenant holds licenses, Clients or PAM users. */
  deleteTenant = (i: CallInput<'tenant.delete'>) => this.run<'tenant.delete', { tenantId: string; deleted: true }>('tenant.delete', i);
  grant = (i: CallInput<'tenant.grant'>) => this.run<'tenant.grant', { tenantId: string; type: LicenseTypeName; granted: number; promoted: string[] }>('tenant.grant', i);
  takeBack = (i: CallInput<'tenant.takeBack'>) => this.run<'tenant.takeBack', { tenantId: string; type: LicenseTypeName; takenBack: number; unassigned: string[] }>('tenant.takeBack', i);
  assign = (i: CallInput<'client.assign'>) => this.run<'client.assign', ClientState & { reclaimed: string | null }>('client.assign', i);
  unassign = (i: CallInput<'client.unassign'>) => this.run<'client.unassign', ClientState & { promoted: string[] }>('client.unassign', i);
  uninstall = (i: CallInput<'client.uninstall'>) => this.run<'client.uninstall', ClientState & { promoted: string[] }>('client.uninstall', i);
  createUser = (i: CallInput<'user.create'>) => this.run<'user.create', PamUser>('user.create', i);
  pamAssign = (i: CallInput<'pam.assign'>) => this.run<'pam.assign', { userId: string; seat: boolean; changed: boolean }>('pam.assign', i);
  pamUnassign = (i: CallInput<'pam.unassign'>) => this.run<'pam.unassign', { userId: string; seat: boolean; changed: boolean }>('pam.unassign', i);
  setPolicy = (i: CallInput<'policy.set'>) => this.run<'policy.set', Required<TenantPolicy> & { tenantId: string }>('policy.set', i);
  setLimits = (i: CallInput<'tenant.limits'>) => this.run<'tenant.limits', TenantLimits>('tenant.limits', i);

  async close(): Promise<void> {
    const events = await this.events.catch(() => null);
    await events?.close();
    await this.queue.close();
    for (const r of this.owned) await r.quit().catch(() => r.disconnect());
  }
}
