/**
 * How an agent opens its WebSocket: the options that keep one of ~10,000 sockets in a process
 * cheap and safe (no permessage-deflate, a payload cap), the local source address, and the TLS
 * context for wss://.
 */
import WebSocket from 'ws';
import type { ClientTls } from './tls-options.ts';

/** Server frames are tiny; refuse anything absurd instead of buffering it. */
export const MAX_PAYLOAD = 1024 * 1024;

/** Creates the socket (connecting starts at once); throws synchronously on a bad URL. */
export function openSocket(url: string, localAddress: string | undefined, tls: ClientTls | undefined): WebSocket {
  return new WebSocket(url, { perMessageDeflate: false, maxPayload: MAX_PAYLOAD, localAddress, ...tls });
}
