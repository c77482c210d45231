/**
 * idle: the fleet connected and heartbeating (HEARTBEAT_INTERVAL_MS = 2 s for the window).
 *  - idle: gateway memory per connection — RSS (and V8 heap, read through the inspector after a
 *    full GC) of the loaded gateway minus the empty one, divided by the fleet. Baseline: the
 *    same for a bare ws server holding the same number of heartbeating clients. Goal ≤ 6 KB (SPEC X5, issue 10).
 *  - idle-cpu: the gateway's CPU (% of one core, /proc/<pid>/stat) over the window. Baseline:
 *    the bare ws server answering the same heartbeats. Goal: ≤ 2 × baseline.
 */
import { startHelper } from '../lib/ipc.ts';
import { inspectMemory, type MemoryUsage } from '../lib/inspector.ts';
import { poolFor } from '../lib/fleet.ts';
import { CpuWindow, round1, round2, rssBytes } from '../lib/proc-stats.ts';
import { connectTimeoutMs, ratio, sleep, type ScenarioDef } from '../lib/scenario.ts';
import { ENROLLMENT_TOKEN } from '../lib/setup.ts';
import { RedisCommandWindow } from '../lib/redis-stats.ts';
import { startStack } from '../lib/stack.ts';
import { stopChild } from '../lib/scope.ts';
import type { EnrollResult } from './boot-storm.ts';

export const GOAL_KB_PER_CONN = 6;
export const GOAL_CPU_RATIO = 2;
/** The gateway's last-seen flush interval (gateway-options.ts lastSeenFlushMs default). */
const LAST_SEEN_FLUSH_MS = 5_000;

const kb = (bytes: number | null | undefined, n: number) => (bytes === null || bytes === undefined ? null : round2(bytes / 1024 / n));

async function heap(url: string | undefined): Promise<MemoryUsage | null> {
  if (!url) return null;
  try {
    return await inspectMemory(url);
  } catch {
    return null;
  }
}

