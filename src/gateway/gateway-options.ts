/** Options of one gateway node, with their defaults (spread once, validated at construction). */
import type { RedisClient } from '../store/redis-connection.ts';
import type { Logger } from 'pino';
import { DEFAULT_OS_LICENSE_MAP, type OsLicenseRule } from '../licensing/os-license-map.ts';
import type { Keys } from '../store/keys.ts';
import { NOOP_METRICS, type Metrics } from '../metrics/instruments.ts';
import { DEFAULT_ENROLL_BURST, DEFAULT_ENROLL_RATE } from '../licensing/tenant-limits.ts';
import { DEFAULT_AUTH_AUDIT_WINDOW_MS } from './failed-auth-audit.ts';
import type { TlsMaterial } from './tls-context.ts';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './http-hardening.ts';
import { DEFAULT_SOURCE_LIMITS, parseTrustedProxies } from './source-limits.ts';

export interface GatewayOptions {
  /** Command connection (scripts defined). Required. */
  redis: RedisClient;
  /** Key namer. Required. */
  keys: Keys;
  /** Logger; the server hands each connection a child. Required. */
  logger: Logger;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Agents heartbeat this often; silence for two intervals closes the connection. Default 15 000 ms. */
  heartbeatIntervalMs?: number;
  /**
   * Hello must arrive within this after the upgrade (SPEC C1, Z4): an unauthenticated socket
   * holds a file descriptor, so not long. Default 5 000 ms.
   */
  helloTimeoutMs?: number;
  /** Largest accepted frame. Default 65 536 bytes. */
  maxPayloadBytes?: number;
  /** Sustained frames per second per connection. Default 20. */
  framesPerSecond?: number;
  /** Frames a connection may send in a burst. Default 60. */
  frameBurst?: number;
  /** How often buffered last-seen times are written. Default 5 000 ms. */
  lastSeenFlushMs?: number;
  /** How often this node beats its liveness. Default 5 000 ms. */
  nodeHeartbeatMs?: number;
  /** A node silent this long is dead and its Clients go offline. Default 15 000 ms. */
  nodeTimeoutMs?: number;
  /**
   * How often this node makes the online records match the sockets it holds: records of its
   * own that no socket backs are removed, live sockets missing from them are re-registered
   * (SPEC F1). Bounds how long any presence record can be wrong. Default 30 000 ms.
   */
  reconcileIntervalMs?: number;
  /** Most commands replayed in one go after Hello. Default 1 000. */
  maxReplay?: number;
  /** Hellos authenticated at once before OVERLOADED (C13). Default 1 000. */
  maxHandshakes?: number;
  /** First-time enrollments at once before OVERLOADED (C13). Default 500. */
  maxEnrollments?: number;
  /** Open connections before OVERLOADED (C13); keep below the open-file limit. Default 18 000. */
  maxConnections?: number;
  /**
   * Hellos beyond maxHandshakes / maxEnrollments that wait for a slot instead of being refused
   * (C13, hello-queue.ts); 0 refuses them at once. Default 20 000 (≥ maxConnections + maxHandshakes).
   */
  helloQueueMax?: number;
  /** Longest a queued Hello waits before OVERLOADED (checked by the sweep). Default 6 000 ms. */
  helloQueueWaitMs?: number;
  /** Smallest OVERLOADED retry hint. Default 1 000 ms. */
  retryBaseMs?: number;
  /** Largest OVERLOADED retry hint. Default 30 000 ms. */
  retryMaxMs?: number;
  /** OS → license type table (SPEC L2). Default DEFAULT_OS_LICENSE_MAP. */
  osLicenseMap?: readonly OsLicenseRule[];
  /** This node's id. Default: host-pid-random. */
  nodeId?: string;
  /** New registrations per second of a tenant that sets none (SPEC Z3). Default 100. */
  enrollRate?: number;
  /** Registrations a tenant that sets none may make at once (SPEC Z3). Default 50 000. */
  enrollBurst?: number;
  /** Failed authentications are audited once per tenant per window (SPEC Z3). Default 10 000 ms. */
  authAuditWindowMs?: number;
  /** Serve wss:// with this certificate (SPEC Z1, tls-context.ts); null: ws://. Default null. */
  tls?: TlsMaterial | null;
  // --- abuse bounds (SPEC Z4, docs/abuse-limits.md) ---
  /** Sockets without a Hello yet (or closing after a failed one) in this process. Default 10 000. */
  maxUnauthenticated?: number;
  /** Sockets without a Hello yet from one source address (IPv6: per /64). Default 2 000. */
  maxUnauthenticatedPerSource?: number;
  /** Failed authentications from one address within authFailureWindowMs before it is backed off. Default 20. */
  authFailuresPerSource?: number;
  /** Default 60 000 ms. */
  authFailureWindowMs?: number;
  /** First backoff of an address; doubles each time up to authBackoffMaxMs. Default 1 000 ms. */
  authBackoffBaseMs?: number;
  /** Default 60 000 ms. */
  authBackoffMaxMs?: number;
  /** Peers (addresses, CIDR ranges) whose X-Forwarded-For names the client. Default none. */
  trustedProxies?: readonly string[];
  /** A connection whose unsent bytes pass this is closed as a slow reader. Default 1 MiB. */
  maxSendBufferBytes?: number;
  /** Slowloris bounds of the agent port's HTTP server (http-hardening.ts). */
  http?: HttpLimits;
  /** Where refusals, handshakes, doorbells and delivery latency are reported (SPEC H4). Default NOOP_METRICS. */
  metrics?: Metrics;
}

