/**
 * The driver's agent fleet (agent-sim's Agent class): enroll and reconnect storms run as a closed
 * loop with retries, and the fleet's counts. The fleet lives here; the job runs, the failover
 * and outage views read it through fleet().
 */
import { Agent, AgentError, type AgentCommand } from '../../agent-sim/agent.ts';
import { Histogram } from '../../agent-sim/histogram.ts';
import { clientTls } from '../../agent-sim/tls-options.ts';
import { clientIdOf, osOfAgent } from '../lib/fleet.ts';
import { closedLoop, MAX_ATTEMPTS, sleep, sourceIp, tally } from '../lib/driver-loops.ts';
import { watchForFailover } from './failover-view.ts';
import { watchOutages } from './outage-view.ts';

/**
 * Codes after which a connect is tried again (the gateway asked to wait, or the socket failed;
 * HELLO_TIMEOUT: a driver that opened thousands of sockets at once sent this one's Hello late).
 */
const RETRYABLE = new Set(['OVERLOADED', 'HANDSHAKE_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_CLOSING', 'HELLO_TIMEOUT']);

let agents: Agent[] = [];
/** Non-duplicate commands received since the counter was reset, by kind. */
let commandsSeen: Record<string, number> = {};
/** Called for every command an agent receives (stop-latency hooks in here). */
let commandHook: ((i: number, cmd: AgentCommand) => void) | null = null;

/** The current fleet, by index (holes where a connect was never started). */
export function fleet(): Agent[] {
  return agents;
}

export function setCommandHook(hook: ((i: number, cmd: AgentCommand) => void) | null): void {
  commandHook = hook;
}

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

export interface ConnectParams {
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

export async function enroll(p: ConnectParams) {
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
export async function reconnect(p: ConnectParams & { settleMs: number }) {
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

export async function closeAgents(timeoutMs: number) {
  const list = agents.filter(Boolean);
  const closeAll = Promise.all(list.map((a) => a.close().catch(() => {})));
  await Promise.race([closeAll, sleep(timeoutMs)]);
  for (const a of list) if (a.connected) a.terminate();
  return { closed: list.length };
}

export function agentCounts() {
  let connected = 0;
  let monitoring = 0;
  for (const a of agents) {
    if (!a) continue;
    if (a.connected) connected++;
    if (a.monitoring) monitoring++;
  }
  return { agents: agents.filter(Boolean).length, connected, monitoring, commands: { ...commandsSeen } };
}

/** Drops the fleet without closing handshakes (connected agents are terminated). */
export function forgetAgents() {
  const n = agents.length;
  for (const a of agents) if (a?.connected) a.terminate();
  agents = [];
  return { forgotten: n };
}
