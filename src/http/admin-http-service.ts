/**
 * What `licensegate serve` runs for the admin HTTP API (SPEC H1, H2): one shared AdminClient on
 * its own BullMQ connection (never the gateway's: a blocking wait there would stall agents), the
 * account authenticator, the client address rule of the gateway (X-Forwarded-For only from
 * TRUSTED_PROXIES), and the assembled routes. serve.ts passes `handler` to the HTTP port.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AdminClient } from '../admin/client.ts';
import { SourceLimits } from '../gateway/source-limits.ts';
import type { LedgerContext } from '../licensing/ledger-context.ts';
import { DEFAULT_TENANT } from '../store/keys.ts';
import type { RedisTarget } from '../store/redis-target.ts';
import { createAdminHttp, type AdminHttp } from './admin-http.ts';
import type { Authenticator } from './principal.ts';
import type { SessionTimes } from '../accounts/sessions.ts';

export interface AdminHttpServiceOptions {
  ctx: LedgerContext;
  redisTarget: RedisTarget;
  trustedProxies: readonly string[];
  authenticator: Authenticator;
  /** Admin session lifetimes (SESSION_IDLE_MINUTES, SESSION_MAX_HOURS) for the login routes. */
  sessionTimes?: SessionTimes;
  logger: Logger;
  /** SSE_MAX_STREAMS (docs/live-events.md). */
  sseMaxStreams?: number;
}

/** The package version (the OpenAPI document's info.version). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * The client address of an API request, by the gateway's rule (source-limits.ts): the peer's,
 * or — from a TRUSTED_PROXIES peer only — the rightmost X-Forwarded-For hop that is not a proxy.
 * Login limits per source address (docs/accounts.md) count by it.
 */
export function clientAddressRule(trustedProxies: readonly string[]): (req: IncomingMessage) => string {
  const proxies = new SourceLimits({ trustedProxies: [...trustedProxies] });
  return (req) => proxies.clientAddress(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for']);
}

export function startAdminHttpService(o: AdminHttpServiceOptions): AdminHttp {
  // Its own actor has no permission: every route passes the principal's (ApiDeps).
  const admin = new AdminClient({
    connection: o.redisTarget,
    prefix: o.ctx.keys.queuePrefix,
    actor: { userId: 'admin-api', tenantId: DEFAULT_TENANT, permissions: [] },
  });
  const clientAddress = clientAddressRule(o.trustedProxies);
  const http = createAdminHttp({
    deps: { ctx: o.ctx, admin, redisTarget: o.redisTarget, logger: o.logger, ...(o.sessionTimes ? { sessionTimes: o.sessionTimes } : {}) },
    authenticator: o.authenticator,
    clientAddress,
    ...(o.sseMaxStreams === undefined ? {} : { sseMaxStreams: o.sseMaxStreams }),
    version: packageVersion(),
    logger: o.logger.child({ component: 'admin-api' }),
  });
  return {
    ...http,
    async close() {
      await http.close();
      await admin.close();
    },
  };
}
