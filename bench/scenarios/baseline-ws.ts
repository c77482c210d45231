/**
 * baseline-ws: the machine's ceiling for "connect and exchange one frame". A bare `ws` server
 * (permessage-deflate off) in its own process; the same driver, fleet size and concurrency as
 * the storms; each client connects, sends a Hello-sized frame and waits for the answer, and
 * stays connected (as agents do). Three trials, each with a fresh server and driver process
 * (cold, like the gateway in a storm); the value is their median, so one disturbed trial does
 * not move the baseline.
 */
import { startHelper } from '../lib/ipc.ts';
import { CpuWindow, rssBytes } from '../lib/proc-stats.ts';
import { connectTimeoutMs, type ScenarioDef } from '../lib/scenario.ts';
import { stopChild } from '../lib/scope.ts';

type RawConnect = { connected: number; ratePerSec: number; [k: string]: unknown };

const TRIALS = 3;

export const baselineWs: ScenarioDef = {
  name: 'baseline-ws',
  produces: ['baseline-ws'],
  rows: { 'baseline-ws': { unit: 'conn/s', goal: 'reference (ceiling)' } },
  timeoutMs: (s) => 60_000 + TRIALS * (20_000 + connectTimeoutMs(s.fleet)),
  async run(ctx) {
    const n = ctx.sizes.fleet;
    const trials: (RawConnect & { cpuPercent: Record<string, number | null>; serverRssBytes: number | null })[] = [];
    for (let t = 0; t < TRIALS; t++) {
      const server = await startHelper<{ url: string }>(ctx.scope, 'ws-server', { label: `ws-server#${t + 1}` });
      const driver = await startHelper(ctx.scope, 'driver', { label: `driver#${t + 1}` });
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
      ctx.log(`trial ${t + 1}: ${r.connected}/${n} bare ws clients at ${r.ratePerSec}/s`);
      await driver.call('close-raws', { timeoutMs: 10_000 });
      await Promise.all([stopChild(driver.child, 5_000), stopChild(server.child, 5_000)]);
      trials.push({ ...r, cpuPercent, serverRssBytes });
    }
    const sorted = [...trials].sort((a, b) => a.ratePerSec - b.ratePerSec);
    const r = sorted[Math.floor(sorted.length / 2)]!;
    const connected = Math.min(...trials.map((x) => x.connected));
    return {
      'baseline-ws': {
        ...(connected !== n ? { error: `only ${connected}/${n} bare clients connected in a trial` } : {}),
        value: r.ratePerSec,
        unit: 'conn/s',
        baseline: null,
        ratio: null,
        goal: 'reference (ceiling)',
        met: connected === n,
        details: {
          agents: n,
          concurrency: ctx.opts.concurrency,
          trialsPerSec: trials.map((x) => x.ratePerSec),
          median: r,
          cpuPercent: r.cpuPercent,
          trials,
        },
      },
    };
  },
};
