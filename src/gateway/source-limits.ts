/**
 * Per-source-address and per-process bounds on what an unauthenticated peer may hold (SPEC Z4,
 * R2), so that one misbehaving host cannot keep real agents out:
 * - unauthenticated sockets (accepted, no Hello yet — or whose Hello failed and that are still
 *   closing) are capped per process and per source address;
 * - failed authentications are counted per source address; past a threshold in a window the
 *   address is backed off exponentially: its Hellos are refused at once with AUTH_BACKOFF and a
 *   retry hint, without a Redis round trip.
 *
 * Memory is bounded: a socket counter exists only while that address has unauthenticated
 * sockets (so at most maxUnauthenticated entries), and failure records are capped at
 * maxTrackedSources (the oldest record goes first) and pruned once idle. IPv6 peers are
 * counted per /64 (one host usually owns a whole /64; counting single addresses would let it
 * rotate through 2^64 of them); IPv4-mapped IPv6 addresses count as their IPv4 address.
 *
 * Behind a balancer every TCP peer is the balancer: with trustedProxies set, a socket from a
 * listed peer is counted only in the process total at accept, and the client's address is
 * taken from X-Forwarded-For at the WebSocket upgrade (the rightmost entry that is not itself
 * a trusted proxy, so a client cannot spoof it by sending its own header).
 */
import { BlockList, isIP } from 'node:net';

export interface SourceLimitOptions {
  /** Unauthenticated sockets in the whole process (TCP accepted, no Hello yet). */
  maxUnauthenticated: number;
  /** Unauthenticated sockets from one source address. */
  maxUnauthenticatedPerSource: number;
  /** Failed authentications from one address within authFailureWindowMs before it is backed off. */
  authFailuresPerSource: number;
  authFailureWindowMs: number;
  /** First backoff; doubles each time the threshold is reached again, up to authBackoffMaxMs. */
  authBackoffBaseMs: number;
  authBackoffMaxMs: number;
  /** Peers whose X-Forwarded-For names the client (addresses or CIDR ranges). */
  trustedProxies: readonly string[];
  /** Most addresses with failure records held at once. */
  maxTrackedSources: number;
}

export const DEFAULT_SOURCE_LIMITS: SourceLimitOptions = {
  maxUnauthenticated: 18_000,
  maxUnauthenticatedPerSource: 2_000,
  authFailuresPerSource: 20,
  authFailureWindowMs: 60_000,
  authBackoffBaseMs: 1_000,
  authBackoffMaxMs: 60_000,
  trustedProxies: [],
  maxTrackedSources: 100_000,
};

/**
 * Refusals that count as a failed authentication of the address: a wrong token or credential,
 * or naming a tenant or client id that is not the peer's. Not ENROLLMENT_PENDING,
 * CLIENT_UNINSTALLED, OVERLOADED and the like: an honest agent gets those in normal life.
 */
const AUTH_FAILURE_CODES: ReadonlySet<string> = new Set(['AUTH_FAILED', 'UNKNOWN_TENANT', 'CLIENT_IN_OTHER_TENANT']);

export function countsAsAuthFailure(code: string): boolean {
  return AUTH_FAILURE_CODES.has(code);
}

interface FailureRecord {
  windowStart: number;
  failures: number;
  /** Times the threshold was reached in a row; the backoff is base * 2^(level-1). */
  level: number;
  blockedUntil: number;
  lastAt: number;
}

/** Why a socket may not stay: the process or its source address is at its cap. */
export type UnauthenticatedRefusal = 'process' | 'source' | undefined;

/** Counting key of an address: IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6 by /64. */
export function sourceKey(address: string): string {
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return address.slice(7);
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** Parses a TRUSTED_PROXIES list (addresses and CIDR ranges); throws naming a bad entry. */
export function parseTrustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    const [addr = '', bits, extra] = entry.split('/');
    const type = isIP(addr);
    if (type === 0 || extra !== undefined) throw new RangeError(`"${entry}" is not an IP address or CIDR range`);
    const family = type === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      list.addAddress(addr, family);
      continue;
    }
    const prefix = Number(bits);
    if (!/^\d+$/.test(bits) || prefix > (type === 4 ? 32 : 128)) throw new RangeError(`"${entry}" has an invalid prefix length`);
    list.addSubnet(addr, prefix, family);
  }
  return list;
}

export class SourceLimits {
  readonly options: SourceLimitOptions;
  /** Unauthenticated sockets in the process. */
  unauthenticated = 0;
  /** Sockets refused at a cap, and Hellos refused by a backoff, since start (for logs/tests). */
  refusedSockets = 0;
  refusedHellos = 0;
  private readonly perSource = new Map<string, number>();
  private readonly failures = new Map<string, FailureRecord>();
  private readonly proxies: BlockList;
  private readonly anyProxy: boolean;
  private lastPrune = 0;

