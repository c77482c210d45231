/**
 * boot-storm-tls: what TLS costs (SPEC Z1). The boot storm of `boot-storm` — the whole fleet's
 * first connect with the enrollment token, registered and licensed — once over `wss://` (the
 * gateway with TLS_CERT_FILE / TLS_KEY_FILE, a P-256 certificate made for the run by a throwaway
 * CA with /usr/bin/openssl, the driver's agents trusting that CA through one shared secure
 * context, as agent-sim does) and once over plain `ws://`, in the same run.
 *
 * Paired trials: each pair runs both storms back to back on fresh stacks (redis-server, ledger,
 * gateway, driver), the order alternating from pair to pair (ws first, then wss first, …) so
 * that the machine's drift falls on both sides. Value: the median wss:// rate; baseline: the
 * median ws:// rate; ratio: the median of the per-pair ratios wss / ws (so it need not equal
 * value / baseline). Quick: 1 pair; full: 3. Also per side: time to license p50/p99 and CPU
 * per agent of the gateway and of the driver (µs; TLS costs both ends a handshake).
 * No goal: a cost to know; met = every storm licensed the whole fleet.
 */
import { loadavg } from 'node:os';
import { createTestPki } from '../../test/helpers/test-certs.ts';
import { poolFor } from '../lib/fleet.ts';
import { CpuWindow } from '../lib/proc-stats.ts';
import { connectTimeoutMs, medianTrial, ratio, type ScenarioContext, type ScenarioDef } from '../lib/scenario.ts';
import { ENROLLMENT_TOKEN } from '../lib/setup.ts';
import { startStack } from '../lib/stack.ts';
import type { EnrollResult } from './boot-storm.ts';

type Side = 'ws' | 'wss';

interface StormTrial {
  side: Side;
  ratePerSec: number;
  licensed: number;
  elapsedMs: number;
  timeToLicense: EnrollResult['timeToLicense'];
  cpuPercent: Record<string, number | null>;
  /** CPU µs per licensed agent over the storm window. */
  cpuUsPerAgent: { gateway: number | null; driver: number | null; redis: number | null };
  finalFailures: unknown;
  attempts: unknown;
  failuresByCode: unknown;
}

/**
 * The wss:// side's connect deadline: a TLS handshake costs both ends several times the CPU of a
 * plain connect (OpenSSL 3.0 on Node 20), so on a loaded box the same fleet takes several times
 * as long; it must still end in a measurement, not at the deadline.
 */
const TLS_DEADLINE_FACTOR = 4;

const pairsFor = (quick: boolean) => (quick ? 1 : 3);

function usPerAgent(percent: number | null | undefined, wallSeconds: number | null | undefined, n: number): number | null {
  if (percent == null || wallSeconds == null || n === 0) return null;
  return Math.round(((percent / 100) * wallSeconds * 1e6) / n);
}

async function storm(ctx: ScenarioContext, side: Side, tls: { env: Record<string, string>; caFile: string }, label: string): Promise<StormTrial> {
  const n = ctx.sizes.fleet;
  const stack = await startStack(ctx, { pool: poolFor(n), gatewayEnv: side === 'wss' ? tls.env : {} });
  try {
    if (!stack.gateway.url.startsWith(`${side}://`)) throw new Error(`${label}: the gateway serves ${stack.gateway.url}, not ${side}://`);
    const cpu = new CpuWindow(stack.pids());
    const r = await stack.driver.call<EnrollResult>('enroll', {
      url: stack.gateway.url,
      count: n,
      prefix: `tls-${side}`,
      token: ENROLLMENT_TOKEN,
      concurrency: ctx.opts.concurrency,
      timeoutMs: connectTimeoutMs(n) * (side === 'wss' ? TLS_DEADLINE_FACTOR : 1),
      sourceIps: ctx.sizes.sourceIps,
      waitLicense: true,
      ...(side === 'wss' ? { caFile: tls.caFile } : {}),
    });
    const cpuPercent = cpu.stop();
    const wall = cpuPercent.wallSeconds;
    ctx.log(`${label}: ${r.licensed}/${n} licensed at ${r.ratePerSec}/s over ${side}://, time to license p50 ${r.timeToLicense?.p50} ms p99 ${r.timeToLicense?.p99} ms, gateway ${cpuPercent.gateway}% driver ${cpuPercent.driver}%`);
    return {
      side,
      ratePerSec: r.ratePerSec,
      licensed: r.licensed,
      elapsedMs: r.elapsedMs,
      timeToLicense: r.timeToLicense,
      cpuPercent,
      cpuUsPerAgent: { gateway: usPerAgent(cpuPercent.gateway, wall, r.licensed), driver: usPerAgent(cpuPercent.driver, wall, r.licensed), redis: usPerAgent(cpuPercent.redis, wall, r.licensed) },
      finalFailures: r.finalFailures,
      attempts: r.attempts,
      failuresByCode: r.failuresByCode,
    };
  } finally {
    await stack.stop();
  }
}

