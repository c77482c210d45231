/**
 * Ports for the servers the project starts (embedded Redis; the gateways, Redis nodes and load
 * balancers of tests, chaos runs and benches) come from below the kernel's ephemeral range, so
 * no outgoing connection can take one between the pick and the child process's bind. CI once
 * failed on exactly that: a gateway's port was taken by some client's local port (EADDRINUSE).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ephemeralRangeStart, freePort } from '../../src/net/free-port.ts';

const opened: (Server | Socket)[] = [];
afterAll(async () => {
  // Sockets first: a server's close waits for its connections.
  for (const o of opened) if ('destroy' in o) o.destroy();
  await Promise.all(opened.filter((o): o is Server => !('destroy' in o)).map((o) => new Promise<void>((r) => o.close(() => r()))));
});

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

describe('free ports', () => {
  it('picks ports below the ephemeral range that a server can then bind', async () => {
    const start = ephemeralRangeStart();
    expect(start).toBeGreaterThan(10_000);
    const ports = await Promise.all(Array.from({ length: 100 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(start);
    }
    // Each still binds now (nothing else took it): open them all at once.
    const unique = [...new Set(ports)];
    const servers = await Promise.all(unique.map((p) => listen(p)));
    opened.push(...servers);
    expect(servers.length).toBe(unique.length);
  });

  it('a burst of outgoing connections never lands on a port it handed out', async () => {
    const target = await listen(0);
    opened.push(target);
    target.on('connection', (s) => opened.push(s));
    const addr = target.address();
    const targetPort = typeof addr === 'object' && addr ? addr.port : 0;
    const picked = new Set(await Promise.all(Array.from({ length: 50 }, () => freePort())));
    const sockets = await Promise.all(Array.from({ length: 300 }, () => new Promise<Socket>((resolve, reject) => {
      const s = connect(targetPort, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    })));
    opened.push(...sockets);
    const localPorts = sockets.map((s) => s.localPort ?? 0);
    expect(localPorts.every((p) => p >= ephemeralRangeStart())).toBe(true);
    expect(localPorts.filter((p) => picked.has(p))).toEqual([]);
  });
});
