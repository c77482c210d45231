/**
 * Which Redis licensegate talks to (SPEC X1): one Redis (`REDIS_URL`), a Sentinel-managed
 * primary (`REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`) or a Redis Cluster
 * (`REDIS_CLUSTER_NODES`) — exactly one of them, or none for the zero-config embedded Redis.
 * The same variables drive `licensegate serve`, `licensegate admin`, the AdminClient, agent-sim's
 * checks, the chaos suite and the bench, so one environment describes one deployment.
 *
 * Credentials and TLS: `REDIS_USERNAME`/`REDIS_PASSWORD` (ACL user of the data nodes; a URL may
 * carry them instead), `REDIS_SENTINEL_USERNAME`/`REDIS_SENTINEL_PASSWORD` (the sentinels'
 * own), `REDIS_TLS=true` (TLS to the data nodes and sentinels; a `rediss://` URL implies it) and
 * `REDIS_TLS_CA_FILE` (a CA bundle to trust, e.g. a private CA).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface HostPort {
  host: string;
  port: number;
}

/** Credentials and TLS shared by the three modes. Secrets never reach a log line (describeTarget). */
export interface RedisAccess {
  username?: string;
  password?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
  /** TLS to the data nodes (and the sentinels). */
  tls?: boolean;
  /** File of the CA certificates to trust; read when connecting. */
  tlsCaFile?: string;
}

export type RedisTarget =
  | ({ kind: 'single'; url: string } & RedisAccess)
  | ({ kind: 'sentinel'; sentinels: HostPort[]; name: string } & RedisAccess)
  | ({ kind: 'cluster'; nodes: HostPort[] } & RedisAccess);

/** A setting that is wrong, with the variable it came from (start-up exits 2 with it). */
export class RedisTargetError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'RedisTargetError';
  }
}

const MODE_VARS = ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const;

function setting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** `host:port,host:port` (IPv6 as `[::1]:port`). */
export function parseHostPorts(variable: string, value: string): HostPort[] {
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new RedisTargetError(variable, 'must list at least one host:port');
  return list.map((item) => {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(item);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port < 1 || port > 65535) throw new RedisTargetError(variable, `${JSON.stringify(item)} is not host:port`);
    return { host: (m[1] ?? m[2])!, port };
  });
}

function access(env: NodeJS.ProcessEnv): RedisAccess {
  const a: RedisAccess = {};
  const username = setting(env, 'REDIS_USERNAME');
  const password = setting(env, 'REDIS_PASSWORD');
  const sentinelUsername = setting(env, 'REDIS_SENTINEL_USERNAME');
  const sentinelPassword = setting(env, 'REDIS_SENTINEL_PASSWORD');
  const tls = setting(env, 'REDIS_TLS');
  const ca = setting(env, 'REDIS_TLS_CA_FILE');
  if (username !== undefined) a.username = username;
  if (password !== undefined) a.password = password;
  if (sentinelUsername !== undefined) a.sentinelUsername = sentinelUsername;
  if (sentinelPassword !== undefined) a.sentinelPassword = sentinelPassword;
  if (tls !== undefined) {
    if (tls !== 'true' && tls !== 'false') throw new RedisTargetError('REDIS_TLS', 'must be true or false');
    a.tls = tls === 'true';
  }
  if (ca !== undefined) {
    try {
      readFileSync(resolve(ca));
    } catch (err) {
      throw new RedisTargetError('REDIS_TLS_CA_FILE', `cannot read ${ca}: ${(err as Error).message}`);
    }
    a.tlsCaFile = resolve(ca);
  }
  return a;
}

/**
 * The target the environment names, or undefined when none is set (the embedded Redis).
 * Throws RedisTargetError naming the variable when the settings are wrong or ambiguous.
 */
