/**
 * A real Redis Cluster for tests and measurements: 3 masters + 3 replicas of Debian's
 * redis-server on loopback, in a fresh temp dir, joined with `redis-cli --cluster create`.
 * Small on purpose (the shared chaos/lib helper replaces it once it is on main); every process
 * it starts is killed by stop(), and each is started with --daemonize no so that it dies with us.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);

export interface LocalCluster {
  /** host:port of every node (masters first as created). */
  nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

/** A port that is free now and whose cluster bus port (+10000) is free too. */
async function freePort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (taken.has(port)) continue;
    if ((await canBind(port)) && (await canBind(port + 10000))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port pair for a cluster node');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function waitPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: null, maxRetriesPerRequest: 0 });
    r.on('error', () => {});
    try {
      await r.connect();
      await r.ping();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis on ${port} did not answer`);
      await new Promise((res) => setTimeout(res, 50));
    } finally {
      r.disconnect();
    }
  }
}

/** Starts 6 nodes and creates the cluster (1 replica per master); resolves once every slot is served. */
export async function startLocalCluster(): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'lg-cluster-'));
  const taken = new Set<number>();
  const procs: ChildProcess[] = [];
  const ports: number[] = [];
  const stop = async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : null)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 6; i++) {
      const port = await freePort(taken);
      ports.push(port);
      const p = spawn(
        '/usr/bin/redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir],
        { cwd: dir, stdio: 'ignore' },
      );
      procs.push(p);
    }
    await Promise.all(ports.map((p) => waitPing(p, 10_000)));
    await run('/usr/bin/redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
    // Every node must see every slot served before clients connect.
    const deadline = Date.now() + 20_000;
    for (const port of ports) {
      const r = new Redis({ port, host: '127.0.0.1' });
      try {
        for (;;) {
          const info = String(await r.call('CLUSTER', 'INFO'));
          if (/cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info)) break;
          if (Date.now() > deadline) throw new Error(`cluster not ok on ${port}: ${info}`);
          await new Promise((res) => setTimeout(res, 100));
        }
      } finally {
        r.disconnect();
      }
    }
    return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
