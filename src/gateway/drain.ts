/**
 * Graceful drain (SPEC X4): a gateway told to stop first leaves the balancer's rotation
 * (`/readyz` answers 503 from the first instant: GatewayServer.ready), waits `noticeMs` so
 * that the balancer's health check notices, then hands its agents to the other gateways in
 * slices spread evenly over `windowMs`. Each agent gets Error SHUTTING_DOWN (close 1001) with a
 * small jittered retry hint and is recorded offline as an ordinary disconnect (token-guarded,
 * so a reconnect that reached another gateway first is never undone): licenses do not move.
 *
 * Why slices and jitter: closing 18,000 agents at once would send them all to the remaining
 * gateways in the same second — the very herd admission control then has to refuse. Spread
 * over the window, the other gateways see a steady trickle they serve at their paced rate.
 *
 * The schedule is pure timing over a DrainTarget, so the gateway keeps the sockets and Redis.
 */
import type { Logger } from 'pino';
import { LicensegateError } from '../errors.ts';
import type { AgentConnection } from './agent-connection.ts';
import { withTimeout } from './periodic-tasks.ts';
import type { DisconnectEntry, SessionStore } from './session-store.ts';

/** One slice of agents is closed this often (a slice per ~200 ms: smooth, few timers). */
export const DRAIN_SLICE_MS = 200;
/** After the last slice, how long the drain waits for its offline records (then stop() goes on). */
const RECORD_LIMIT_MS = 5_000;
/**
 * How long a handed-over non-persistent Client keeps its license while it reconnects elsewhere
 * (C12 frees it on disconnect): a retry hint (≤ 1 s) plus a handshake on a busy gateway.
 */
export const HANDOVER_GRACE_MS = 5_000;
/** Retry hints told to drained agents are spread over [1, this] ms. */
export const DRAIN_RETRY_JITTER_MS = 1_000;

export interface DrainPlan {
  /** Time for the balancer to notice `/readyz` = 503 before any agent is closed (DRAIN_NOTICE_MS). */
  noticeMs: number;
  /** Window over which the agents are closed (DRAIN_SECONDS × 1000). */
  windowMs: number;
  /** Source of the retry-hint jitter; default Math.random. */
  random?: () => number;
}

export interface DrainTarget<C> {
  /** Connections not yet closed, oldest first. */
  open(): C[];
  /** Closes these connections with `refusal` each and records the live ones offline. */
  closeSlice(conns: C[], refusal: () => LicensegateError): Promise<void>;
  /** Closed agents whose offline record waits for the grace (non-persistent Clients). */
  pendingHandovers?(): number;
  /** Records those offline now, token-guarded: the ones that reconnected elsewhere are left alone. */
  releaseHandovers?(): Promise<void>;
}

export interface DrainReport {
  /** Connections open when the drain started. */
  connections: number;
  /** Connections the drain closed (others left by themselves meanwhile). */
  closed: number;
  slices: number;
  elapsedMs: number;
  /** A second signal cut the drain short; the caller stops at once. */
  aborted: boolean;
}

/** SHUTTING_DOWN with a retry hint jittered over [1, DRAIN_RETRY_JITTER_MS] ms. */
export function drainRefusal(random: () => number = Math.random): LicensegateError {
  const retryAfterMs = 1 + Math.min(DRAIN_RETRY_JITTER_MS - 1, Math.floor(random() * DRAIN_RETRY_JITTER_MS));
  return new LicensegateError('SHUTTING_DOWN', 'draining: reconnect to another gateway', { retryAfterMs });
}

/**
 * Runs the drain's schedule: notice, then `ceil(windowMs / DRAIN_SLICE_MS)` slices at even
 * intervals (never closer than half a slice: a late process stretches the window), slice k
 * closing ceil(open / slices left) of the connections still open (agents that left by
 * themselves shrink later slices). Skips every wait while nothing is connected; resolves
 * early when `signal` aborts. Never throws: a slice whose offline records fail is logged (the
 * node's own reconciliation and its peers' liveness checks repair presence, F1); records still
 * pending after the last slice are waited for at most RECORD_LIMIT_MS.
 */
