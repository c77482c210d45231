/**
 * The zero-config default: a `redis-server` child process (Debian's package) with AOF on and
 * its data in DATA_DIR/redis (SPEC R1). Tests use the same module without persistence.
 * The running instance records its URL in DATA_DIR/redis.url so `licensegate admin` can find
 * it; a still-running instance from an earlier run of the same DATA_DIR is reused, never
 * doubled (two servers on one AOF would corrupt it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface EmbeddedRedisOptions {
  /** Directory for AOF/RDB files and the URL record; required when persist is true. */
  dataDir?: string;
  /** AOF on (default true). Tests turn it off. */
  persist?: boolean;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** redis-server binary (default: found on PATH or in /usr/bin, /usr/sbin, /usr/local/bin). */
  binary?: string;
  /** Start-up timeout (default 10 s). */
  startTimeoutMs?: number;
  /**
   * AOF fsync policy when persist is on (default `everysec`; `always` for DURABILITY=always, see
   * docs/durability.md). A reused running instance is switched to it with CONFIG SET.
   */
  appendfsync?: 'everysec' | 'always';
  /** Extra redis-server arguments (tests: `--replicaof`, a renamed command). */
  extraArgs?: string[];
}

export interface EmbeddedRedis {
  url: string;
  /** True when this process started the server (and so stops it). */
  owned: boolean;
  /** Process id of the redis-server this process started (fault tests pause or kill it); undefined when reused. */
  pid: number | undefined;
  stop(): Promise<void>;
}

const SEARCH_PATH = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'];

export function findRedisServer(binary?: string): string | null {
  if (binary) return existsSync(binary) ? binary : null;
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_PATH];
  for (const dir of dirs) {
    const candidate = join(dir, 'redis-server');
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function ping(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

async function setAppendfsync(url: string, policy: 'everysec' | 'always'): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.call('CONFIG', 'SET', 'appendfsync', policy);
  } finally {
    r.disconnect();
  }
}

export function embeddedUrlFile(dataDir: string): string {
  return join(dataDir, 'redis.url');
}

/** The URL of a running embedded instance recorded in dataDir, if it answers. */
export async function findRunningEmbedded(dataDir: string): Promise<string | null> {
  const file = embeddedUrlFile(dataDir);
  if (!existsSync(file)) return null;
  const url = readFileSync(file, 'utf8').trim();
  return (await ping(url)) ? url : null;
}

export async function startEmbeddedRedis(options: EmbeddedRedisOptions = {}): Promise<EmbeddedRedis> {
  const persist = options.persist ?? true;
  if (persist && !options.dataDir) throw new Error('embedded redis: dataDir is required when persist is on');
  const bin = findRedisServer(options.binary);
  if (!bin) {
    throw new Error(
      'redis-server not found. Install it (Debian/Ubuntu: `apt-get install redis-server`; `npm start` and `npm test` do this when run as root), or set REDIS_URL to an existing Redis.',
    );
  }
  if (persist && options.dataDir) {
    const running = await findRunningEmbedded(options.dataDir);
    if (running) {
      // An instance left by an earlier run may have been started with another fsync policy.
      await setAppendfsync(running, options.appendfsync ?? 'everysec');
      return { url: running, owned: false, pid: undefined, stop: async () => {} };
    }
  }

  const port = options.port || (await freePort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--daemonize', 'no', '--save', ''];
  let dir: string | undefined;
  if (persist) {
    dir = join(options.dataDir!, 'redis');
    mkdirSync(dir, { recursive: true });
    args.push('--dir', dir, '--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'everysec');
  } else {
    args.push('--appendonly', 'no');
  }
  args.push(...(options.extraArgs ?? []));
  // Own process group: a terminal's Ctrl-C reaches only licensegate, which then stops Redis
  // after the gateway has recorded its Clients offline.
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.unref();
  let output = '';
  const collect = (b: Buffer) => {
    if (output.length < 8192) output += b.toString();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const url = `redis://127.0.0.1:${port}`;

  await waitForStart(child, url, options.startTimeoutMs ?? 10_000, () => output);
  child.stdout!.off('data', collect);
  child.stderr!.off('data', collect);
  child.stdout!.resume();
  child.stderr!.resume();
  if (persist) writeFileSync(embeddedUrlFile(options.dataDir!), `${url}\n`);

  return {
    url,
    owned: true,
    pid: child.pid,
    stop: () => stopChild(child, persist ? embeddedUrlFile(options.dataDir!) : undefined),
  };
}

async function waitForStart(child: ChildProcess, url: string, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`redis-server exited during start-up:\n${output()}`);
    if (await ping(url)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer within ${timeoutMs} ms:\n${output()}`);
}

async function stopChild(child: ChildProcess, urlFile?: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM'); // redis-server flushes the AOF and exits on SIGTERM
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  if (urlFile) rmSync(urlFile, { force: true });
}
