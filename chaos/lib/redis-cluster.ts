/**
 * A real Redis Cluster for tests, the chaos suite and the bench: `masters × (1 + replicas)`
 * `redis-server --cluster-enabled yes` processes (3 masters + 3 replicas by default), joined by
 * `redis-cli --cluster create … --cluster-replicas N --cluster-yes`, ready once every node says
 * cluster_state:ok with all 16384 slots covered and every replica is linked to its master.
 *
 * cluster-node-timeout is 2000 ms (Redis' default is 15 s) so that a killed master is failed
 * over within a few seconds in a test; a real deployment keeps a larger value. Each node has
 * its own directory (AOF + nodes.conf), so `restart` brings it back on the same port with its
 * identity, and it rejoins as a replica of whoever took over its slots.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Scope } from '../../bench/lib/scope.ts';
import { freePort } from '../../src/net/free-port.ts';
import { findRedisServer } from '../../src/store/embedded-redis.ts';
import { cliSecurityArgs, RedisProcess, serverSecurityArgs, type RedisSecurity, type TlsFiles } from './redis-process.ts';
import type { AppendFsync } from './redis-server.ts';

const run = promisify(execFile);
export const CLUSTER_NODE_TIMEOUT_MS = 2000;
const SLOTS = 16384;

export interface RedisClusterOptions {
  /** Parent directory; each node gets `node-<i>` in it. */
  dir: string;
  masters?: number;
  replicasPerMaster?: number;
  appendfsync?: AppendFsync;
  password?: string;
  tls?: TlsFiles;
  /** Bound for start-up (all nodes, create, convergence); default 60 s. */
  startTimeoutMs?: number;
}

