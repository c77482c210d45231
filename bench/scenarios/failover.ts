/**
 * failover (SPEC X3): a fleet served through 2 gateway processes on a Sentinel setup (1 primary
 * + 2 replicas + 3 sentinels) and on a Cluster (3 masters + 3 replicas); kill -9 of the primary
 * (Sentinel) or of the master that owns the default tenant's slot (Cluster), in
 * DURABILITY=everysec and replicas:1. Value: seconds from the kill until every agent is served
 * again; baseline: the engine's own failover (kill → the sentinels agree on a promoted replica /
 * a replica owns the slots and every node says cluster_state:ok).
 *
 * "Served again" holds when, at once and for STABLE_MS without a relapse:
 *  - the driver's view: every agent connected, monitoring and licensed (agents reconnect by
 *    themselves, agent-sim's backoff with base 100 ms and cap 2 s, to the other gateway next);
 *  - Redis' view (the new master): every agent in the tenant's online hash and in a holders set;
 *  - a new agent enrolled through each gateway after the kill got its license (the gateway's
 *    Redis path writes again — open connections alone do not prove it).
 * Also counted: agents that lost their connection (had to reconnect) and checkInvariants at the
 * end. Like a supervisor would, the killed process is started again once the engine has failed
 * over (it rejoins as a replica: `replicas:1` needs a replica again on the Cluster's shard).
 */
import { checkInvariants } from '../../src/licensing/check-invariants.ts';
import { ENDPOINT_LICENSE_TYPES } from '../../src/licensing/license-types.ts';
import type { Keys } from '../../src/store/keys.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import type { BenchEngine } from '../lib/engine.ts';
import { clientIdOf, osOfAgent, poolFor } from '../lib/fleet.ts';
import { round2 } from '../lib/proc-stats.ts';
import { connectTimeoutMs, medianTrial, sleep, type ScenarioContext, type ScenarioDef, type Sizes } from '../lib/scenario.ts';
import { ENROLLMENT_TOKEN, type BenchDurability } from '../lib/setup.ts';
import { startStack, type Stack } from '../lib/stack.ts';
import type { ScenarioResult } from '../lib/types.ts';
import type { EnrollResult } from './boot-storm.ts';

type Engine = Exclude<BenchEngine, 'single'>;
type Mode = Extract<BenchDurability, 'everysec' | 'replicas:1'>;
const ROWS: Record<string, { engine: Engine; mode: Mode }> = {
  'failover-sentinel': { engine: 'sentinel', mode: 'everysec' },
  'failover-sentinel-replicas': { engine: 'sentinel', mode: 'replicas:1' },
  'failover-cluster': { engine: 'cluster', mode: 'everysec' },
  'failover-cluster-replicas': { engine: 'cluster', mode: 'replicas:1' },
};
const GOAL = 'every agent served again, invariants clean';
const UNIT = 's to served';
/** The conditions must hold this long without a relapse. */
const STABLE_MS = 3_000;
const SERVED_DEADLINE_MS = 90_000;
/** Spare workstation licenses for the probe agents. */
const PROBE_SPARE = 1_000;

const fleetFor = (s: Sizes, quick: boolean) => (quick ? Math.min(s.fleet, 500) : Math.min(s.fleet, 5_000));
const trialsFor = (quick: boolean) => (quick ? 1 : 3);

