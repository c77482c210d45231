/**
 * The load driver: a separate process (so the gateway is measured alone) that runs the
 * benchmark fleet with agent-sim's Agent class, or bare WebSocket clients for the baselines,
 * and measures everything on its own clock (performance.now()).
 *
 * Connects run as a closed loop: `concurrency` handshakes in flight until `count` are done, the
 * same for the gateway and for the bare-ws baseline. Every wait is bounded by a deadline.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Queue, type JobsOptions } from 'bullmq';
import { createRedis } from '../../src/store/redis-connection.ts';
import type { RedisTarget } from '../../src/store/redis-target.ts';
import WebSocket from 'ws';
import { Agent, AgentError, type AgentCommand } from '../../agent-sim/agent.ts';
import { Histogram, type HistogramData } from '../../agent-sim/histogram.ts';
import { clientTls } from '../../agent-sim/tls-options.ts';
import { ADMIN_QUEUE } from '../../src/jobs/contract.ts';
import { TECHNICIAN } from '../../src/licensing/permissions.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { clientIdOf, osOfAgent } from '../lib/fleet.ts';
import { markFailover, probeEnroll, servedView, watchForFailover, type ProbeParams } from './failover-view.ts';
import { markOutages, outageView, watchOutages } from './outage-view.ts';
import { serveRequests } from '../lib/ipc.ts';
import { epochNow, RAW_HEARTBEAT_FRAME, RAW_HELLO, RAW_PUSH, rawHello } from '../lib/raw-protocol.ts';

/**
 * Codes after which a connect is tried again (the gateway asked to wait, or the socket failed;
 * HELLO_TIMEOUT: a driver that opened thousands of sockets at once sent this one's Hello late).
 */
const RETRYABLE = new Set(['OVERLOADED', 'HANDSHAKE_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_CLOSING', 'HELLO_TIMEOUT']);
const MAX_ATTEMPTS = 6;
/** The job options AdminClient uses (src/admin/client.ts), so jobs cost the worker the same. */
const JOB_OPTIONS: JobsOptions = { attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 7 * 86_400 } };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function tally(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

/** Runs fn(0..count-1) with at most `concurrency` in flight; stops starting new ones after the deadline. */
async function closedLoop(count: number, concurrency: number, deadline: number, fn: (i: number) => Promise<void>): Promise<{ started: number }> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      await fn(i);
    }
  });
  await Promise.all(lanes);
  return { started: next };
}

function sourceIp(list: string[], i: number): string | undefined {
  return list.length ? list[i % list.length] : undefined;
}

// --- agents ------------------------------------------------------------------------------------

let agents: Agent[] = [];
/** Non-duplicate commands received since the counter was reset, by kind. */
let commandsSeen: Record<string, number> = {};
/** Called for every command an agent receives (stop-latency hooks in here). */
let commandHook: ((i: number, cmd: AgentCommand) => void) | null = null;

function watch(agent: Agent, i: number): Agent {
  agent.on('command', (cmd) => {
    if (!cmd.duplicate) tally(commandsSeen, cmd.kind);
    commandHook?.(i, cmd);
  });
  agent.on('error', () => {}); // local faults are counted through connect() failures
  watchForFailover(agent, i);
  watchOutages(agent, i);
  return agent;
}

interface ConnectParams {
  url: string;
  count: number;
  prefix: string;
  token: string;
  concurrency: number;
  timeoutMs: number;
  sourceIps: string[];
  /** Wait for StartMonitoring after Welcome (time to license). */
  waitLicense: boolean;
  handshakeTimeoutMs?: number;
  /** Agent i enrolls in tenants[i % length] with its token (default: the default tenant, `token`). */
  tenants?: { id: string; token: string }[];
  /** Several gateways: agent i's failover list starts at urls[i % length] (default [url]). */
  urls?: string[];
  /** Agents reconnect by themselves after a close (agent-sim's backoff), e.g. through a failover. */
  reconnect?: boolean;
  /** wss:// (SPEC Z1): the CA of the gateway's certificate; one secure context shared by the fleet, as agent-sim does. */
  caFile?: string;
}