export interface ClusterNode {
  readonly index: number;
  readonly host: string;
  readonly port: number;
  /** As last observed (start, waitFailover, refreshRoles). */
  role: 'master' | 'replica';
  /** The node's cluster id (CLUSTER MYID): stable across restarts. */
  readonly id: string;
  readonly pid: number | undefined;
  readonly process: RedisProcess;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RedisClusterTopology {
  private constructor(
    readonly nodes: ClusterNode[],
    readonly security: RedisSecurity,
    private readonly scope: Scope,
  ) {}

  static async start(outer: Scope, options: RedisClusterOptions): Promise<RedisClusterTopology> {
    // Its own scope, closed by stop() or with the caller's scope, whichever comes first.
    const scope = new Scope();
    outer.defer('redis cluster', () => scope.close());
    const bin = findRedisServer();
    if (!bin) throw new Error('redis-server not found (Debian: apt-get install redis-server)');
    const masters = options.masters ?? 3;
    const replicas = options.replicasPerMaster ?? 1;
    const security: RedisSecurity = { password: options.password, tls: options.tls };
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    const procs = await Promise.all(
      Array.from({ length: masters * (1 + replicas) }, (_, i) => {
        const dir = join(options.dir, `node-${i}`);
        mkdirSync(dir, { recursive: true });
        return RedisProcess.start(scope, {
          label: `cluster-node-${i}`,
          bin,
          security,
          // The bus port is picked separately (cluster-port): port+10000 may not exist.
          args: async (port) => [
            ...serverSecurityArgs(port, security), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--daemonize', 'no',
            '--cluster-enabled', 'yes', '--cluster-port', String(await freeBusPort(port)), '--cluster-config-file', 'nodes.conf',
            '--cluster-node-timeout', String(CLUSTER_NODE_TIMEOUT_MS), '--save', '', '--dir', dir,
            '--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'everysec', '--aof-load-truncated', 'yes',
            '--loglevel', 'warning',
          ],
        });
      }),
    );
    const ids = await Promise.all(procs.map((p) => p.call('CLUSTER', 'MYID') as Promise<string>));
    const nodes = procs.map((p, index): ClusterNode => ({
      index, host: p.host, port: p.port, role: 'master', id: ids[index]!, process: p,
      get pid() { return p.pid; },
    }));
    const topology = new RedisClusterTopology(nodes, security, scope);
    await run('redis-cli', [
      ...cliSecurityArgs(security), '--cluster', 'create', ...procs.map((p) => `${p.host}:${p.port}`),
      '--cluster-replicas', String(replicas), '--cluster-yes',
    ], { timeout: Math.max(1000, deadline - Date.now()) });
    await topology.waitHealthy(masters, replicas, deadline - Date.now());
    return topology;
  }

  /** Where clients start discovering the cluster. */
  seedNodes(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: n.host, port: n.port }));
  }

  /** The node currently serving `slot` (asked of a live node: CLUSTER SLOTS). */
  async masterForSlot(slot: number): Promise<ClusterNode> {
    const ranges = (await this.anyLive().process.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    const node = range && this.nodes.find((n) => n.port === Number(range[2][1]));
    if (!node) throw new Error(`no master serves slot ${slot}`);
    return node;
  }

  async masterForKey(key: string): Promise<ClusterNode> {
    return this.masterForSlot(Number(await this.anyLive().process.call('CLUSTER', 'KEYSLOT', key)));
  }

  async kill9(node: ClusterNode): Promise<void> {
    await node.process.kill9();
  }

  sigstop(node: ClusterNode): void {
    node.process.sigstop();
  }

  sigcont(node: ClusterNode): void {
    node.process.sigcont();
  }

  /** Starts a killed node again on its port and directory (it reloads nodes.conf and AOF). */
  async restart(node: ClusterNode): Promise<void> {
    await node.process.launch();
  }

  /**
   * Resolves once a former replica of `oldMaster` is master and every live node says
   * cluster_state:ok with all slots covered; returns the new master.
   */
  async waitFailover(oldMaster: ClusterNode, timeoutMs: number): Promise<ClusterNode> {
    const deadline = Date.now() + timeoutMs;
    const heirs = this.nodes.filter((n) => this.replicaOf.get(n.id) === oldMaster.id);
    while (Date.now() < deadline) {
      try {
        const view = parseNodes((await this.anyLive().process.call('CLUSTER', 'NODES')) as string);
        const heir = heirs.find((n) => view.some((l) => l.id === n.id && l.master));
        if (heir && (await this.allLiveOk())) {
          await this.refreshRoles();
          return heir;
        }
      } catch {
        // a node is between states: ask again
      }
      await sleep(100);
    }
    throw new Error(`no replica of ${oldMaster.host}:${oldMaster.port} took over within ${timeoutMs} ms`);
  }

  /** Updates every live node's `role` from ROLE. */
  async refreshRoles(): Promise<void> {
    for (const n of this.nodes) {
      if (!n.process.running || n.process.paused) continue;
      const role = ((await n.process.call('ROLE')) as [string])[0];
      n.role = role === 'master' ? 'master' : 'replica';
    }
    const view = parseNodes((await this.anyLive().process.call('CLUSTER', 'NODES')) as string);
    for (const l of view) {
      if (l.masterId === '-') this.replicaOf.delete(l.id);
      else this.replicaOf.set(l.id, l.masterId);
    }
  }

  /** Stops every process of the topology (SIGTERM, then SIGKILL after 3 s). */
  async stop(): Promise<void> {
    await this.scope.close();
  }

  /** Replica id → master id as of the last refresh: who may take over from whom. */
  private readonly replicaOf = new Map<string, string>();

  private anyLive(): ClusterNode {
    const node = this.nodes.find((n) => n.process.running && !n.process.paused);
    if (!node) throw new Error('no cluster node is running');
    return node;
  }

  private async allLiveOk(): Promise<boolean> {
    for (const n of this.nodes) {
      if (!n.process.running || n.process.paused) continue;
      const info = (await n.process.call('CLUSTER', 'INFO')) as string;
      if (!info.includes('cluster_state:ok') || !info.includes(`cluster_slots_ok:${SLOTS}`)) return false;
    }
    return true;
  }

  private async waitHealthy(masters: number, replicas: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        if (await this.allLiveOk()) {
          const roles = await Promise.all(this.nodes.map((n) => n.process.call('ROLE') as Promise<unknown[]>));
          const linked = roles.filter((r) => r[0] === 'slave' && r[3] === 'connected').length;
          const primaries = roles.filter((r) => r[0] === 'master').length;
          last = `${primaries} masters, ${linked} linked replicas`;
          if (primaries === masters && linked === masters * replicas) {
            await this.refreshRoles();
            return;
          }
        }
      } catch (err) {
        last = String(err);
      }
      await sleep(100);
    }
    throw new Error(`cluster not healthy within ${timeoutMs} ms (${last})`);
  }
}

/** CLUSTER NODES lines (`<id> <addr> <flags> <master-id|-> …`) of nodes not flagged failing. */
function parseNodes(text: string): { id: string; master: boolean; masterId: string }[] {
  return text.trim().split('\n').map((l) => l.split(' ')).map(([id, , flags, masterId]) => ({
    id: id!,
    master: flags!.split(',').includes('master') && !flags!.includes('fail'),
    masterId: masterId!,
  }));
}

/** A free port for the cluster bus other than `port`. */
async function freeBusPort(port: number): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p !== port) return p;
  }
}