export const idle: ScenarioDef = {
  name: 'idle',
  produces: ['idle', 'idle-cpu'],
  rows: { idle: { unit: 'KB/conn', goal: `≤ ${GOAL_KB_PER_CONN} KB/conn` }, 'idle-cpu': { unit: '% of a core', goal: `≤ ${GOAL_CPU_RATIO} × bare ws` } },
  timeoutMs: (s) => 150_000 + 2 * connectTimeoutMs(s.fleet) + 2 * s.idleWindowMs,
  async run(ctx) {
    const n = ctx.sizes.fleet;
    const hb = ctx.sizes.idleHeartbeatMs;
    const windowMs = ctx.sizes.idleWindowMs;
    // Settle after connecting: two heartbeat intervals and one last-seen flush (5 s).
    const settleMs = Math.max(2 * hb, 6_000);

    // --- licensegate ---
    const stack = await startStack(ctx, { pool: poolFor(n), gatewayEnv: { HEARTBEAT_INTERVAL_MS: String(hb) }, inspect: true });
    const gw = stack.gateway;
    await sleep(3_000);
    const emptyHeap = await heap(gw.inspectorUrl); // a full GC first, then RSS
    const empty = { rss: rssBytes(gw.pid), heap: emptyHeap };
    const enrolled = await stack.driver.call<EnrollResult>('enroll', {
      url: gw.url,
      count: n,
      prefix: 'idle',
      token: ENROLLMENT_TOKEN,
      concurrency: ctx.opts.concurrency,
      timeoutMs: connectTimeoutMs(n),
      sourceIps: ctx.sizes.sourceIps,
      waitLicense: true,
    });
    if (enrolled.welcomed !== n) throw new Error(`only ${enrolled.welcomed}/${n} agents connected`);
    await sleep(settleMs);
    const cpu = new CpuWindow(stack.pids());
    const commands = await RedisCommandWindow.start(stack.redis.redis);
    const t0 = performance.now();
    await ctx.profile('idle', { gateway: gw.inspectorUrl }, () => sleep(windowMs));
    const cpuPct = cpu.stop();
    // Everything Redis ran over the window (the flushes, plus the node heartbeat, reconciliation
    // and the idle BullMQ worker of the gateway), per last-seen flush of the whole fleet.
    const flushes = (performance.now() - t0) / LAST_SEEN_FLUSH_MS;
    const perFlush = await commands.stop(flushes, `heartbeat flush (the gateway's last-seen flush of ${n} agents, every ${LAST_SEEN_FLUSH_MS} ms)`);
    const redisCommandsPerHeartbeatFlush = { ...perFlush, perAgent: round2(perFlush.perUnit / n) };
    const counts = await stack.driver.call<{ connected: number }>('counts');
    const rssBeforeGc = rssBytes(gw.pid);
    const loadedHeap = await heap(gw.inspectorUrl);
    const loaded = { rss: rssBytes(gw.pid), heap: loadedHeap };
    ctx.log(`licensegate: ${counts.connected} agents, rss ${kb((loaded.rss ?? 0) - (empty.rss ?? 0), n)} KB/conn, cpu ${cpuPct.gateway}%`);
    await stack.driver.call('close-agents', { timeoutMs: 10_000 });
    await gw.stop();
    await stack.stopWorker();

    // --- bare ws baseline (same driver, same heartbeats) ---
    const server = await startHelper<{ url: string }>(ctx.scope, 'ws-server', { label: 'ws-server', execArgv: ['--expose-gc'] });
    await sleep(3_000);
    const bEmpty = await server.call<{ memory: MemoryUsage }>('stats'); // runs gc() first
    const bEmptyRss = rssBytes(server.pid);
    const raw = await stack.driver.call<{ connected: number }>('raw-connect', {
      url: server.ready.url,
      count: n,
      concurrency: ctx.opts.concurrency,
      timeoutMs: connectTimeoutMs(n),
      sourceIps: ctx.sizes.sourceIps,
      heartbeatMs: hb,
    });
    if (raw.connected !== n) throw new Error(`baseline: only ${raw.connected}/${n} bare clients connected`);
    await sleep(settleMs);
    const bCpu = new CpuWindow({ server: server.pid, driver: stack.driver.pid });
    await sleep(windowMs);
    const bCpuPct = bCpu.stop();
    const bLoaded = await server.call<{ memory: MemoryUsage; connections: number }>('stats');
    const bLoadedRss = rssBytes(server.pid);
    await stack.driver.call('close-raws', { timeoutMs: 10_000 });
    await stopChild(server.child, 5_000);

    // RSS growth per connection, but never less than what the V8 heap demonstrably grew by: with
    // a small fleet, pages freed after start-up (tsx compiling) are reused and RSS barely moves.
    const heapPerConn = loaded.heap && empty.heap ? kb(loaded.heap.heapUsed - empty.heap.heapUsed, n) : null;
    const rssPerConn = kb((loaded.rss ?? 0) - (empty.rss ?? 0), n);
    const bRssPerConn = kb((bLoadedRss ?? 0) - (bEmptyRss ?? 0), n);
    const bHeapPerConn = kb(bLoaded.memory.heapUsed - bEmpty.memory.heapUsed, n);
    const value = rssPerConn === null ? heapPerConn : Math.max(rssPerConn, heapPerConn ?? -Infinity);
    const baseline = bRssPerConn === null ? bHeapPerConn : Math.max(bRssPerConn, bHeapPerConn ?? -Infinity);
    const heartbeatsPerSec = round1((n * 1000) / hb);
    const gwCpu = cpuPct.gateway ?? null;
    const bCpuServer = bCpuPct.server ?? null;
    const cpuRatio = ratio(gwCpu, bCpuServer);
    return {
      idle: {
        value,
        unit: 'KB/conn',
        baseline,
        ratio: ratio(value, baseline),
        goal: `≤ ${GOAL_KB_PER_CONN} KB/conn`,
        met: value !== null && value <= GOAL_KB_PER_CONN && counts.connected === n,
        details: {
          agents: n,
          connectedAtEnd: counts.connected,
          gateway: {
            rssEmptyBytes: empty.rss,
            rssLoadedBytes: loaded.rss,
            rssLoadedBeforeGcBytes: rssBeforeGc,
            rssKBPerConn: rssPerConn,
            heapUsedKBPerConn: heapPerConn,
            externalKBPerConn: loaded.heap && empty.heap ? kb(loaded.heap.external - empty.heap.external, n) : null,
            heapEmpty: empty.heap,
            heapLoaded: loaded.heap,
          },
          bareWs: {
            rssEmptyBytes: bEmptyRss,
            rssLoadedBytes: bLoadedRss,
            rssKBPerConn: bRssPerConn,
            heapUsedKBPerConn: bHeapPerConn,
          },
          note: 'value = max(RSS growth, V8 heap growth) per connection, both after a full GC (inspector HeapProfiler.collectGarbage); kernel socket buffers are not in RSS',
        },
      },
      'idle-cpu': {
        value: gwCpu,
        unit: '% of a core',
        baseline: bCpuServer,
        ratio: cpuRatio,
        goal: `≤ ${GOAL_CPU_RATIO} × bare ws`,
        met: cpuRatio !== null && cpuRatio <= GOAL_CPU_RATIO,
        details: {
          agents: n,
          heartbeatIntervalMs: hb,
          heartbeatsPerSec,
          windowMs,
          gatewayCpuMicrosPerHeartbeat: gwCpu === null ? null : round1((gwCpu / 100 / heartbeatsPerSec) * 1e6),
          bareWsCpuMicrosPerHeartbeat: bCpuServer === null ? null : round1((bCpuServer / 100 / heartbeatsPerSec) * 1e6),
          gatewayCpuAtDefaultHeartbeatPct: gwCpu === null ? null : round1((gwCpu * hb) / 15_000),
          cpuPercent: cpuPct,
          bareWsCpuPercent: bCpuPct,
          engine: ctx.opts.engine,
          redisCommandsPerHeartbeatFlush,
        },
      },
    };
  },
};