export type ResolvedGatewayOptions = Required<GatewayOptions>;

export function resolveGatewayOptions(options: GatewayOptions, defaultNodeId: () => string): ResolvedGatewayOptions {
  const o: ResolvedGatewayOptions = {
    host: '127.0.0.1',
    port: 8080,
    heartbeatIntervalMs: 15_000,
    helloTimeoutMs: 5_000,
    maxPayloadBytes: 64 * 1024,
    framesPerSecond: 20,
    frameBurst: 60,
    lastSeenFlushMs: 5_000,
    nodeHeartbeatMs: 5_000,
    nodeTimeoutMs: 15_000,
    reconcileIntervalMs: 30_000,
    maxReplay: 1_000,
    maxHandshakes: 1_000,
    maxEnrollments: 500,
    maxConnections: 18_000,
    helloQueueMax: 20_000,
    helloQueueWaitMs: 6_000,
    retryBaseMs: 1_000,
    retryMaxMs: 30_000,
    osLicenseMap: DEFAULT_OS_LICENSE_MAP,
    enrollRate: DEFAULT_ENROLL_RATE,
    enrollBurst: DEFAULT_ENROLL_BURST,
    authAuditWindowMs: DEFAULT_AUTH_AUDIT_WINDOW_MS,
    tls: null,
    maxUnauthenticated: DEFAULT_SOURCE_LIMITS.maxUnauthenticated,
    maxUnauthenticatedPerSource: DEFAULT_SOURCE_LIMITS.maxUnauthenticatedPerSource,
    authFailuresPerSource: DEFAULT_SOURCE_LIMITS.authFailuresPerSource,
    authFailureWindowMs: DEFAULT_SOURCE_LIMITS.authFailureWindowMs,
    authBackoffBaseMs: DEFAULT_SOURCE_LIMITS.authBackoffBaseMs,
    authBackoffMaxMs: DEFAULT_SOURCE_LIMITS.authBackoffMaxMs,
    trustedProxies: DEFAULT_SOURCE_LIMITS.trustedProxies,
    maxSendBufferBytes: 1024 * 1024,
    http: DEFAULT_HTTP_LIMITS,
    metrics: NOOP_METRICS,
    ...stripUndefined(options),
    redis: options.redis,
    keys: options.keys,
    logger: options.logger,
    nodeId: options.nodeId ?? defaultNodeId(),
  };
  const positive: (keyof ResolvedGatewayOptions)[] = [
    'heartbeatIntervalMs', 'helloTimeoutMs', 'maxPayloadBytes', 'framesPerSecond', 'frameBurst',
    'lastSeenFlushMs', 'nodeHeartbeatMs', 'nodeTimeoutMs', 'reconcileIntervalMs', 'maxReplay',
    'maxHandshakes', 'maxEnrollments', 'maxConnections', 'retryBaseMs', 'retryMaxMs',
    'helloQueueWaitMs',
    'enrollRate', 'enrollBurst', 'authAuditWindowMs',
    'helloQueueWaitMs', 'maxUnauthenticated', 'maxUnauthenticatedPerSource', 'authFailuresPerSource',
    'authFailureWindowMs', 'authBackoffBaseMs', 'authBackoffMaxMs', 'maxSendBufferBytes',
  ];
  for (const k of positive) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`gateway option ${k} must be a positive number, got ${String(v)}`);
  }
  if (!Number.isInteger(o.helloQueueMax) || o.helloQueueMax < 0) throw new Error(`gateway option helloQueueMax must be a non-negative integer, got ${String(o.helloQueueMax)}`);
  if (o.nodeTimeoutMs <= o.nodeHeartbeatMs) throw new Error('gateway option nodeTimeoutMs must exceed nodeHeartbeatMs');
  if (o.retryMaxMs < o.retryBaseMs) throw new Error('gateway option retryMaxMs must be at least retryBaseMs');
  if (o.frameBurst < 4) throw new Error('gateway option frameBurst must be at least 4');
  if (o.authBackoffMaxMs < o.authBackoffBaseMs) throw new Error('gateway option authBackoffMaxMs must be at least authBackoffBaseMs');
  parseTrustedProxies(o.trustedProxies); // throws naming a bad entry
  if (!/^[A-Za-z0-9._-]+$/.test(o.nodeId)) throw new Error('gateway option nodeId may only contain [A-Za-z0-9._-]');
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