/** One agent's connect with retries: resolves with the failure code, or '' on success. */
async function connectAgent(agent: Agent, deadline: number, failures: Record<string, number>, attempts: { n: number }): Promise<string> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    attempts.n++;
    try {
      await agent.connect();
      return '';
    } catch (err) {
      const code = err instanceof AgentError ? err.code : 'THROWN';
      tally(failures, code);
      if (!RETRYABLE.has(code) || performance.now() >= deadline) return code;
      const wait = Math.max(err instanceof AgentError ? err.retryAfterMs : 0, 50 * 2 ** attempt);
      await sleep(Math.min(wait, Math.max(0, deadline - performance.now())));
    }
  }
  return 'TOO_MANY_ATTEMPTS';
}

async function runConnects(p: ConnectParams, make: (i: number) => Agent) {
  const t0 = performance.now();
  const deadline = t0 + p.timeoutMs;
  const welcome = new Histogram();
  const license = new Histogram();
  const failures: Record<string, number> = {};
  const finalFailures: Record<string, number> = {};
  const attempts = { n: 0 };
  let welcomed = 0;
  let licensedAtWelcome = 0;
  let licensed = 0;
  let lastDone = t0;
  const { started } = await closedLoop(p.count, p.concurrency, deadline, async (i) => {
    const agent = make(i);
    agents[i] = agent;
    const start = performance.now();
    const failed = await connectAgent(agent, deadline, failures, attempts);
    if (failed) {
      tally(finalFailures, failed);
      return;
    }
    welcomed++;
    welcome.record(performance.now() - start);
    if (agent.license?.licensed) licensedAtWelcome++;
    if (p.waitLicense) {
      try {
        await agent.waitFor(() => agent.monitoring, Math.max(1, deadline - performance.now()));
        licensed++;
        license.record(performance.now() - start);
      } catch {
        tally(finalFailures, agent.license?.licensed ? 'NO_START_MONITORING' : `UNLICENSED_${agent.license?.reason ?? 'UNKNOWN'}`);
        return;
      }
    }
    lastDone = performance.now();
  });
  const elapsedMs = lastDone - t0;
  const done = p.waitLicense ? licensed : welcomed;
  return {
    count: p.count,
    started,
    welcomed,
    licensed,
    licensedAtWelcome,
    elapsedMs: Math.round(elapsedMs),
    ratePerSec: elapsedMs > 0 ? Math.round((done / elapsedMs) * 1000 * 10) / 10 : 0,
    timeToWelcome: welcome.summary(),
    timeToLicense: p.waitLicense ? license.summary() : null,
    attempts: attempts.n,
    failuresByCode: failures,
    finalFailures,
    timedOut: performance.now() >= deadline,
  };
}

async function enroll(p: ConnectParams) {
  commandsSeen = {};
  agents = new Array<Agent>(p.count);
  const rotated = (i: number) => (p.urls ? p.urls.map((_, k) => p.urls![(i + k) % p.urls!.length]!) : undefined);
  const tls = clientTls(p.caFile ? { caFile: p.caFile } : undefined);
  return runConnects(p, (i) =>
    watch(
      new Agent({
        url: p.urls?.[i % p.urls.length] ?? p.url,
        ...(p.urls ? { urls: rotated(i) } : {}),
        ...(p.reconnect ? { reconnect: true, backoff: { baseMs: 100, capMs: 2_000 } } : {}),
        ...(p.tenants ? { tenantId: p.tenants[i % p.tenants.length]!.id } : {}),
        clientId: clientIdOf(p.prefix, i),
        enrollmentToken: p.tenants ? p.tenants[i % p.tenants.length]!.token : p.token,
        os: osOfAgent(i),
        localAddress: sourceIp(p.sourceIps, i),
        handshakeTimeoutMs: p.handshakeTimeoutMs ?? 30_000,
        ...(tls ? { tls } : {}),
      }),
      i,
    ),
  );
}