  constructor(options: Partial<SourceLimitOptions> = {}) {
    this.options = { ...DEFAULT_SOURCE_LIMITS, ...options };
    this.proxies = parseTrustedProxies(this.options.trustedProxies);
    this.anyProxy = this.options.trustedProxies.length > 0;
  }

  /** The peer is a trusted proxy: its sockets' client address comes from X-Forwarded-For. */
  isTrustedProxy(peer: string): boolean {
    if (!this.anyProxy || !peer) return false;
    const plain = peer.startsWith('::ffff:') && isIP(peer.slice(7)) === 4 ? peer.slice(7) : peer;
    const type = isIP(plain);
    return type !== 0 && this.proxies.check(plain, type === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The client's address: the peer's, or — when the peer is a trusted proxy — the rightmost
   * X-Forwarded-For entry that is not a trusted proxy itself (entries left of it are whatever
   * the client sent, and could be forged). The peer's when the header names none.
   */
  clientAddress(peer: string, forwardedFor: string | string[] | undefined): string {
    if (!this.isTrustedProxy(peer) || forwardedFor === undefined) return peer;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!.trim();
      if (isIP(hop) === 0) return peer; // garbage: do not guess
      if (!this.isTrustedProxy(hop)) return hop;
    }
    return peer;
  }

  /**
   * A socket from `key` (a sourceKey, or '' for one counted in the process total only) becomes
   * unauthenticated. Returns why it may not, or undefined when it was counted.
   */
  enter(key: string): UnauthenticatedRefusal {
    if (this.unauthenticated >= this.options.maxUnauthenticated) return this.refuse('process');
    if (key) {
      const n = this.perSource.get(key) ?? 0;
      if (n >= this.options.maxUnauthenticatedPerSource) return this.refuse('source');
      this.perSource.set(key, n + 1);
    }
    this.unauthenticated++;
    return undefined;
  }

  /** Counts a socket whatever the caps (one whose Hello failed: it is closing). */
  enterAnyway(key: string): void {
    if (key) this.perSource.set(key, (this.perSource.get(key) ?? 0) + 1);
    this.unauthenticated++;
  }

  /** The socket counted under `key` authenticated (sent its Hello) or closed. */
  leave(key: string): void {
    this.unauthenticated--;
    if (!key) return;
    const n = (this.perSource.get(key) ?? 1) - 1;
    if (n <= 0) this.perSource.delete(key);
    else this.perSource.set(key, n);
  }

  /** Unauthenticated sockets counted for one source key. */
  unauthenticatedFrom(key: string): number {
    return this.perSource.get(key) ?? 0;
  }

  /**
   * How long Hellos from `address` are still refused (0: not backed off). On the Hello path:
   * nothing but a size check while no address has failed, else one key and one Map lookup.
   */
  backoffMs(address: string, now: number): number {
    if (this.failures.size === 0) return 0;
    const r = this.failures.get(sourceKey(address));
    if (!r || r.blockedUntil <= now) return 0;
    this.refusedHellos++;
    return r.blockedUntil - now;
  }

  /** An authentication from `key` failed; returns the backoff it started (0: none). */
  recordFailure(key: string, now: number): number {
    const o = this.options;
    let r = this.failures.get(key);
    if (!r) {
      if (this.failures.size >= o.maxTrackedSources) this.failures.delete(this.failures.keys().next().value!);
      r = { windowStart: now, failures: 0, level: 0, blockedUntil: 0, lastAt: now };
      this.failures.set(key, r);
    }
    // A quiet spell as long as the longest backoff forgives the address.
    if (now - r.lastAt > o.authBackoffMaxMs) r.level = 0;
    if (now - r.windowStart > o.authFailureWindowMs) {
      r.windowStart = now;
      r.failures = 0;
    }
    r.lastAt = now;
    if (++r.failures < o.authFailuresPerSource) return 0;
    r.level++;
    r.failures = 0;
    r.windowStart = now;
    const ms = Math.min(o.authBackoffMaxMs, o.authBackoffBaseMs * 2 ** Math.min(30, r.level - 1));
    r.blockedUntil = now + ms;
    return ms;
  }

  /** Drops failure records idle longer than the window and the longest backoff (at most every 5 s). */
  prune(now: number): void {
    if (now - this.lastPrune < 5_000 || this.failures.size === 0) return;
    this.lastPrune = now;
    const idle = Math.max(this.options.authFailureWindowMs, this.options.authBackoffMaxMs);
    for (const [key, r] of this.failures) {
      if (r.blockedUntil <= now && now - r.lastAt > idle) this.failures.delete(key);
    }
  }

  /** Addresses with failure records (for tests: the bound on memory). */
  get trackedSources(): number {
    return this.failures.size;
  }

  private refuse(why: 'process' | 'source'): UnauthenticatedRefusal {
    this.refusedSockets++;
    return why;
  }
}