export const bootStormTls: ScenarioDef = {
  name: 'boot-storm-tls',
  produces: ['boot-storm-tls'],
  rows: { 'boot-storm-tls': { unit: 'licensed/s', goal: 'none (the cost of TLS)' } },
  // Per storm: start-up (redis, ledger, gateway, driver), the storm, and the teardown; two per pair.
  timeoutMs: (s) => 30_000 + 3 * (2 * 60_000 + (1 + TLS_DEADLINE_FACTOR) * connectTimeoutMs(s.fleet)),
  async run(ctx) {
    const n = ctx.sizes.fleet;
    const pki = createTestPki('lg-bench-tls');
    ctx.scope.defer('tls certificates', () => pki.remove());
    const cert = pki.server('licensegate-bench', 1);
    const tls = { env: { TLS_CERT_FILE: cert.cert, TLS_KEY_FILE: cert.key }, caFile: pki.ca };
    const pairs: { ws: StormTrial; wss: StormTrial; ratio: number | null; order: string; loadAverage: number[] }[] = [];
    for (let t = 0; t < pairsFor(ctx.opts.quick); t++) {
      const order: Side[] = t % 2 === 0 ? ['ws', 'wss'] : ['wss', 'ws'];
      const got: Partial<Record<Side, StormTrial>> = {};
      for (const side of order) got[side] = await storm(ctx, side, tls, `pair ${t + 1} ${side}`);
      const ws = got.ws!;
      const wss = got.wss!;
      pairs.push({ ws, wss, ratio: ratio(wss.ratePerSec, ws.ratePerSec), order: order.join(' then '), loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) });
    }
    const all = pairs.flatMap((p) => [p.ws, p.wss]);
    const problems = all.filter((x) => x.licensed !== n).map((x) => `${x.side}: only ${x.licensed}/${n} agents licensed: ${JSON.stringify(x.finalFailures)}`);
    const wssMedian = medianTrial(pairs.map((p) => p.wss), (x) => x.ratePerSec).trial;
    const wsMedian = medianTrial(pairs.map((p) => p.ws), (x) => x.ratePerSec).trial;
    const ratios = pairs.map((p) => p.ratio).filter((x): x is number => x !== null);
    const rt = ratios.length ? medianTrial(ratios, (x) => x).trial : null;
    ctx.log(`pairs (ws → wss): ${pairs.map((p) => `${p.ws.ratePerSec} → ${p.wss.ratePerSec} (${p.ratio})`).join(', ')}; median ratio ${rt}`);
    return {
      'boot-storm-tls': {
        ...(problems.length ? { error: problems.join('; ') } : {}),
        value: wssMedian.ratePerSec,
        unit: 'licensed/s',
        baseline: wsMedian.ratePerSec,
        ratio: rt,
        goal: 'none (the cost of TLS)',
        met: problems.length === 0,
        details: {
          agents: n,
          concurrency: ctx.opts.concurrency,
          engine: ctx.opts.engine,
          certificate: 'EC P-256, signed by a throwaway CA (one intermediate-free chain); TLS 1.3 negotiated by Node defaults',
          pairMethod: 'median of per-pair ratios wss / ws; each pair runs both storms on fresh stacks, order alternating',
          pairs: pairs.map((p) => ({ ws: p.ws.ratePerSec, wss: p.wss.ratePerSec, ratio: p.ratio, order: p.order, loadAverage: p.loadAverage })),
          wss: wssMedian,
          ws: wsMedian,
          trials: all,
        },
      },
    };
  },
};
