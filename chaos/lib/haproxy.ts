/**
 * Real HAProxy (Debian's `haproxy` 2.6 binary) in front of N gateway processes, for tests, the
 * chaos suite and the bench (SPEC X2, X4). It runs the shipped `deploy/haproxy.cfg` itself: the
 * only text replaced is the block of server lines between `# BEGIN gateways` / `# END gateways`,
 * rebuilt from the first of them with the test's loopback addresses (so every option on a
 * server line stays as shipped); ports, the stats socket, logging and the check timing come in
 * through the file's own environment variables (`"${LG_…-default}"`). The rendered copy is
 * written next to the stats socket so that a failed run can be read afterwards.
 *
 * Started in the foreground (`-db`), registered with the caller's Scope (SIGTERM, then SIGKILL;
 * killed when the process exits). Ready once its frontend accepts TCP connections and, through
 * the stats socket's `show stat`, every server is UP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { exitOf, stopChild, type Scope } from '../../bench/lib/scope.ts';
import { freePort } from '../../src/net/free-port.ts';

export const HAPROXY_CONFIG = join(import.meta.dirname, '../../deploy/haproxy.cfg');
const HAPROXY_PATHS = ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy'];

/** One gateway as HAProxy sees it: its WebSocket port (traffic) and HTTP port (/readyz checks). */
export interface HaproxyBackend {
  /** Server name in the backend; default gw1, gw2, … */
  name?: string;
  host?: string;
  wsPort: number;
  httpPort: number;
}

export interface HaproxyOptions {
  /** Directory for the rendered config and the stats socket (a scenario's scratch dir). */
  dir: string;
  backends: HaproxyBackend[];
  /**
   * Values for the config's tunables (LG_CHECK_INTER, LG_CHECK_FASTINTER, LG_CHECK_FALL, …);
   * unset ones keep the shipped defaults. The launcher sets the ports, socket and log target.
   */
  tunables?: Record<string, string>;
  /** Bound for start-up (listening + every server UP); default 20 s. */
  startTimeoutMs?: number;
}

/** One server's line of `show stat`. */
export interface ServerStat {
  name: string;
  /** UP, DOWN, "UP 1/2" (going down), "DOWN 1/2" (going up), MAINT, no check … */
  status: string;
  /** Current sessions (connected agents through HAProxy). */
  sessions: number;
  /** Sessions since start. */
  total: number;
}

export function findHaproxy(): string {
  const found = HAPROXY_PATHS.find((p) => existsSync(p));
  if (!found) throw new Error('haproxy not found: install Debian\'s package (`apt-get install haproxy`; bin/prepare.mjs does it for tests and the bench)');
  return found;
}

/** deploy/haproxy.cfg with its gateway block rebuilt for `backends` (nothing else changes). */
export function renderHaproxyConfig(backends: HaproxyBackend[], source = readFileSync(HAPROXY_CONFIG, 'utf8')): string {
  const lines = source.split('\n');
  const begin = lines.findIndex((l) => l.trim() === '# BEGIN gateways');
  const end = lines.findIndex((l) => l.trim() === '# END gateways');
  if (begin < 0 || end < begin) throw new Error('deploy/haproxy.cfg: no "# BEGIN gateways" … "# END gateways" block');
  const template = lines.slice(begin + 1, end).find((l) => /^\s*server\s/.test(l));
  const m = template && /^(\s*)server\s+\S+\s+\S+(.*?)\bport\s+\d+(.*)$/.exec(template);
  if (!m) throw new Error('deploy/haproxy.cfg: the gateway block has no "server <name> <addr> … port <n>" line');
  const [, indent, middle, rest] = m;
  const servers = backends.map((b, i) => `${indent}server ${b.name ?? `gw${i + 1}`} ${b.host ?? '127.0.0.1'}:${b.wsPort}${middle}port ${b.httpPort}${rest}`);
  return [...lines.slice(0, begin + 1), ...servers, ...lines.slice(end)].join('\n');
}

/**
 * The most sessions HAProxy may take under this process's hard open-file limit (it needs about
 * 2 per session plus a few dozen of its own, and refuses to start otherwise): the shipped
 * 60,000 needs ~120k descriptors, and this machine caps a process at 20,000.
 */
