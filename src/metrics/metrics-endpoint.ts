/**
 * `GET /metrics` on the HTTP port (SPEC H4): the Prometheus text format of this process's
 * registry. With METRICS_TOKEN set, the scrape must carry `Authorization: Bearer <token>`
 * (compared in constant time over SHA-256 digests, so neither content nor length leaks);
 * without it the endpoint is open, like /healthz: bind HTTP_PORT to a private interface.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { HttpHandler } from '../gateway/health-server.ts';

export interface MetricsEndpointOptions {
  registry: Registry;
  /** METRICS_TOKEN: the bearer token a scrape must carry; undefined: none needed. */
  token?: string;
  /** Runs before each authorised scrape (the Redis PING); its failure never fails the scrape. */
  beforeScrape?: () => Promise<void>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function metricsEndpoint(options: MetricsEndpointOptions): HttpHandler {
  const expected = options.token === undefined ? undefined : digest(options.token);
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    if (expected) {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'application/json' }).end(JSON.stringify({ error: 'a valid METRICS_TOKEN bearer token is required' }));
        return true;
      }
    }
    await options.beforeScrape?.().catch(() => {});
    const body = await options.registry.metrics();
    res.writeHead(200, { 'content-type': options.registry.contentType, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
