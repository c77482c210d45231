/**
 * What a gateway does about peers before they have authenticated (SPEC Z3, Z4), in one place:
 * sockets are counted from TCP accept per process and per source address (over a cap they are
 * destroyed unread: unauthenticated-sockets.ts); an address that keeps failing authentication
 * is backed off without touching Redis (source-limits.ts); and failed authentications are
 * audited per tenant in aggregated windows (failed-auth-audit.ts). The GatewayServer calls it
 * at accept, at the WebSocket, at the Hello and at a refused Hello.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { LicensegateError, type ErrorCode } from '../errors.ts';
import type { AgentConnection } from './agent-connection.ts';
import { FailedAuthAudit } from './failed-auth-audit.ts';
import type { ResolvedGatewayOptions } from './gateway-options.ts';
import { countsAsAuthFailure, SourceLimits, sourceKey } from './source-limits.ts';
import { UnauthenticatedSockets } from './unauthenticated-sockets.ts';

export class PeerGuard {
  /** Per-source and per-process counters and backoffs (exposed for tests and metrics). */
  readonly sourceLimits: SourceLimits;
  private readonly unauthenticated: UnauthenticatedSockets;
  private readonly failedAuth: FailedAuthAudit;

  constructor(
    private readonly o: ResolvedGatewayOptions,
    private readonly log: Logger,
  ) {
    this.sourceLimits = new SourceLimits({
      maxUnauthenticated: o.maxUnauthenticated,
      maxUnauthenticatedPerSource: o.maxUnauthenticatedPerSource,
      authFailuresPerSource: o.authFailuresPerSource,
      authFailureWindowMs: o.authFailureWindowMs,
      authBackoffBaseMs: o.authBackoffBaseMs,
      authBackoffMaxMs: o.authBackoffMaxMs,
      trustedProxies: o.trustedProxies,
    });
    this.unauthenticated = new UnauthenticatedSockets(this.sourceLimits, log);
    this.failedAuth = new FailedAuthAudit(o.redis, o.keys, o.logger, o.authAuditWindowMs);
  }

  /** The agent port's 'connection' listener: every raw TCP socket, before TLS or HTTP. */
  get onSocket(): (socket: Socket) => void {
    return this.unauthenticated.onSocket;
  }

  /** The client's address of a WebSocket request (X-Forwarded-For behind a trusted proxy). */
  clientAddressOf(req: IncomingMessage): string {
    return this.unauthenticated.clientAddressOf(req);
  }

  /**
   * A WebSocket was made for `conn`: a refusal when its client already holds its share of
   * unauthenticated sockets (behind a trusted proxy only knowable now; a direct peer was
   * counted at accept).
   */
  admit(conn: AgentConnection, req: IncomingMessage): LicensegateError | undefined {
    if (!this.unauthenticated.adopt(conn, req, conn.remoteAddress)) return undefined;
    return new LicensegateError('TOO_MANY_UNAUTHENTICATED', undefined, { retryAfterMs: this.o.helloTimeoutMs });
  }

  /** A Hello arrived: the socket stops counting as idle; a backed-off address is refused here, before Redis. */
  helloArrived(conn: AgentConnection, now: number): LicensegateError | undefined {
    this.unauthenticated.helloReceived(conn);
    const backoffMs = this.sourceLimits.backoffMs(conn.remoteAddress, now);
    if (backoffMs <= 0) return undefined;
    this.unauthenticated.helloFailed(conn);
    return new LicensegateError('AUTH_BACKOFF', undefined, { retryAfterMs: backoffMs });
  }

  /**
   * A Hello was refused with `code`: audited for the tenant it named (Z3); an authentication
   * failure counts against the address, and the socket counts as unauthenticated until closed (Z4).
   */
  helloRefused(conn: AgentConnection, tenantId: string, code: ErrorCode): void {
    this.failedAuth.record(tenantId, code, conn.remoteAddress);
    if (!countsAsAuthFailure(code)) return;
    this.unauthenticated.helloFailed(conn);
    const backoffMs = this.sourceLimits.recordFailure(sourceKey(conn.remoteAddress), Date.now());
    if (backoffMs > 0) this.log.warn({ code: 'AUTH_BACKOFF', source: conn.remoteAddress, backoffMs }, 'address backed off after repeated failed authentications');
  }

  /** Forgets idle addresses (the sweep). */
  prune(now: number): void {
    this.sourceLimits.prune(now);
  }

  /** Stops the audit window timer (the last, unwritten window is dropped: failed-auth-audit.ts). */
  close(): void {
    this.failedAuth.close();
  }
}
