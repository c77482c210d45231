/**
 * The zero-config default: a `redis-server` child process (Debian's package) with AOF on and
 * its data in DATA_DIR/redis (SPEC R1). Tests use the same module without persistence.
 * The running instance records its URL in DATA_DIR/redis.url so `licensegate admin` can find
 * it; a still-running instance from an earlier run of the same DATA_DIR is reused, never
 * doubled (two servers on one AOF would corrupt it).
 *
 * With persistence it requires a password (SPEC Z2; src/auth/redis-secret.ts): kept in
 * DATA_DIR/redis.secret (0600), given to redis-server in a 0600 config file, never on its
 * command line. redis.url records the address only; `url` of the returned handle carries the
 * password (for connecting) and `address` does not (for logs).
 *
 * An instance started by an older licensegate (no password) that is still running is reused
 * and gets the password at once with CONFIG SET requirepass: it is recorded in this DATA_DIR,
 * so it is ours, and leaving it open until its next restart would leave the AOF readable and
 * writable by every local user meanwhile. Connections already open (an older gateway still
 * running) stay authenticated; new ones need the password. Restarting it instead would cut
 * such a gateway off and risk the AOF for nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../net/free-port.ts';
import { ensurePrivateDir, ensureRedisSecret, readRedisSecret, redisSecretFile, urlWithPassword, writeRedisConf } from '../auth/redis-secret.ts';

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
  /**
   * Require the password kept in DATA_DIR/redis.secret (made if missing). Default: on with
   * persistence (the zero-config default), off without (tests' throwaway servers).
   */
  secret?: boolean;
}

export interface EmbeddedRedis {
  /** Where to connect, with the password when one is required: never log it (use `address`). */
  url: string;
  /** `redis://127.0.0.1:<port>`, without any secret: for logs and messages. */
  address: string;
  /** How the instance is protected: `password` (required since it started, or applied now to an older one) or `none`. */
  protection: 'password' | 'password-applied' | 'none';
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

type Probe = 'ok' | 'noauth' | 'down';

/** Does it answer PING (`noauth`: it answers, but wants a password this URL lacks or gets wrong). */
async function probe(url: string): Promise<Probe> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  // The refusal may come as the ready check's 'error' event, connect() then rejecting with "Connection is closed".
  const seen: string[] = [];
  r.on('error', (err: Error) => seen.push(err.message));
  try {
    await r.connect();
    return (await r.ping()) === 'PONG' ? 'ok' : 'down';
  } catch (err) {
    return /NOAUTH|WRONGPASS|invalid password|Authentication required/i.test([(err as Error).message, ...seen].join(' ')) ? 'noauth' : 'down';
  } finally {
    r.disconnect();
  }
}

async function ping(url: string): Promise<boolean> {
  return (await probe(url)) === 'ok';
}

async function configSet(url: string, ...pairs: string[]): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.call('CONFIG', 'SET', ...pairs);
  } finally {
    r.disconnect();
  }
}

export function embeddedUrlFile(dataDir: string): string {
  return join(dataDir, 'redis.url');
}

export interface RunningEmbedded {
  /** Recorded address, no secret. */
  address: string;
  /** Where to connect: with the password of DATA_DIR/redis.secret when the instance requires one. */
  url: string;
  passwordRequired: boolean;
}

/** Thrown when the recorded instance answers but refuses the password of DATA_DIR/redis.secret. */
export class EmbeddedRedisAuthError extends Error {
  constructor(address: string, dataDir: string) {
    super(
      `the Redis recorded in ${embeddedUrlFile(dataDir)} (${address}) requires a password that ${redisSecretFile(dataDir)} does not hold; ` +
        'restore that file, or stop that redis-server and start again',
    );
    this.name = 'EmbeddedRedisAuthError';
  }
}

/**
 * The running embedded instance recorded in dataDir, if it answers; with the stored password
 * when it requires one. An older version's instance answers without: `passwordRequired` false.
 */
export async function findRunningEmbedded(dataDir: string): Promise<RunningEmbedded | null> {
  const file = embeddedUrlFile(dataDir);
  if (!existsSync(file)) return null;
  const address = readFileSync(file, 'utf8').trim();
  // Without a password first: a password sent to a server that has none makes ioredis print a warning.
  const open = await probe(address);
  if (open === 'ok') return { address, url: address, passwordRequired: false };
  if (open === 'down') return null;
  const url = urlWithPassword(address, readRedisSecret(dataDir));
  if (url !== address && (await probe(url)) === 'ok') return { address, url, passwordRequired: true };
  throw new EmbeddedRedisAuthError(address, dataDir);
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
  const secret = options.secret ?? persist;
  if (secret && !options.dataDir) throw new Error('embedded redis: dataDir is required for its password (secret)');
  if (options.dataDir) ensurePrivateDir(options.dataDir);
  const password = secret ? ensureRedisSecret(options.dataDir!) : undefined;
  if (persist && options.dataDir) {
    const running = await findRunningEmbedded(options.dataDir);
    if (running) {
      let url = running.url;
      let protection: EmbeddedRedis['protection'] = running.passwordRequired ? 'password' : 'none';
      if (!running.passwordRequired && password !== undefined) {
        // Started by an older version without a password: it gets one now (see the header).
        await configSet(running.address, 'requirepass', password, 'masterauth', password);
        url = urlWithPassword(running.address, password);
        protection = 'password-applied';
      }
      // An instance left by an earlier run may have been started with another fsync policy.
      await configSet(url, 'appendfsync', options.appendfsync ?? 'everysec');
      return { url, address: running.address, protection, owned: false, pid: undefined, stop: async () => {} };
    }
  }

  const port = options.port || (await freePort());
  // The config file comes first (redis-server reads it, then the arguments): the password is never on the command line.
  const args = password !== undefined ? [writeRedisConf(options.dataDir!, password)] : [];
  args.push('--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--daemonize', 'no', '--save', '');
  let dir: string | undefined;
  if (persist) {
    dir = join(options.dataDir!, 'redis');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // ours: an older version made it 0755, and its AOF files are readable by whoever can enter it
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
  const address = `redis://127.0.0.1:${port}`;
  const url = urlWithPassword(address, password);

  await waitForStart(child, url, options.startTimeoutMs ?? 10_000, () => output);
  child.stdout!.off('data', collect);
  child.stderr!.off('data', collect);
  child.stdout!.resume();
  child.stderr!.resume();
  if (persist) writeFileSync(embeddedUrlFile(options.dataDir!), `${address}\n`);

  return {
    url,
    address,
    protection: password !== undefined ? 'password' : 'none',
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
