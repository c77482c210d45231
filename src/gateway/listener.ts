/**
 * The agent port: an http server — or, with TLS material (SPEC Z1), an https server — carrying
 * the WebSocket server the gateway accepts agents on. Plain requests get 426; WebSocket upgrades
 * become connections handed to `onConnection`.
 *
 * With TLS_CA_FILE the agent port wants a client certificate signed by that CA (mutual TLS): a
 * client without one fails the TLS handshake, before any WebSocket or licensegate code runs.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { hardenHttpServer, httpServerOptions, type HttpLimits } from './http-hardening.ts';
import { createServerFor, type HttpOrHttpsServer, type TlsMaterial } from './tls-context.ts';

export interface ListenerOptions {
  host: string;
  port: number;
  /** The gateway's frame limit; ws itself drops anything beyond twice it (see below). */
  maxPayloadBytes: number;
  /** Serve wss:// with this certificate; null/undefined: ws://. */
  tls?: TlsMaterial | null;
  /** Slowloris bounds (SPEC Z4, http-hardening.ts). */
  http: HttpLimits;
  /** Sees every raw TCP socket at accept, before TLS or HTTP (the unauthenticated-socket caps). */
  onSocket?: (socket: Socket) => void;
  logger: Logger;
  onConnection(ws: WebSocket, req: IncomingMessage): void;
}

export interface Listener {
  server: HttpOrHttpsServer;
  wss: WebSocketServer;
  address: AddressInfo;
  /** wss:// rather than ws://. */
  secure: boolean;
}

export async function listen(o: ListenerOptions): Promise<Listener> {
  const server = createServerFor(
    o.tls,
    (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('licensegate: connect with a WebSocket\n');
    },
    true,
    httpServerOptions(o.http),
  );
  hardenHttpServer(server, o.http);
  if (o.onSocket) server.on('connection', o.onSocket);
  if (o.tls) {
    // Failed handshakes (no client certificate, a client that does not trust ours, plain ws://
    // on a TLS port): Node closes the socket; one debug line each, no peer-controlled text.
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
      if (o.logger.isLevelEnabled('debug')) o.logger.debug({ code: err.code, remoteAddress: socket.remoteAddress }, 'tls handshake failed');
    });
  }
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: false,
    clientTracking: false,
    // ws itself drops anything beyond twice the limit; frames in between get a coded Error.
    maxPayload: o.maxPayloadBytes * 2,
  });
  wss.on('connection', (ws, req) => o.onConnection(ws, req));
  wss.on('error', (err) => o.logger.error({ err }, 'websocket server error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A herd's connects queue in the kernel until accepted; beyond the backlog (Node's default
    // 511) the kernel drops SYNs and clients back off for seconds (1, 3, 7, 15 s ...). 4096 is
    // Linux's default net.core.somaxconn, which caps it.
    server.listen({ port: o.port, host: o.host, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, wss, address: server.address() as AddressInfo, secure: !!o.tls };
}
