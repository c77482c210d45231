/**
 * One bare-ws trial — the unit of the `baseline-ws` scenario, and the paired baseline of every
 * storm trial: a fresh bare `ws` server (permessage-deflate off) and a fresh driver, each in its
 * own process; the fleet connects with the run's concurrency and source addresses, each client
 * sends a Hello-sized frame and waits for the answer and stays connected (as agents do); then
 * the clients are closed and both processes stopped. Connections per second on the driver's
 * clock, with the CPU of both processes over the connect window.
 *
 * The storms pair each of their trials with one of these, run just before it, so that the
 * machine's drift over tens of seconds moves both sides of a pair alike: `pairedRatios` turns
 * the pairs into the storm row's baseline and ratio.
 */
import { startHelper } from './ipc.ts';
import { CpuWindow, rssBytes } from './proc-stats.ts';
import { connectTimeoutMs, medianTrial, ratio, type ScenarioContext, type Sizes } from './scenario.ts';
import { stopChild } from './scope.ts';

/** What the driver's `raw-connect` answers. */
export type RawConnect = { count: number; connected: number; elapsedMs: number; ratePerSec: number; [k: string]: unknown };

export type BareWsTrial = RawConnect & { cpuPercent: Record<string, number | null>; serverRssBytes: number | null };

/** Upper bound of one trial: both processes' start-up and teardown, and the connect phase. */
export const bareWsTrialTimeoutMs = (s: Sizes): number => 20_000 + connectTimeoutMs(s.fleet);

/**
 * Runs one trial with `ctx.sizes.fleet` clients. `label` tells the trial's processes apart
 * (`ws-server#<label>`, `driver#<label>`); `name` starts its log line.
 */
export async function bareWsTrial(ctx: ScenarioContext, o: { label: string; name: string }): Promise<BareWsTrial> {
  const n = ctx.sizes.fleet;
  const server = await startHelper<{ url: string }>(ctx.scope, 'ws-server', { label: `ws-server#${o.label}` });
  const driver = await startHelper(ctx.scope, 'driver', { label: `driver#${o.label}` });
  const cpu = new CpuWindow({ server: server.pid, driver: driver.pid });
  const r = await driver.call<RawConnect>('raw-connect', {
    url: server.ready.url,
    count: n,
    concurrency: ctx.opts.concurrency,
    timeoutMs: connectTimeoutMs(n),
    sourceIps: ctx.sizes.sourceIps,
    heartbeatMs: 0,
  });
  const cpuPercent = cpu.stop();
  const serverRssBytes = rssBytes(server.pid);
  ctx.log(`${o.name}: ${r.connected}/${n} bare ws clients at ${r.ratePerSec}/s`);
  await driver.call('close-raws', { timeoutMs: 10_000 });
  await Promise.all([stopChild(driver.child, 5_000), stopChild(server.child, 5_000)]);
  return { ...r, cpuPercent, serverRssBytes };
}

export const PAIRED_RATIO_METHOD = 'median of per-trial ratios, each storm trial paired with a bare-ws trial run just before it';

export interface PairedRatios {
  /** Median of the paired bare-ws rates (conn/s). */
  baseline: number | null;
  /** Median of the per-pair ratios storm / bare-ws, rounded as `ratio()` rounds. */
  ratio: number | null;
  /** One per trial, in running order. */
  pairs: { bareWs: number; storm: number; ratio: number | null }[];
}

/** The storm row's baseline and ratio from its trials' rates and their paired bare-ws trials. */
export function pairedRatios(stormRates: number[], bare: BareWsTrial[]): PairedRatios {
  if (stormRates.length !== bare.length) throw new Error(`${stormRates.length} storm trials but ${bare.length} bare-ws trials`);
  const pairs = stormRates.map((storm, i) => ({ bareWs: bare[i]!.ratePerSec, storm, ratio: ratio(storm, bare[i]!.ratePerSec) }));
  const ratios = pairs.map((p) => p.ratio).filter((x): x is number => x !== null);
  return {
    baseline: pairs.length ? medianTrial(pairs, (p) => p.bareWs).trial.bareWs : null,
    ratio: ratios.length ? medianTrial(ratios, (x) => x).trial : null,
    pairs,
  };
}

/** Problems of the bare-ws trials (clients that did not connect), for a storm's error. */
export function bareWsProblems(bare: BareWsTrial[], n: number): string[] {
  return bare.flatMap((x, i) => (x.connected !== n ? [`trial ${i + 1}: only ${x.connected}/${n} bare ws clients of the paired baseline connected`] : []));
}
