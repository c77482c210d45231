/**
 * SPEC Z4 / R2: slow peers cannot hold the gateway's resources — a WebSocket that stops reading
 * while commands are pushed to it is closed once its send buffer passes MAX_SEND_BUFFER_BYTES,
 * and an HTTP peer dribbling its request head (slowloris) is cut off on the agent port and on
 * the health port. A bystander agent is served throughout.
 */
import { Writable } from 'node:stream';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { pino } from 'pino';
import type { Agent } from '../../agent-sim/agent.ts';
import { DEFAULT_HTTP_LIMITS } from '../../src/gateway/http-hardening.ts';
import { startHealthServer } from '../../src/gateway/health-server.ts';
import { ClientFrame, OsFamily } from '../../src/protocol/wire.ts';
import { newAgent } from '../helpers/agents.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { portOf } from '../helpers/idle-sockets.ts';

const SEND_LIMIT = 256 * 1024;
const logLines: string[] = [];
let gw: TestGateway;
let bystander: Agent;

beforeAll(async () => {
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(chunk.toString()), done()) });
  gw = await startTestGateway({
    pool: { workstation: 10 },
    gateway: {
      logger: pino({ level: 'warn' }, sink),
      maxSendBufferBytes: SEND_LIMIT,
      http: { ...DEFAULT_HTTP_LIMITS, headersTimeoutMs: 1_000, idleTimeoutMs: 1_000 },
    },
  });
  bystander = newAgent(gw.url, { localAddress: '127.0.0.41' });
  await bystander.connect();
});

afterAll(async () => {
  await bystander.close();
  await gw.stop();
});

async function heartbeatAnswered(agent: Agent): Promise<void> {
  let acked = false;
  agent.once('heartbeat-ack', () => (acked = true));
  agent.sendHeartbeat();
  await agent.waitFor(() => acked);
}

/** Writes a request head one header line every `everyMs` until the server closes the socket (or `maxMs`). */
async function dribbleHead(port: number, everyMs: number, maxMs: number): Promise<{ closedAfterMs: number; linesSent: number }> {
  const started = Date.now();
  const socket: Socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.42' });
  socket.on('error', () => {});
  socket.on('data', () => {}); // a 408 may come before the close
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write('GET / HTTP/1.1\r\nHost: gateway\r\n');
  let linesSent = 1;
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(`X-Slow-${linesSent++}: a\r\n`);
  }, everyMs);
  const closed = await Promise.race([
    new Promise<boolean>((resolve) => socket.once('close', () => resolve(true))),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), maxMs)),
  ]);
  clearInterval(timer);
  socket.destroy();
  expect(closed).toBe(true);
  return { closedAfterMs: Date.now() - started, linesSent };
}

describe('Z4: slow peers are cut off', () => {
  it('Z4 R2: a WebSocket that stops reading while commands are pushed is closed as SLOW_READER; the bystander is served', async () => {
    // A registered Client with 2,000 commands of ~4 KiB waiting (8 MiB): more than the socket
    // buffers of both kernels hold, so what the reader leaves unread piles up in the gateway.
    const victim = newAgent(gw.url, { localAddress: '127.0.0.43' });
    const welcome = await victim.connect();
    await victim.close();
    const log = gw.keys.commands('default', victim.clientId);
    const last = (await gw.redis.xrevrange(log, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const first = Number(last[0]?.[0].split('-')[1] ?? 0) + 1;
    const reason = 'r'.repeat(4096);
    const pipeline = gw.redis.pipeline();
    for (let seq = first; seq < first + 2_000; seq++) pipeline.xadd(log, `0-${seq}`, 'k', 'stop', 'a', reason);
    await pipeline.exec();

    const before = gw.gateway.connectionCount;
    const ws = new WebSocket(gw.url, { localAddress: '127.0.0.43', perMessageDeflate: false });
    ws.on('error', () => {});
    ws.once('open', () => {
      const hello = { tenantId: 'default', clientId: victim.clientId, clientCredential: welcome.clientCredential!, os: { family: OsFamily.OS_FAMILY_WINDOWS }, lastAckedSeq: 0 };
      ws.send(ClientFrame.encode({ hello }).finish());
      ws.pause(); // stops reading: Welcome and the replay stay unread
    });
    await eventually(() => gw.gateway.connectionCount === before + 1, 'slow reader connected');
    await eventually(() => gw.gateway.connectionCount === before, 'slow reader closed by the gateway', 15_000);
    const line = logLines.find((l) => l.includes('"code":"SLOW_READER"'));
    expect(line).toBeDefined();
    const logged = JSON.parse(line!) as { bufferedBytes: number; limit: number; source: string };
    expect(logged.limit).toBe(SEND_LIMIT);
    expect(logged.bufferedBytes).toBeGreaterThan(SEND_LIMIT);
    expect(logged.source).toBe('127.0.0.43');
    ws.terminate();
    await heartbeatAnswered(bystander);
    expect(bystander.connected).toBe(true);
  });

  it('Z4: a peer dribbling its upgrade request is cut off at the headers timeout on the agent port', async () => {
    const { closedAfterMs, linesSent } = await dribbleHead(portOf(gw.url), 200, 8_000);
    expect(linesSent).toBeGreaterThan(3); // it was sending all along: not an idle timeout
    expect(closedAfterMs).toBeLessThan(5_000);
    expect(gw.gateway.sourceLimits.unauthenticatedFrom('127.0.0.42')).toBe(0);
    await heartbeatAnswered(bystander);
  });

  it('Z4: the health server is no slowloris target: with its default limits a dribbled head is cut off, and a normal request is answered', async () => {
    const health = await startHealthServer('127.0.0.1', 0, { ready: true, connectionCount: 0 });
    try {
      const { closedAfterMs, linesSent } = await dribbleHead(health.address.port, 500, 15_000);
      expect(linesSent).toBeGreaterThan(5);
      expect(closedAfterMs).toBeLessThan(DEFAULT_HTTP_LIMITS.headersTimeoutMs + 3_000);
      expect(health.server.maxConnections).toBeGreaterThan(0);
      const res = await fetch(`http://127.0.0.1:${health.address.port}/healthz`);
      expect(res.status).toBe(200);
    } finally {
      health.server.closeAllConnections();
      await new Promise<void>((resolve) => health.server.close(() => resolve()));
    }
  });
});
