/**
 * `GET /healthz` (process alive) and `GET /readyz` (serving agents) on the HTTP port; https://
 * when TLS is configured (SPEC Z1). No client certificate is asked for here even with
 * TLS_CA_FILE: probes (HAProxy checks, kubelet) rarely carry one, and these answers hold no secret.
 */
import type { AddressInfo } from 'node:net';
import { createServerFor, type HttpOrHttpsServer, type TlsMaterial } from './tls-context.ts';

export interface HealthSource {
  ready: boolean;
  connectionCount: number;
  /** Handing its agents to other gateways (SPEC X4): /readyz says `draining`. */
  draining?: boolean;
}

export async function startHealthServer(host: string, port: number, source: HealthSource, tls?: TlsMaterial | null): Promise<{ server: HttpOrHttpsServer; address: AddressInfo }> {
  const server = createServerFor(tls, (req, res) => {
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
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, address: server.address() as AddressInfo };
}