/** The same fleet (credentials, lastAckedSeq) connects to `url` again. */
async function reconnect(p: ConnectParams & { settleMs: number }) {
  const previous = agents;
  if (previous.length < p.count) throw new Error(`only ${previous.length} agents to reconnect`);
  const noCredential = previous.filter((a) => !a?.credential).length;
  commandsSeen = {};
  agents = new Array<Agent>(p.count);
  const result = await runConnects({ ...p, waitLicense: false }, (i) => {
    const old = previous[i]!;
    return watch(
      Agent.fromState(old.toState(), {
        url: p.url,
        localAddress: sourceIp(p.sourceIps, i),
        handshakeTimeoutMs: p.handshakeTimeoutMs ?? 30_000,
        ...(p.reconnect ? { reconnect: true, backoff: { baseMs: 100, capMs: 2_000 } } : {}),
      }),
      i,
    );
  });
  await sleep(p.settleMs); // commands that would follow the Welcomes (there should be none)
  const lostLicense = agents.filter((a) => a && a.license && !a.license.licensed).length;
  return { ...result, noCredential, lostLicense, commandsAfterReconnect: { ...commandsSeen } };
}

async function closeAgents(timeoutMs: number) {
  const list = agents.filter(Boolean);
  const closeAll = Promise.all(list.map((a) => a.close().catch(() => {})));
  await Promise.race([closeAll, sleep(timeoutMs)]);
  for (const a of list) if (a.connected) a.terminate();
  return { closed: list.length };
}

function agentCounts() {
  let connected = 0;
  let monitoring = 0;
  for (const a of agents) {
    if (!a) continue;
    if (a.connected) connected++;
    if (a.monitoring) monitoring++;
  }
  return { agents: agents.filter(Boolean).length, connected, monitoring, commands: { ...commandsSeen } };
}

/** Schedules `count` calls of fn at `rate` per second (not waiting for each), then waits for all. */
/** The driver's own event-loop delay over a window (ms): its timers and sockets wait this long. */
function loopSummary(h: IntervalHistogram): { mean: number; p50: number; p99: number; max: number } {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return { mean: ms(h.mean), p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
}

async function atRate(count: number, rate: number, fn: (k: number) => Promise<void>): Promise<void> {
  const t0 = performance.now();
  const all: Promise<void>[] = [];
  for (let k = 0; k < count; k++) {
    const due = t0 + (k * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    all.push(fn(k));
  }
  await Promise.all(all);
}

interface RateParams {
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
async function unassignRun(p: RateParams) {
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
  const notMonitoring = agents.slice(from, from + p.count).filter((a) => !a?.monitoring).length;
  commandHook = (i, cmd) => {
    const k = i - from;
    if (cmd.kind !== 'stop' || cmd.duplicate || k < 0 || k >= p.count || sentAt[k] === 0) return;
    latency.record(performance.now() - sentAt[k]!);
    receivedEpoch[k] = epochNow();
    sentAt[k] = 0;
    if (++received === p.count) allReceived();
  };
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
        const job = await queue.add('client.unassign', { actor: TECHNICIAN, tenantId: DEFAULT_TENANT, clientId: agents[from + k]!.clientId }, JOB_OPTIONS);
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
    commandHook = null;
    await queue.close().catch(() => {});
    connection.disconnect();
  }
}

// --- bare WebSocket clients -------------------------------------------------------------------

interface RawClient {
  ws: WebSocket;
  timer: NodeJS.Timeout | null;
}

let raws: RawClient[] = [];
/** Called with (index, workerEpochMs) when a push arrives. */
let pushHook: ((i: number, workerEpoch: number) => void) | null = null;

function openRaw(url: string, index: number, localAddress: string | undefined, heartbeatMs: number, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress });
    const client: RawClient = { ws, timer: null };
    raws[index] = client;
    let welcomed = false;
    const deadline = setTimeout(() => {
      ws.terminate();
      reject(new Error('HANDSHAKE_TIMEOUT'));
    }, timeoutMs);
    ws.on('open', () => ws.send(rawHello(index), { binary: true }));
    ws.on('message', (data: Buffer) => {
      const type = data[0];
      if (type === RAW_HELLO && !welcomed) {
        welcomed = true;
        clearTimeout(deadline);
        if (heartbeatMs > 0) {
          client.timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(RAW_HEARTBEAT_FRAME, { binary: true }), heartbeatMs);
          client.timer.unref();
        }
        resolve();
      } else if (type === RAW_PUSH) {
        pushHook?.(data.readUInt32BE(1), data.readDoubleBE(5));
      }
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      if (client.timer) clearInterval(client.timer);
      client.timer = null;
      if (!welcomed) {
        clearTimeout(deadline);
        reject(new Error('CONNECTION_CLOSED'));
      }
    });
  });
}

