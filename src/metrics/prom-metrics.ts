/**
 * The Prometheus side of the Metrics interface (SPEC H4): one prom-client Registry per process
 * (not the global one: tests run several gateways in one process), the event counters and
 * histograms the components report into, the gauges read at scrape time from the gateway, and
 * the process metrics prom-client collects itself (event-loop lag, heap, open file descriptors).
 *
 * Cost: every label child is made here, once (catalogue codes, outcomes, job names are all
 * known in advance), so a report is a property read and an increment. Job names outside the
 * contract are reported as `unknown`: no label value ever comes from the outside.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ERRORS, type ErrorCode } from '../errors.ts';
import { JOB_NAMES } from '../jobs/contract.ts';
import { registerOpenFds } from './open-fds.ts';
import type { DoorbellKind, EnrollmentOutcome, HandshakeOutcome, JobOutcome, Metrics, RedisConnectionRole } from './instruments.ts';

/** What the connection gauges read at scrape time (the GatewayServer). */
export interface ConnectionSource {
  readonly connectionCount: number;
  /** Live connections: the Hello succeeded. */
  readonly authenticatedCount: number;
  /** Hellos waiting for a handshake slot (C13). */
  readonly helloQueueDepth: number;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const REDIS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const JOB_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** prom-client default metrics whose collection is O(open sockets): left out. */
const O_N_DEFAULTS = ['licensegate_nodejs_active_handles', 'licensegate_nodejs_active_handles_total', 'licensegate_nodejs_active_resources', 'licensegate_nodejs_active_resources_total'];
const JOB_OUTCOMES: readonly JobOutcome[] = ['completed', 'refused', 'failed'];

type Inc = { inc(): void };

/**
 * The child of these labels, its series written as 0 at once: Prometheus' rate() and
 * increase() need the zero before the first event, and the scrape shows every bounded value.
 */
function counterChild(counter: Counter, labels: Record<string, string>): Inc {
  const child = counter.labels(labels);
  child.inc(0);
  return child;
}

function histogramChild(histogram: Histogram, labels: Record<string, string>): Obs {
  histogram.zero(labels);
  return histogram.labels(labels);
}
type Obs = { observe(v: number): void };

export class PromMetrics implements Metrics {
  readonly enabled = true;
  readonly registry = new Registry();
  private connections: ConnectionSource | undefined;
  private readonly errors: Record<string, Inc> = {};
  private readonly handshakes: Record<HandshakeOutcome, Inc>;
  private readonly enrollments: Record<EnrollmentOutcome, Inc>;
  private readonly overloaded: Inc;
  private readonly redisHello: Obs;
  private readonly redisPing: Obs;
  private readonly reconnects: Record<RedisConnectionRole, Inc>;
  private readonly doorbellsIn: Record<DoorbellKind, Inc>;
  private readonly doorbellsOut: Inc;
  private readonly repairs: Inc;
  private readonly delivery: Obs;
  private readonly jobs = new Map<string, Record<JobOutcome, Inc>>();
  private readonly jobSeconds = new Map<string, Obs>();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'licensegate_' });
    registerOpenFds(this.registry);
    // Listing every handle and resource builds an array the size of the agent fleet at each
    // scrape (18,000 sockets per gateway): the connection gauges below count them for free.
    for (const name of O_N_DEFAULTS) this.registry.removeSingleMetric(name);
    const self = this;
    new Gauge({
      name: 'licensegate_connections',
      help: 'Open agent WebSocket connections on this gateway, by state (authenticated: the Hello succeeded).',
      labelNames: ['state'],
      registers,
      collect() {
        const c = self.connections;
        if (!c) return;
        this.set({ state: 'authenticated' }, c.authenticatedCount);
        this.set({ state: 'unauthenticated' }, Math.max(0, c.connectionCount - c.authenticatedCount));
      },
    });
    new Gauge({
      name: 'licensegate_hello_queue_depth',
      help: 'Hellos waiting for a handshake slot on this gateway (SPEC C13).',
      registers,
      collect() {
        if (self.connections) this.set(self.connections.helloQueueDepth);
      },
    });
    const errors = new Counter({ name: 'licensegate_refusals_total', help: 'Error frames sent to agents, by catalogue code (refusals, and closes such as SUPERSEDED or SHUTTING_DOWN).', labelNames: ['code'], registers });
    for (const code of Object.keys(ERRORS)) this.errors[code] = counterChild(errors, { code });
    this.overloaded = new Counter({ name: 'licensegate_overloaded_total', help: 'OVERLOADED refusals (connection cap, handshake slots, Hello queue full or waited too long).', registers });
    const handshakes = new Counter({ name: 'licensegate_handshakes_total', help: 'Hellos that ran the Hello script, by outcome (welcome or refused).', labelNames: ['outcome'], registers });
    this.handshakes = { welcome: counterChild(handshakes, { outcome: 'welcome' }), refused: counterChild(handshakes, { outcome: 'refused' }) };
    const enrollments = new Counter({ name: 'licensegate_enrollments_total', help: 'Hellos carrying the enrollment token, by outcome (registered a new Client, found it existing, refused).', labelNames: ['outcome'], registers });
    this.enrollments = { registered: counterChild(enrollments, { outcome: 'registered' }), existing: counterChild(enrollments, { outcome: 'existing' }), refused: counterChild(enrollments, { outcome: 'refused' }) };
    const redis = new Histogram({ name: 'licensegate_redis_command_duration_seconds', help: 'Round trips to Redis: the Hello script of each handshake and a PING at each scrape.', labelNames: ['command'], buckets: REDIS_BUCKETS, registers });
    this.redisHello = histogramChild(redis, { command: 'hello' });
    this.redisPing = histogramChild(redis, { command: 'ping' });
    const reconnects = new Counter({ name: 'licensegate_redis_reconnects_total', help: 'Times ioredis began reconnecting, by connection (gateway commands, bullmq).', labelNames: ['connection'], registers });
    this.reconnects = { gateway: counterChild(reconnects, { connection: 'gateway' }), bullmq: counterChild(reconnects, { connection: 'bullmq' }) };
    const bellsIn = new Counter({ name: 'licensegate_doorbells_received_total', help: 'Messages on this node\'s doorbell channels, by kind (cmd, supersede, malformed).', labelNames: ['kind'], registers });
    this.doorbellsIn = { cmd: counterChild(bellsIn, { kind: 'cmd' }), supersede: counterChild(bellsIn, { kind: 'supersede' }), malformed: counterChild(bellsIn, { kind: 'malformed' }) };
    this.doorbellsOut = new Counter({ name: 'licensegate_doorbells_sent_total', help: 'Doorbells this node published (supersedes; command doorbells are published by the Lua scripts).', registers });
    this.repairs = new Counter({ name: 'licensegate_seq_repairs_total', help: 'Command logs repaired after Redis lost writes under a live connection (SPEC F4).', registers });
    this.delivery = new Histogram({ name: 'licensegate_command_delivery_seconds', help: 'Commands delivered to live agents: time from the append to the log (Redis TIME) to the agent\'s ack.', buckets: LATENCY_BUCKETS, registers });
    const jobs = new Counter({ name: 'licensegate_admin_jobs_total', help: 'Admin job attempts run by this process\'s worker, by job name and outcome.', labelNames: ['job', 'outcome'], registers });
    const jobSeconds = new Histogram({ name: 'licensegate_admin_job_duration_seconds', help: 'Duration of admin job attempts, by job name.', labelNames: ['job'], buckets: JOB_BUCKETS, registers });
    for (const name of [...JOB_NAMES, 'unknown']) {
      this.jobs.set(name, Object.fromEntries(JOB_OUTCOMES.map((outcome) => [outcome, counterChild(jobs, { job: name, outcome })])) as Record<JobOutcome, Inc>);
      this.jobSeconds.set(name, histogramChild(jobSeconds, { job: name }));
    }
  }

  /** The gateway whose connections the gauges describe (set once it exists). */
  watchConnections(source: ConnectionSource): void {
    this.connections = source;
  }

  errorSent(code: ErrorCode): void {
    this.errors[code]?.inc();
    if (code === 'OVERLOADED') this.overloaded.inc();
  }

  handshake(outcome: HandshakeOutcome, enrolling: boolean, registered: boolean): void {
    this.handshakes[outcome].inc();
    if (enrolling) this.enrollments[outcome === 'refused' ? 'refused' : registered ? 'registered' : 'existing'].inc();
  }

  redisRoundTrip(op: 'hello' | 'ping', seconds: number): void {
    (op === 'hello' ? this.redisHello : this.redisPing).observe(seconds);
  }

  redisReconnect(role: RedisConnectionRole): void {
    this.reconnects[role].inc();
  }

  doorbellReceived(kind: DoorbellKind): void {
    this.doorbellsIn[kind].inc();
  }

  doorbellSent(): void {
    this.doorbellsOut.inc();
  }

  seqRepaired(): void {
    this.repairs.inc();
  }

  commandAcked(seconds: number): void {
    this.delivery.observe(seconds < 0 ? 0 : seconds);
  }

  adminJob(name: string, outcome: JobOutcome, seconds: number): void {
    const known = this.jobs.has(name) ? name : 'unknown';
    this.jobs.get(known)![outcome].inc();
    this.jobSeconds.get(known)!.observe(seconds);
  }
}
