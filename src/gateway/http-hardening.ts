/**
 * Slowloris bounds for licensegate's HTTP servers — the agent port (before the WebSocket
 * upgrade) and the health port (SPEC Z4, R2). Node's defaults let a peer hold a socket for
 * minutes by sending a header byte now and then (headersTimeout 60 s, requestTimeout 300 s,
 * checked only every 30 s, up to 2,000 headers). Agents send one small upgrade request at once;
 * a peer that needs seconds for it is not an agent.
 *
 * Two halves because Node takes some settings only at construction (the timeouts' checking
 * interval): `httpServerOptions` for createServer (http or https), `hardenHttpServer` after it.
 * The listener (agent port) and the health server both call them.
 */
import type { Server as HttpServer, ServerOptions } from 'node:http';

export interface HttpLimits {
  /** The whole request head (for agents: the upgrade request) must arrive within this. */
  headersTimeoutMs: number;
  /** The whole request within this (health requests have no body; bounds a dribbled one). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection (health checks) is closed after this. */
  keepAliveTimeoutMs: number;
  /** Headers beyond this many are ignored (agents send about ten). */
  maxHeadersCount: number;
  /**
   * A socket silent this long before its upgrade (or between health requests) is destroyed;
   * ws clears it at the upgrade, after which the Hello timeout and heartbeats govern.
   */
  idleTimeoutMs: number;
  /** Open sockets on this server at most (0: no bound; the agent port has its own caps). */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxHeadersCount: 50,
  idleTimeoutMs: 5_000,
  maxConnections: 0,
};

/** The health port answers balancers and monitors: a few hundred sockets is plenty. */
export const HEALTH_MAX_CONNECTIONS = 1_024;

/**
 * Options for http.createServer / https.createServer. `handshakeTimeout` bounds the TLS
 * handshake of an https server (Node's default: 120 s); http ignores it.
 */
export function httpServerOptions(limits: HttpLimits): ServerOptions & { handshakeTimeout: number } {
  return {
    handshakeTimeout: limits.headersTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (default 30 s, which would let a
    // slow peer keep a socket 30 s past its deadline).
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 2))),
    // Request heads beyond 16 KiB are refused with 431 (Node's default; stated for the record).
    maxHeaderSize: 16 * 1024,
  };
}

/** The settings Node takes after construction; returns the server. */
export function hardenHttpServer<S extends HttpServer>(server: S, limits: HttpLimits): S {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs);
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxHeadersCount = limits.maxHeadersCount;
  // Without a 'timeout' listener Node destroys the idle socket itself.
  server.timeout = limits.idleTimeoutMs;
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  return server;
}
