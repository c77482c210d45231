/**
 * `GET /healthz` (process alive) and `GET /readyz` (serving agents) on the HTTP port; https://
 * when TLS is configured (SPEC Z1). No client certificate is asked for here even with
 * TLS_CA_FILE: probes (HAProxy checks, kubelet) rarely carry one, and these answers hold no secret.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServerFor, type HttpOrHttpsServer, type TlsMaterial } from './tls-context.ts';
import { DEFAULT_HTTP_LIMITS, hardenHttpServer, HEALTH_MAX_CONNECTIONS, httpServerOptions, type HttpLimits } from './http-hardening.ts';

export interface HealthSource {
  ready: boolean;
  connectionCount: number;
  /** Handing its agents to other gateways (SPEC X4): /readyz says `draining`. */
  draining?: boolean;
}

/**
 * Another module of the HTTP port (the admin API, /metrics, the console): answers the requests
 * it owns and resolves true, or leaves the response alone and resolves false. Asked in order,
 * before the health paths.
 */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** `limits`: slowloris bounds (http-hardening.ts); the socket count is capped at HEALTH_MAX_CONNECTIONS. */
export async function startHealthServer(
  host: string,
  port: number,
  source: HealthSource,
  tls?: TlsMaterial | null,
  limits: HttpLimits = DEFAULT_HTTP_LIMITS,
  handlers: readonly HttpHandler[] = [],
): Promise<{ server: HttpOrHttpsServer; address: AddressInfo }> {
  const bounded = { ...limits, maxConnections: limits.maxConnections || HEALTH_MAX_CONNECTIONS };
  const answerHealth = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
    } else if (path === '/readyz') {
      const ready = source.ready;
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ready ? 'ready' : source.draining ? 'draining' : 'not ready', connections: source.connectionCount }));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
    }
  };
  const server = createServerFor(tls, (req, res) => {
    void (async () => {
      for (const handler of handlers) if (await handler(req, res)) return;
      answerHealth(req, res);
    })().catch(() => {
      // A handler answers its own errors; this is the last guard so that no request can crash the process.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'internal error' }));
      else res.destroy();
    });
  }, false, httpServerOptions(bounded));
  hardenHttpServer(server, bounded);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, address: server.address() as AddressInfo };
}
