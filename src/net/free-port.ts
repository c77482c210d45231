/**
 * A free TCP port for a server this project starts (the embedded Redis, and the gateways,
 * Redis nodes and load balancers of the tests, chaos runs and benches).
 *
 * Asking the kernel for port 0 and closing the socket hands out a port from the ephemeral
 * range (Linux: /proc/sys/net/ipv4/ip_local_port_range, 32768–60999 by default) — the same
 * range every outgoing connection on the machine takes its local port from. Between the
 * close and the child process's bind, any client connection may take it (EADDRINUSE at
 * start-up; seen in CI with dozens of processes connecting at once). So the port is picked
 * below that range, where the kernel never assigns one on its own, and checked by binding
 * it; only another explicit bind can race for it, and a random pick out of ~20,000 makes
 * that rare. When no such port binds after a few tries, port 0 is the fallback.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_000;
const DEFAULT_EPHEMERAL_START = 32_768;
const TRIES = 50;

/** First port of the kernel's ephemeral range, when it can be read (Linux). */
export function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const n = Number(low);
    return Number.isInteger(n) && n > 0 ? n : DEFAULT_EPHEMERAL_START;
  } catch {
    return DEFAULT_EPHEMERAL_START;
  }
}

function tryListen(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ port, host, exclusive: true }, () => {
      const addr = srv.address();
      const bound = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(bound || null));
    });
  });
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const top = ephemeralRangeStart() - 1;
  if (top > LOWEST) {
    for (let i = 0; i < TRIES; i += 1) {
      const port = LOWEST + Math.floor(Math.random() * (top - LOWEST + 1));
      const bound = await tryListen(port, host);
      if (bound !== null) return bound;
    }
  }
  const bound = await tryListen(0, host);
  if (bound === null) throw new Error(`no free TCP port on ${host}`);
  return bound;
}