async function rawConnect(p: { url: string; count: number; concurrency: number; timeoutMs: number; sourceIps: string[]; heartbeatMs: number }) {
  raws = new Array<RawClient>(p.count);
  const t0 = performance.now();
  const deadline = t0 + p.timeoutMs;
  const latency = new Histogram();
  const failures: Record<string, number> = {};
  let ok = 0;
  let lastDone = t0;
  await closedLoop(p.count, p.concurrency, deadline, async (i) => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const start = performance.now();
      try {
        await openRaw(p.url, i, sourceIp(p.sourceIps, i), p.heartbeatMs, Math.max(1, Math.min(30_000, deadline - start)));
        latency.record(performance.now() - start);
        ok++;
        lastDone = performance.now();
        return;
      } catch (err) {
        tally(failures, (err as Error).message);
        if (performance.now() >= deadline) return;
        await sleep(50 * 2 ** attempt);
      }
    }
  });
  const elapsedMs = lastDone - t0;
  return {
    count: p.count,
    connected: ok,
    elapsedMs: Math.round(elapsedMs),
    ratePerSec: elapsedMs > 0 ? Math.round((ok / elapsedMs) * 1000 * 10) / 10 : 0,
    roundTrip: latency.summary(),
    failuresByCode: failures,
    timedOut: performance.now() >= deadline,
  };
}

/** stop-latency baseline: jobs {i} on a no-op worker that pushes one frame to raw client i. */
async function pushRun(p: RateParams & { queueName: string }) {
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
  pushHook = (i, workerEpoch) => {
    const k = i - from;
    if (k < 0 || k >= p.count || sentAt[k] === 0) return;
    const now = performance.now();
    const nowEpoch = epochNow();
    latency.record(now - sentAt[k]!);
    toWorker.record(workerEpoch - sentEpoch[k]!);
    push.record(nowEpoch - workerEpoch);
    sentAt[k] = 0;
    if (++received === p.count) allReceived();
  };
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
    pushHook = null;
    await queue.close().catch(() => {});
    connection.disconnect();
  }
}

async function closeRaws(timeoutMs: number) {
  const list = raws.filter(Boolean);
  const closed = Promise.all(
    list.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.timer) clearInterval(c.timer);
          if (c.ws.readyState === WebSocket.CLOSED) return resolve();
          c.ws.once('close', () => resolve());
          c.ws.close(1000);
        }),
    ),
  );
  await Promise.race([closed, sleep(timeoutMs)]);
  for (const c of list) if (c.ws.readyState !== WebSocket.CLOSED) c.ws.terminate();
  raws = [];
  return { closed: list.length };
}

serveRequests(
  {
    enroll: (p) => enroll(p as unknown as ConnectParams),
    reconnect: (p) => reconnect(p as unknown as ConnectParams & { settleMs: number }),
    counts: () => agentCounts(),
    'close-agents': (p) => closeAgents(Number(p.timeoutMs ?? 10_000)),
    'unassign-run': (p) => unassignRun(p as unknown as RateParams),
    'raw-connect': (p) => rawConnect(p as unknown as Parameters<typeof rawConnect>[0]),
    'push-run': (p) => pushRun(p as unknown as RateParams & { queueName: string }),
    'close-raws': (p) => closeRaws(Number(p.timeoutMs ?? 10_000)),
    'failover-mark': () => markFailover(),
    'failover-view': () => servedView(agents),
    'probe-enroll': (p) => probeEnroll(Agent, p as unknown as ProbeParams),
    'outage-mark': () => markOutages(),
    'outage-view': () => outageView(agents),
    'forget-agents': () => {
      const n = agents.length;
      for (const a of agents) if (a?.connected) a.terminate();
      agents = [];
      return { forgotten: n };
    },
  },
  { pid: process.pid },
);
