/**
 * herd (SPEC C13, X5): the whole fleet connects at once, with no throttle in the driver
 * (concurrency = fleet size): admission control — MAX_HANDSHAKES / MAX_ENROLLMENTS and the
 * Hello queue (src/gateway/hello-queue.ts) — does the pacing. Two rows:
 *
 * - `herd`: first connects with the enrollment token. Value: served/s, first connect → the last
 *   agent licensed (its Welcome says licensed and StartMonitoring arrived), as boot-storm counts.
 * - `herd-reconnect`: the fleet enrolled, the gateway restarted (SIGTERM), everyone reconnects
 *   at once with its credential. Value: agents back online and still licensed per second.
 *
 * Baseline, in the same run: the same fleet arriving paced, PACED_CONCURRENCY connects in
 * flight (today's boot-storm style). Goal: herd ≥ 0.8 × paced. Each trial runs two fresh stacks
 * (order alternating): stack H enrolls as a herd, restarts, reconnects as a herd, restarts,
 * reconnects paced; stack P enrolls paced. Value = the median trial, ratio = the median of the
 * per-trial ratios herd / paced. details: OVERLOADED refusals (every one costs the agent a new
 * TCP + WebSocket handshake), connect attempts, time until all served, and `withoutQueue`: one
 * herd (boot and reconnect) on a gateway with HELLO_QUEUE_MAX=0, i.e. today's refusal rule.
 *
 * The driver and the gateway each hold the whole fleet's sockets (≤ 18,000 under the 20,000
 * open-files cap).
 */
import { loadavg } from 'node:os';
import { poolFor } from '../lib/fleet.ts';
import { CpuWindow } from '../lib/proc-stats.ts';
import { connectTimeoutMs, medianTrial, type ScenarioContext, type ScenarioDef } from '../lib/scenario.ts';
import { ENROLLMENT_TOKEN } from '../lib/setup.ts';
import { startStack, type Stack } from '../lib/stack.ts';
import type { ScenarioResult } from '../lib/types.ts';
import type { EnrollResult } from './boot-storm.ts';

export const GOAL_HERD = 0.8;
/** Connects in flight for the paced baseline. */
export const PACED_CONCURRENCY = 500;
/**
 * The agents' handshake deadline (connect → Welcome), herd and paced alike. Long on purpose: one
 * driver process opens the whole fleet at once, and on a busy 2-core box its own event loop is
 * late to read Welcomes that have arrived; with agent-sim's 10 s (or the bench's usual 30 s) its
 * agents gave up and reconnected by the ten thousand (22,566 HANDSHAKE_TIMEOUT in one 15,000
 * herd), a driver artefact a real fleet — one agent per machine — does not have. The gateway
 * still bounds each Hello's wait by HELLO_QUEUE_WAIT_MS and answers OVERLOADED beyond it.
 */
const HANDSHAKE_TIMEOUT_MS = 120_000;
/**
 * The gateways' HELLO_QUEUE_WAIT_MS, set for these agents' deadline as an operator sets it for
 * theirs (default 6 s, for agent-sim's 10 s): with the default, a herd the gateway serves slower
 * than 15,000 / 6 s = 2,500/s is partly refused (each refusal one more TCP + WebSocket
 * handshake); `details.queueWaitMs` says which was used. `HERD_QUEUE_WAIT_MS=default` measures
 * the product default instead.
 */
const QUEUE_WAIT_MS = process.env.HERD_QUEUE_WAIT_MS === 'default' ? undefined : String(HANDSHAKE_TIMEOUT_MS - 20_000);
const QUEUE_ENV: Record<string, string> = QUEUE_WAIT_MS ? { HELLO_QUEUE_WAIT_MS: QUEUE_WAIT_MS } : {};

const fleetOf = (ctx: { opts: { agents: number | undefined; quick: boolean } }) => ctx.opts.agents ?? (ctx.opts.quick ? 2_000 : 15_000);
const trialsOf = (ctx: { opts: { quick: boolean } }) => (ctx.opts.quick ? 1 : 3);

/** One measured connect phase. */
interface Phase {
  served: number;
  rate: number;
  elapsedMs: number;
  overloaded: number;
  attempts: number;
  failuresByCode: Record<string, number>;
  finalFailures: Record<string, number>;
  timeToServe: unknown;
  cpuPercent: Record<string, number | null>;
}

type ConnectResult = EnrollResult & { attempts: number; failuresByCode: Record<string, number>; finalFailures: Record<string, number>; timeToWelcome: unknown; lostLicense?: number };

function phaseOf(r: ConnectResult, served: number, cpuPercent: Record<string, number | null>): Phase {
  return {
    served,
    rate: r.elapsedMs > 0 ? Math.round((served / r.elapsedMs) * 10_000) / 10 : 0,
    elapsedMs: r.elapsedMs,
    overloaded: r.failuresByCode.OVERLOADED ?? 0,
    attempts: r.attempts,
    failuresByCode: r.failuresByCode,
    finalFailures: r.finalFailures,
    timeToServe: r.timeToLicense ?? r.timeToWelcome,
    cpuPercent,
  };
}

