/**
 * Measures what a doorbell costs on a 3-master + 3-replica Redis Cluster: PUBLISH (broadcast
 * over the cluster bus to every node) vs SPUBLISH (kept in the shard that owns the channel's
 * slot). N doorbell-sized messages (~300 bytes) to one subscriber, published from inside a
 * script like licensegate's (EVAL that touches a tenant key, then (S)PUBLISHes), in pipelined
 * chunks. Reports wall time until the subscriber has every message and the CPU (sys + user) all
 * six redis-servers spent, from INFO cpu deltas. Results: docs/redis-modes.md.
 *
 *   npx tsx bench/doorbell-pubsub.ts [N]
 */
import { Cluster, Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisClusterTopology } from '../chaos/lib/redis-cluster.ts';
import { Scope } from './lib/scope.ts';

const N = Number(process.argv[2] ?? 20_000);
const CHUNK = 200;
const TAG = '{t:acme}';
const KEY = `lg:${TAG}:tenant`;
const PAYLOAD = JSON.stringify({ t: 'cmd', tenant: 'acme', clients: ['client-0000000000000001'], cmds: { 'client-0000000000000001': [[12, 'stop', 'UNASSIGNED_BY_ADMIN']] }, pad: 'x'.repeat(170) });

async function cpuOf(ports: number[]): Promise<number> {
  let sum = 0;
  for (const port of ports) {
    const r = new Redis({ port, host: '127.0.0.1' });
    const info = await r.info('cpu');
    r.disconnect();
    sum += Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)![1]);
  }
  return sum;
}

async function measure(ports: number[], nodes: { host: string; port: number }[], mode: 'publish' | 'spublish'): Promise<{ ms: number; cpuMs: number }> {
  const channel = `lg:${TAG}:node:gw-1`;
  const pub = new Cluster(nodes);
  const sub = new Cluster(nodes, { shardedSubscribers: mode === 'spublish' });
  let received = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const onMsg = () => {
    if (++received === N) done();
  };
  sub.on(mode === 'publish' ? 'message' : 'smessage', onMsg);
  if (mode === 'publish') await sub.subscribe(channel);
  else await sub.ssubscribe(channel);
  const lua = `redis.call('HSET', KEYS[1], 'x', ARGV[2]) redis.call('${mode.toUpperCase()}', ARGV[1], ARGV[2]) return 1`;
  pub.defineCommand('ring', { numberOfKeys: 1, lua });
  const ring = (pub as unknown as { ring: (k: string, c: string, m: string) => Promise<number> }).ring.bind(pub);
  await ring(KEY, `lg:${TAG}:warm-up`, PAYLOAD);
  await new Promise((r) => setTimeout(r, 300));
  const cpu0 = await cpuOf(ports);
  const t0 = performance.now();
  for (let i = 0; i < N; i += CHUNK) {
    await Promise.all(Array.from({ length: Math.min(CHUNK, N - i) }, () => ring(KEY, channel, PAYLOAD)));
  }
  await all;
  const ms = performance.now() - t0;
  // Let the bus finish forwarding before reading CPU (PUBLISH reaches the other nodes asynchronously).
  await new Promise((r) => setTimeout(r, 500));
  const cpuMs = ((await cpuOf(ports)) - cpu0) * 1000;
  pub.disconnect();
  sub.disconnect();
  return { ms, cpuMs };
}

const scope = new Scope();
const dir = mkdtempSync(join(tmpdir(), 'lg-doorbell-bench-'));
try {
  const cluster = await RedisClusterTopology.start(scope, { dir });
  const ports = cluster.seedNodes().map((n) => n.port);
  const rows = [];
  for (const round of [1, 2]) {
    for (const mode of ['publish', 'spublish'] as const) {
      const r = await measure(ports, cluster.seedNodes(), mode);
      rows.push({ round, mode, n: N, wallMs: Math.round(r.ms), redisCpuMs: Math.round(r.cpuMs), cpuUsPerMessage: Math.round((r.cpuMs * 1000) / N) });
    }
  }
  console.table(rows);
} finally {
  await scope.close();
  rmSync(dir, { recursive: true, force: true });
}