export function maxconnForFdLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const m = /^Max open files\s+\S+\s+(\S+)/m.exec(limits);
  const hard = m && m[1] !== 'unlimited' ? Number(m[1]) : 1_048_576;
  return Math.min(60_000, Math.floor((hard - 200) / 2));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class HaproxyProcess {
  private constructor(
    readonly child: ChildProcess,
    /** ws:// URL of the agents' frontend: the one URL the fleet connects to. */
    readonly url: string,
    readonly port: number,
    readonly statsSocket: string,
    readonly configPath: string,
    readonly maxconn: number,
    private readonly out: () => string,
  ) {}

  static async start(scope: Scope, o: HaproxyOptions): Promise<HaproxyProcess> {
    scope.check();
    const bin = findHaproxy();
    const port = await freePort();
    const statsSocket = join(o.dir, 'haproxy.sock');
    const configPath = join(o.dir, 'haproxy.cfg');
    writeFileSync(configPath, renderHaproxyConfig(o.backends));
    const maxconn = Number(o.tunables?.LG_MAXCONN ?? maxconnForFdLimit());
    const env = {
      ...process.env,
      LG_AGENTS_BIND: `127.0.0.1:${port}`,
      LG_STATS_SOCKET: statsSocket,
      LG_STATS_BIND: `127.0.0.1:${await freePort()}`,
      LG_LOG_TARGET: 'stdout',
      LG_MAXCONN: String(maxconn),
      ...o.tunables,
    };
    const child = spawn(bin, ['-db', '-f', configPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    scope.child('haproxy', child, 5_000);
    let out = '';
    const append = (b: Buffer) => {
      if (out.length < 256 * 1024) out += b.toString();
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    const proc = new HaproxyProcess(child, `ws://127.0.0.1:${port}`, port, statsSocket, configPath, maxconn, () => out);
    const deadline = Date.now() + (o.startTimeoutMs ?? 20_000);
    const names = o.backends.map((b, i) => b.name ?? `gw${i + 1}`);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`haproxy exited (${child.exitCode ?? child.signalCode}) at start-up:\n${out.slice(-4000)}`);
      if ((await canConnect(port)) && existsSync(statsSocket)) {
        const stats = await proc.servers().catch(() => []);
        if (names.every((n) => stats.find((s) => s.name === n)?.status === 'UP')) return proc;
      }
      if (Date.now() > deadline) {
        const stats = await proc.servers().catch((err: Error) => err.message);
        await stopChild(child, 2_000);
        throw new Error(`haproxy not ready (listening, every server UP) within ${o.startTimeoutMs ?? 20_000} ms: ${JSON.stringify(stats)}\n${out.slice(-4000)}`);
      }
      await sleep(50);
    }
  }

  /** Everything HAProxy printed (its log goes to stdout). */
  output(): string {
    return this.out();
  }

  /** One command on the stats socket (the runtime API); resolves with the whole answer. */
  command(cmd: string, timeoutMs = 5_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const sock = connect(this.statsSocket);
      let text = '';
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`haproxy stats socket: no answer to "${cmd}" within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.on('connect', () => sock.end(`${cmd}\n`));
      sock.on('data', (b: Buffer) => (text += b.toString()));
      sock.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      sock.on('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
    });
  }

  /** The gateways' lines of `show stat` (backend `gateways`). */
  async servers(): Promise<ServerStat[]> {
    const csv = await this.command('show stat');
    const [header, ...rows] = csv.split('\n').filter((l) => l.length > 0);
    if (!header?.startsWith('# ')) throw new Error(`haproxy stats socket: unexpected answer ${JSON.stringify(csv.slice(0, 200))}`);
    const cols = header.slice(2).split(',');
    const at = (name: string) => cols.indexOf(name);
    return rows
      .map((r) => r.split(','))
      .filter((f) => f[at('pxname')] === 'gateways' && f[at('svname')] !== 'BACKEND')
      .map((f) => ({ name: f[at('svname')]!, status: f[at('status')]!, sessions: Number(f[at('scur')]), total: Number(f[at('stot')]) }));
  }

  /** Waits until server `name`'s status is exactly `status` (UP, DOWN); returns when it was seen. */
  async waitStatus(name: string, status: 'UP' | 'DOWN', timeoutMs = 20_000, pollMs = 25): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      last = (await this.servers()).find((s) => s.name === name)?.status ?? 'missing';
      if (last === status) return Date.now();
      if (Date.now() > deadline) throw new Error(`haproxy: ${name} still ${last}, not ${status}, after ${timeoutMs} ms`);
      await sleep(pollMs);
    }
  }

  /** SIGTERM (HAProxy's hard stop), SIGKILL after 5 s. */
  async stop(): Promise<void> {
    await stopChild(this.child, 5_000);
    await exitOf(this.child);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