async function measured(ctx: ScenarioContext, stack: Stack, label: string, profile: boolean, fn: () => Promise<ConnectResult>, served: (r: ConnectResult) => number): Promise<Phase> {
  const cpu = new CpuWindow(stack.pids());
  const r = profile ? await ctx.profile(label, stack.inspectors(), fn) : await fn();
  const p = phaseOf(r, served(r), cpu.stop());
  ctx.log(`${label}: ${p.served} served at ${p.rate}/s in ${p.elapsedMs} ms, ${p.overloaded} OVERLOADED, ${p.attempts} attempts`);
  return p;
}

function enroll(ctx: ScenarioContext, stack: Stack, n: number, concurrency: number): () => Promise<ConnectResult> {
  return () =>
    stack.driver.call<ConnectResult>('enroll', {
      url: stack.gateway.url,
      count: n,
      prefix: 'herd',
      token: ENROLLMENT_TOKEN,
      concurrency,
      timeoutMs: connectTimeoutMs(n),
      sourceIps: ctx.sizes.sourceIps,
      waitLicense: true,
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    });
}

/** Restarts the stack's gateway (SIGTERM: everyone gets 1001) and returns the reconnect call. */
async function restart(stack: Stack, ctx: ScenarioContext, n: number, concurrency: number): Promise<() => Promise<ConnectResult>> {
  await stack.gateway.stop();
  const gateway = await stack.restartGateway();
  return () =>
    stack.driver.call<ConnectResult>('reconnect', { url: gateway.url, count: n, concurrency, timeoutMs: connectTimeoutMs(n), sourceIps: ctx.sizes.sourceIps, settleMs: 200, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
}

const backOnline = (r: ConnectResult) => r.welcomed - (r.lostLicense ?? 0);

interface Trial {
  loadAverage: number[];
  herd: Phase;
  paced: Phase;
  reconnectHerd: Phase;
  reconnectPaced: Phase;
}

interface HerdStackOptions {
  env: Record<string, string>;
  enrollConcurrency: number;
  reconnects: ('herd' | 'paced')[];
  /** The measured stack (not the queue-off comparison): profiled in the first trial. */
  main: boolean;
}

/** Stack H: herd enrollment, then the reconnect herd and the paced reconnect (order alternating). */
async function herdStack(ctx: ScenarioContext, n: number, t: number, o: HerdStackOptions) {
  const stack = await startStack(ctx, { pool: poolFor(n), gatewayEnv: o.env });
  try {
    const tag = o.main ? '' : ' (queue off)';
    const label = `trial ${t + 1} ${o.enrollConcurrency === n ? 'herd' : 'paced enroll'}${tag}`;
    const herd = await measured(ctx, stack, label, t === 0 && o.main, enroll(ctx, stack, n, o.enrollConcurrency), (r) => r.licensed);
    const out: Partial<Record<'herd' | 'paced', Phase>> = {};
    for (const kind of t % 2 === 0 ? o.reconnects : [...o.reconnects].reverse()) {
      const call = await restart(stack, ctx, n, kind === 'herd' ? n : PACED_CONCURRENCY);
      out[kind] = await measured(ctx, stack, `trial ${t + 1} reconnect ${kind}${tag}`, t === 0 && kind === 'herd' && o.main, call, backOnline);
    }
    return { herd, reconnectHerd: out.herd, reconnectPaced: out.paced };
  } finally {
    await stack.stop();
  }
}

async function pacedStack(ctx: ScenarioContext, n: number, t: number): Promise<Phase> {
  const stack = await startStack(ctx, { pool: poolFor(n), gatewayEnv: QUEUE_ENV });
  try {
    return await measured(ctx, stack, `trial ${t + 1} paced`, false, enroll(ctx, stack, n, PACED_CONCURRENCY), (r) => r.licensed);
  } finally {
    await stack.stop();
  }
}

function row(unit: string, trials: Trial[], pick: (x: Trial) => { herd: Phase; paced: Phase }, n: number, extra: Record<string, unknown>): ScenarioResult {
  const pairs = trials.map((x) => {
    const { herd, paced } = pick(x);
    return { paced: paced.rate, herd: herd.rate, ratio: paced.rate > 0 ? Math.round((herd.rate / paced.rate) * 1000) / 1000 : 0 };
  });
  const { index } = medianTrial(pairs, (p) => p.herd);
  const ratios = pairs.map((p) => p.ratio).sort((a, b) => a - b);
  const paced = pairs.map((p) => p.paced).sort((a, b) => a - b);
  const ratio = ratios[Math.floor(ratios.length / 2)]!;
  const problems = trials.flatMap((x, i) => {
    const { herd, paced: p } = pick(x);
    return [...(herd.served !== n ? [`trial ${i + 1}: herd served only ${herd.served}/${n}: ${JSON.stringify(herd.finalFailures)}`] : []), ...(p.served !== n ? [`trial ${i + 1}: paced served only ${p.served}/${n}: ${JSON.stringify(p.finalFailures)}`] : [])];
  });
  const m = pick(trials[index]!);
  return {
    ...(problems.length ? { error: problems.join('; ') } : {}),
    value: pairs[index]!.herd,
    unit,
    baseline: paced[Math.floor(paced.length / 2)]!,
    baselineUnit: `${unit} (paced, ${PACED_CONCURRENCY} in flight)`,
    ratio,
    goal: `ratio ≥ ${GOAL_HERD}`,
    met: ratio >= GOAL_HERD && problems.length === 0,
    details: {
      agents: n,
      herdConcurrency: n,
      pacedConcurrency: PACED_CONCURRENCY,
      pairs,
      ratioMethod: 'median of per-trial ratios herd / paced (same trial, fresh stacks)',
      medianTrial: index + 1,
      overloaded: m.herd.overloaded,
      timeUntilAllServedMs: m.herd.elapsedMs,
      herd: m.herd,
      paced: m.paced,
      trials: trials.map((x) => ({ loadAverage: x.loadAverage, herd: pick(x).herd, paced: pick(x).paced })),
      ...extra,
    },
  };
}

export const herd: ScenarioDef = {
  name: 'herd',
  produces: ['herd', 'herd-reconnect'],
  rows: {
    herd: { unit: 'licensed/s', goal: `ratio ≥ ${GOAL_HERD}` },
    'herd-reconnect': { unit: 'online/s', goal: `ratio ≥ ${GOAL_HERD}` },
  },
  // Per trial two stacks and four connect phases, plus the queue-off stacks' three; a bound only
  // (a 15,000 herd phase takes seconds). Sizes.fleet does not know this scenario's 15,000.
  // On a busy 2-core box one 15,000 phase took up to 240 s.
  timeoutMs: (s) => 120_000 + (4 * 3 + 3) * (60_000 + Math.max(s.fleet, 15_000) * 10),
  async run(ctx) {
    const n = fleetOf(ctx);
    const trials: Trial[] = [];
    for (let t = 0; t < trialsOf(ctx); t++) {
      const loadAverage = loadavg().map((x) => Math.round(x * 100) / 100);
      let paced: Phase | undefined;
      if (t % 2 === 1) paced = await pacedStack(ctx, n, t);
      const h = await herdStack(ctx, n, t, { env: QUEUE_ENV, enrollConcurrency: n, reconnects: ['herd', 'paced'], main: true });
      paced ??= await pacedStack(ctx, n, t);
      trials.push({ loadAverage, herd: h.herd, paced, reconnectHerd: h.reconnectHerd!, reconnectPaced: h.reconnectPaced! });
    }
    // Today's rule for comparison: no queue, every Hello beyond the limits refused.
    // HERD_WITHOUT_QUEUE=skip leaves the comparison out (it takes minutes on a busy box).
    let withoutQueue: Record<string, unknown> = { skipped: 'HERD_WITHOUT_QUEUE=skip' };
    if (process.env.HERD_WITHOUT_QUEUE !== 'skip') {
      const offEnv = { HELLO_QUEUE_MAX: '0' };
      const offBoot = await herdStack(ctx, n, 0, { env: offEnv, enrollConcurrency: n, reconnects: [], main: false });
      // The reconnect herd needs the whole fleet enrolled, which a queue-off herd may not achieve.
      const offReconnect = await herdStack(ctx, n, 0, { env: offEnv, enrollConcurrency: PACED_CONCURRENCY, reconnects: ['herd'], main: false });
      withoutQueue = {
        note: 'HELLO_QUEUE_MAX=0: every Hello beyond MAX_HANDSHAKES / MAX_ENROLLMENTS refused with OVERLOADED (the rule before the Hello queue)',
        herd: pick(offBoot.herd),
        reconnectHerd: pick(offReconnect.reconnectHerd!),
      };
    }
    const extra = {
      engine: ctx.opts.engine,
      queueWaitMs: QUEUE_WAIT_MS ? Number(QUEUE_WAIT_MS) : 'default (HELLO_QUEUE_WAIT_MS 6000)',
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
      withoutQueue,
    };
    return {
      herd: row('licensed/s', trials, (x) => ({ herd: x.herd, paced: x.paced }), n, extra),
      'herd-reconnect': row('online/s', trials, (x) => ({ herd: x.reconnectHerd, paced: x.reconnectPaced }), n, extra),
    };
  },
};

const pick = (p: Phase) => ({ rate: p.rate, served: p.served, overloaded: p.overloaded, attempts: p.attempts, elapsedMs: p.elapsedMs, finalFailures: p.finalFailures });
