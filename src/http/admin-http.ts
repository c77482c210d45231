/**
 * The admin HTTP API assembled (SPEC H1): every route module's routes behind one ApiRouter, plus
 * `GET /api/v1/openapi.json` generated from the same routes, so the document lists exactly what
 * the server answers. The result is an HttpHandler for the HTTP port (health-server.ts).
 *
 * To add a route family: write `src/http/routes/<topic>-routes.ts` exporting a RouteModule and
 * append it to ROUTE_MODULES below (one line; keep the list in one place).
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { HttpHandler } from '../gateway/health-server.ts';
import type { ApiDeps, RouteModule } from './api-deps.ts';
import { openApiDocument } from './openapi.ts';
import type { Authenticator } from './principal.ts';
import { route, type AnyRoute } from './route.ts';
import { API_BASE, ApiRouter } from './router.ts';
import { serialKeyRoutes } from './routes/serial-key-routes.ts';
import { tenantRoutes } from './routes/tenant-routes.ts';
import { clientRoutes } from './routes/client-routes.ts';
import { pamRoutes } from './routes/pam-routes.ts';
import { auditRoutes } from './routes/audit-routes.ts';
import { clientListRoutes } from './routes/client-list-routes.ts';
import { eventRoutes } from './routes/event-routes.ts';
import { EventFeedHub } from '../events/event-feed.ts';
import { authRoutes } from './routes/auth-routes.ts';
import { accountRoutes } from './routes/account-routes.ts';
import { tokenRoutes } from './routes/token-routes.ts';
import { overviewRoutes } from './routes/overview-routes.ts';

/** Every route family of the API. Append new modules here. */
export const ROUTE_MODULES: RouteModule[] = [
  serialKeyRoutes,
  tenantRoutes,
  clientRoutes,
  pamRoutes,
  auditRoutes,
  clientListRoutes,
  eventRoutes,
  authRoutes, accountRoutes, tokenRoutes,
  overviewRoutes,
];

/** Socket idle bound during an API request: above the admin job timeout (30 s) of AdminClient. */
export const API_IDLE_TIMEOUT_MS = 60_000;

export interface AdminHttpOptions {
  deps: ApiDeps;
  authenticator: Authenticator;
  /** Default: ROUTE_MODULES. */
  modules?: readonly RouteModule[];
  clientAddress(req: IncomingMessage): string;
  /** SSE_MAX_STREAMS: open event streams at most (default 256). */
  sseMaxStreams?: number;
  /** The API's version in the OpenAPI document (the package version). */
  version: string;
  logger: Logger;
}

export interface AdminHttp {
  handler: HttpHandler;
  routes: readonly AnyRoute[];
  /** Ends every open event stream (before the HTTP server closes: it waits for open responses). */
  endStreams(): Promise<void>;
  close(): Promise<void>;
}

export function createAdminHttp(options: AdminHttpOptions): AdminHttp {
  const events = options.deps.events ?? new EventFeedHub({ redis: options.deps.ctx.redis, keys: options.deps.ctx.keys, logger: options.logger, maxStreams: options.sseMaxStreams ?? 256 });
  const deps = { ...options.deps, events };
  const routes: AnyRoute[] = (options.modules ?? ROUTE_MODULES).flatMap((m) => m(deps));
  let document: Record<string, unknown> | undefined;
  routes.push(
    route({
      method: 'GET',
      path: '/openapi.json',
      operationId: 'getOpenApiDocument',
      summary: 'This API as an OpenAPI 3.1 document (generated from the same schemas the server validates with)',
      tag: 'Meta',
      auth: 'none',
      response: z.record(z.string(), z.unknown()),
      // Built on first use: it covers every route, this one included.
      handler: async () => (document ??= openApiDocument(routes, options.version)),
    }),
  );
  const router = new ApiRouter({ routes, authenticator: options.authenticator, logger: options.logger, clientAddress: options.clientAddress });
  const handler: HttpHandler = (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path !== API_BASE && !path.startsWith(`${API_BASE}/`)) return Promise.resolve(false);
    // The HTTP port destroys a socket idle for HTTP_HEADERS_TIMEOUT_MS (slowloris guard,
    // http-hardening.ts). An API request is idle while its admin job waits for a worker — up to
    // the job timeout — so its socket gets a longer bound for this request only (Node resets it
    // to the keep-alive timeout once the answer is sent). Streams (SSE) set their own.
    res.setTimeout(API_IDLE_TIMEOUT_MS);
    return router.handle(req, res);
  };
  return { handler, routes, endStreams: () => events.close(), close: () => events.close() };
}