export async function runDrain<C>(target: DrainTarget<C>, plan: DrainPlan, log: Logger, signal?: AbortSignal): Promise<DrainReport> {
  const started = Date.now();
  const random = plan.random ?? Math.random;
  const connections = target.open().length;
  const slices = Math.max(1, Math.ceil(plan.windowMs / DRAIN_SLICE_MS));
  const report: DrainReport = { connections, closed: 0, slices: 0, elapsedMs: 0, aborted: false };
  log.info({ connections, noticeMs: plan.noticeMs, windowMs: plan.windowMs, slices }, 'drain started');
  await waitWhileConnected(target, plan.noticeMs, signal);
  const closingFrom = Date.now();
  const recording: Promise<void>[] = [];
  for (let k = 0; k < slices && !signal?.aborted; k++) {
    const open = target.open();
    if (open.length === 0) break;
    // Slices keep at least half a slice apart: after a stall (a descheduled process) the late
    // slices stretch the window instead of all going in one burst, which would be a herd.
    const due = closingFrom + (k * plan.windowMs) / slices - Date.now();
    await sleep(k === 0 ? due : Math.max(due, DRAIN_SLICE_MS / 2), signal);
    if (signal?.aborted) break;
    const now = target.open();
    if (now.length === 0) break;
    const slice = now.slice(0, Math.ceil(now.length / (slices - k)));
    report.slices++;
    report.closed += slice.length;
    // Not awaited: a slow or unreachable Redis must not hold up the closes' schedule.
    recording.push(target.closeSlice(slice, () => drainRefusal(random)).catch((err: unknown) => log.error({ err, agents: slice.length }, 'drain could not record a slice offline; reconciliation will')));
  }
  report.aborted = signal?.aborted ?? false;
  await withTimeout(Promise.all(recording), RECORD_LIMIT_MS).catch(() => log.error({ ms: RECORD_LIMIT_MS }, 'drain: offline records still pending; stopping anyway'));
  if (target.pendingHandovers && target.pendingHandovers() > 0) {
    // Non-persistent Clients free their license on disconnect (C12): recorded offline at once,
    // each would free it and take a license again on the next gateway — a license change, and
    // a waiting Client could take it meanwhile. Their records wait out the grace instead; an
    // agent that reconnected elsewhere holds a new record the token-guarded release leaves alone.
    await sleep(HANDOVER_GRACE_MS, signal);
    await withTimeout(target.releaseHandovers!(), RECORD_LIMIT_MS).catch((err: unknown) => log.error({ err }, 'drain: could not release handed-over non-persistent Clients; reconciliation will'));
  }
  report.elapsedMs = Date.now() - started;
  log.info({ ...report, left: target.open().length }, 'drain finished');
  return report;
}

/** Waits up to ms, ending early when nothing is connected any more or on abort. */
async function waitWhileConnected<C>(target: DrainTarget<C>, ms: number, signal?: AbortSignal): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && target.open().length > 0 && !signal?.aborted) {
    await sleep(Math.min(DRAIN_SLICE_MS / 2, until - Date.now()), signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Closes one slice: each connection gets `refusal()`; the live ones leave `byClient` first (so
 * their close leaves the record alone, as in GatewayServer.stop()) and are recorded offline in
 * one pipeline, token-guarded (disconnect-1.lua) — except non-persistent Clients, whose records
 * go to `deferred` for runDrain's grace (C12).
 */
export async function handOver(conns: AgentConnection[], byClient: Map<string, AgentConnection>, sessions: SessionStore, refusal: () => LicensegateError, deferred: DisconnectEntry[]): Promise<void> {
  const offline: DisconnectEntry[] = [];
  for (const conn of conns) {
    if (conn.state === 'live' && byClient.get(conn.key) === conn) {
      byClient.delete(conn.key);
      (conn.nonPersistent ? deferred : offline).push({ tenantId: conn.tenantId, clientId: conn.clientId, connToken: conn.token });
    }
    conn.fail(refusal());
  }
  await sessions.disconnectMany(offline);
}