export function targetFromEnv(env: NodeJS.ProcessEnv = process.env): RedisTarget | undefined {
  const set = MODE_VARS.filter((v) => setting(env, v) !== undefined);
  if (set.length > 1) throw new RedisTargetError(set.join(', '), 'set only one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES');
  const name = setting(env, 'REDIS_SENTINEL_NAME');
  if (name !== undefined && set[0] !== 'REDIS_SENTINELS') throw new RedisTargetError('REDIS_SENTINEL_NAME', 'needs REDIS_SENTINELS');
  const a = access(env);
  if (set.length === 0) {
    const stray = Object.keys(a)[0];
    if (stray) throw new RedisTargetError(`REDIS_${stray.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`, 'needs REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES (the embedded Redis has its own)');
    return undefined;
  }
  if (set[0] === 'REDIS_URL') {
    const url = setting(env, 'REDIS_URL')!;
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      throw new RedisTargetError('REDIS_URL', 'must be a redis:// or rediss:// URL');
    }
    if (protocol !== 'redis:' && protocol !== 'rediss:') throw new RedisTargetError('REDIS_URL', 'must be a redis:// or rediss:// URL');
    return { kind: 'single', url, ...a };
  }
  if (set[0] === 'REDIS_SENTINELS') {
    const sentinels = parseHostPorts('REDIS_SENTINELS', setting(env, 'REDIS_SENTINELS')!);
    if (name === undefined) throw new RedisTargetError('REDIS_SENTINEL_NAME', 'is required with REDIS_SENTINELS (the name the sentinels monitor)');
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new RedisTargetError('REDIS_SENTINEL_NAME', 'must be 1-64 characters of [A-Za-z0-9_.-]');
    return { kind: 'sentinel', sentinels, name, ...a };
  }
  return { kind: 'cluster', nodes: parseHostPorts('REDIS_CLUSTER_NODES', setting(env, 'REDIS_CLUSTER_NODES')!), ...a };
}

/** The environment variables that describe `target` (for processes a test or the bench spawns). */
export function targetEnv(target: RedisTarget): Record<string, string> {
  const env: Record<string, string> = {};
  const hp = (list: HostPort[]) => list.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(',');
  if (target.kind === 'single') env.REDIS_URL = target.url;
  else if (target.kind === 'sentinel') {
    env.REDIS_SENTINELS = hp(target.sentinels);
    env.REDIS_SENTINEL_NAME = target.name;
  } else env.REDIS_CLUSTER_NODES = hp(target.nodes);
  if (target.username !== undefined) env.REDIS_USERNAME = target.username;
  if (target.password !== undefined) env.REDIS_PASSWORD = target.password;
  if (target.sentinelUsername !== undefined) env.REDIS_SENTINEL_USERNAME = target.sentinelUsername;
  if (target.sentinelPassword !== undefined) env.REDIS_SENTINEL_PASSWORD = target.sentinelPassword;
  if (target.tls !== undefined) env.REDIS_TLS = String(target.tls);
  if (target.tlsCaFile !== undefined) env.REDIS_TLS_CA_FILE = target.tlsCaFile;
  return env;
}

/** Every mode variable blanked: spread before targetEnv() so a child never inherits a second mode. */
export function clearedTargetEnv(): Record<string, string> {
  const names = [...MODE_VARS, 'REDIS_SENTINEL_NAME', 'REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_TLS', 'REDIS_TLS_CA_FILE'];
  return Object.fromEntries(names.map((n) => [n, '']));
}

/** For logs and messages: where, never a secret. */
export function describeTarget(target: RedisTarget): string {
  if (target.kind === 'single') {
    try {
      const u = new URL(target.url);
      return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
    } catch {
      return 'redis (unparseable URL)';
    }
  }
  const list = (target.kind === 'sentinel' ? target.sentinels : target.nodes).map((n) => `${n.host}:${n.port}`).join(',');
  return target.kind === 'sentinel' ? `sentinel ${target.name}@${list}${target.tls ? ' (tls)' : ''}` : `cluster ${list}${target.tls ? ' (tls)' : ''}`;
}

/** A plain single-Redis target from a URL (the embedded Redis, tests). */
export function singleTarget(url: string): RedisTarget {
  return { kind: 'single', url };
}