interface Trial {
  row: string;
  trial: number;
  servedS: number | null;
  engineFailoverS: number | null;
  hadToReconnect: number;
  reconnected: number;
  firstProbeOkS: Record<string, number | null>;
  timeline: { atS: number; served: number; connected: number; redisOnline: number | null; redisLicensed: number | null }[];
  invariants: { ok: boolean; [k: string]: unknown };
  killed: string;
  error?: string;
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T | null> => Promise.race([p.catch(() => null), sleep(ms).then(() => null)]);

/** How many of the fleet Redis lists online, and how many hold a license (null: Redis did not answer in time). */
async function redisView(redis: RedisClient, keys: Keys, ids: string[]): Promise<{ online: number; licensed: number } | null> {
  return withTimeout(
    (async () => {
      let online = 0;
      for (let i = 0; i < ids.length; i += 1000) {
        const got = await redis.hmget(keys.online(DEFAULT_TENANT), ...ids.slice(i, i + 1000));
        online += got.filter((x) => x !== null).length;
      }
      const holders = new Set<string>();
      for (const type of ENDPOINT_LICENSE_TYPES) for (const id of await redis.smembers(keys.holders(DEFAULT_TENANT, type))) holders.add(id);
      return { online, licensed: ids.filter((id) => holders.has(id)).length };
    })(),
    1_000,
  );
}

/** kill -9 of the engine's primary for the default tenant; resolves with a label, the engine's failover and the restart. */
async function killPrimary(stack: Stack): Promise<{ killed: string; failedOver: Promise<number | null> }> {
  const t = stack.redis.topology!;
  const t0 = performance.now();
  if (t.sentinel) {
    const s = t.sentinel;
    const port = await s.kill9Primary();
    const failedOver = s.waitFailover(port, 60_000).then(
      async () => {
        const at = performance.now() - t0;
        await s.server(port).launch(); // the supervisor restarts it: it rejoins as a replica
        return at;
      },
      () => null,
    );
    return { killed: `sentinel primary :${port}`, failedOver };
  }
  const c = t.cluster!;
  const node = await c.masterForKey(stack.ledger.keys.tenant(DEFAULT_TENANT));
  await c.kill9(node);
  const failedOver = c.waitFailover(node, 60_000).then(
    async () => {
      const at = performance.now() - t0;
      await c.restart(node);
      return at;
    },
    () => null,
  );
  return { killed: `cluster master :${node.port} (slot of {t:${DEFAULT_TENANT}})`, failedOver };
}

async function trial(ctx: ScenarioContext, row: string, k: number): Promise<Trial> {
  const { engine, mode } = ROWS[row]!;
  const n = fleetFor(ctx.sizes, ctx.opts.quick);
  const pool = poolFor(n);
  pool.workstation = (pool.workstation ?? 0) + PROBE_SPARE;
  const stack = await startStack(ctx, { engine, durability: mode, pool });
  try {
    const second = await stack.addGateway();
    const urls = [stack.gateway.url, second.url];
    const enrolled = await stack.driver.call<EnrollResult>('enroll', {
      url: urls[0],
      urls,
      reconnect: true,
      count: n,
      prefix: 'fo',
      token: ENROLLMENT_TOKEN,
      concurrency: ctx.opts.concurrency,
      timeoutMs: connectTimeoutMs(n),
      sourceIps: ctx.sizes.sourceIps,
      waitLicense: true,
    });
    if (enrolled.licensed !== n) throw new Error(`${row} trial ${k}: only ${enrolled.licensed}/${n} agents licensed before the kill: ${JSON.stringify(enrolled.finalFailures)}`);
    await sleep(2_000); // replication and one last-seen flush
    const ids = Array.from({ length: n }, (_, i) => clientIdOf('fo', i));
    await stack.driver.call('failover-mark');
    const t0 = performance.now();
    const since = () => round2((performance.now() - t0) / 1000);
    const { killed, failedOver } = await killPrimary(stack);
    ctx.log(`${row} trial ${k}: killed ${killed}`);
    let engineFailoverS: number | null = null;
    void failedOver.then((ms) => (engineFailoverS = ms === null ? null : round2(ms / 1000)));

    // Probes: a new agent through each gateway, until one is licensed after the kill.
    const firstProbeOkS: Record<string, number | null> = { gateway1: null, gateway2: null };
    let stopProbes = false;
    const probes = urls.map(async (url, g) => {
      for (let p = 0; !stopProbes && performance.now() - t0 < SERVED_DEADLINE_MS; p++) {
        const r = await stack.driver.call<{ ok: boolean }>('probe-enroll', { url, clientId: `probe-${k}-${g}-${p}`, token: ENROLLMENT_TOKEN, os: osOfAgent(0), timeoutMs: 3_000 }, 10_000).catch(() => ({ ok: false }));
        if (r.ok) {
          firstProbeOkS[`gateway${g + 1}`] = since();
          return;
        }
        await sleep(200);
      }
    });

    const timeline: Trial['timeline'] = [];
    let stableSince: number | null = null;
    let servedS: number | null = null;
    let lastView = { served: 0, connected: 0, closedSinceMark: 0, reconnectedSinceMark: 0 };
    while (performance.now() - t0 < SERVED_DEADLINE_MS) {
      const view = (await withTimeout(stack.driver.call<typeof lastView>('failover-view', {}, 5_000), 5_000)) ?? lastView;
      lastView = view;
      const rv = await redisView(stack.redis.redis, stack.ledger.keys, ids);
      const now = since();
      if (timeline.length === 0 || now - timeline.at(-1)!.atS >= 0.5) timeline.push({ atS: now, served: view.served, connected: view.connected, redisOnline: rv?.online ?? null, redisLicensed: rv?.licensed ?? null });
      const ok = view.served === n && rv?.online === n && rv.licensed === n && firstProbeOkS.gateway1 !== null && firstProbeOkS.gateway2 !== null;
      if (ok) {
        stableSince ??= now;
        if ((now - stableSince) * 1000 >= STABLE_MS) {
          servedS = stableSince;
          break;
        }
      } else stableSince = null;
      await sleep(100);
    }
    stopProbes = true;
    await probes;
    await withTimeout(failedOver, 30_000);
    const invariants = (await withTimeout(checkInvariants(stack.redis.redis, stack.ledger.keys), 30_000)) ?? { ok: false, error: 'checkInvariants did not answer in 30 s' };
    ctx.log(`${row} trial ${k}: served again after ${servedS} s (engine failover ${engineFailoverS} s), ${lastView.closedSinceMark} agents had to reconnect, invariants ${invariants.ok ? 'ok' : 'VIOLATED'}`);
    return {
      row,
      trial: k,
      servedS,
      engineFailoverS,
      hadToReconnect: lastView.closedSinceMark,
      reconnected: lastView.reconnectedSinceMark,
      firstProbeOkS,
      timeline,
      invariants: invariants as Trial['invariants'],
      killed,
      ...(servedS === null ? { error: `not every agent served again within ${SERVED_DEADLINE_MS / 1000} s (last: ${JSON.stringify(timeline.at(-1))}, probes ${JSON.stringify(firstProbeOkS)})` } : {}),
    };
  } finally {
    await stack.stop();
  }
}

const median = (xs: number[]): number | null => (xs.length ? medianTrial(xs, (x) => x).trial : null);

export const failover: ScenarioDef = {
  name: 'failover',
  fullRunOnly: true,
  produces: Object.keys(ROWS),
  rows: Object.fromEntries(Object.keys(ROWS).map((r) => [r, { unit: UNIT, goal: GOAL }])),
  timeoutMs: (s) => 60_000 + Object.keys(ROWS).length * trialsFor(false) * (90_000 + SERVED_DEADLINE_MS + connectTimeoutMs(fleetFor(s, false))),
  async run(ctx) {
    const trials: Trial[] = [];
    for (let k = 1; k <= trialsFor(ctx.opts.quick); k++) for (const row of Object.keys(ROWS)) trials.push(await trial(ctx, row, k));
    const out: Record<string, ScenarioResult> = {};
    for (const [row, { engine, mode }] of Object.entries(ROWS)) {
      const mine = trials.filter((t) => t.row === row);
      const problems = mine.flatMap((t) => [...(t.error ? [`trial ${t.trial}: ${t.error}`] : []), ...(t.invariants.ok ? [] : [`trial ${t.trial}: invariants violated`])]);
      const value = median(mine.map((t) => t.servedS).filter((x): x is number => x !== null));
      const baseline = median(mine.map((t) => t.engineFailoverS).filter((x): x is number => x !== null));
      const { trial: mid } = medianTrial(mine, (t) => t.servedS ?? Infinity);
      out[row] = {
        ...(mine.some((t) => t.error) ? { error: problems.join('; ') } : {}),
        value,
        unit: UNIT,
        baseline,
        baselineUnit: 's engine failover',
        ratio: value !== null && baseline ? Math.round((value / baseline) * 1000) / 1000 : null,
        goal: GOAL,
        met: problems.length === 0,
        details: {
          engine,
          durability: mode,
          agents: fleetFor(ctx.sizes, ctx.opts.quick),
          gateways: 2,
          what: 'kill -9 of the primary (Sentinel) / the master owning the default tenant\'s slot (Cluster) → every agent connected, monitoring and licensed (driver), online and holding a license (Redis), and a new agent licensed through each gateway, for 3 s',
          trials: mine.map(({ timeline: _t, ...rest }) => rest),
          // The median trial's timeline: driver and Redis views every 0.5 s after the kill.
          timeline: mid.timeline,
          hadToReconnect: mid.hadToReconnect,
        },
      };
    }
    return out;
  },
};
