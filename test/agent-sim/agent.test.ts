/**
 * The simulated agent against a scripted in-process mock gateway (no Redis, no src/gateway):
 * checks the client side of the protocol so gateway tests can trust it.
 */
import { afterEach, describe, it, expect } from 'vitest';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { Agent, type AgentOptions } from '../../agent-sim/agent.ts';
import { ClientFrame, LicenseType, OsFamily, ServerFrame, type IServerFrame } from '../../src/protocol/wire.ts';

type Decoded = ReturnType<typeof ClientFrame.decode>;
interface MockConn { ws: WebSocket; frames: Decoded[]; closed: Promise<{ code: number }> }

/** A mock gateway; `onFrame` scripts the answers. */
async function mockGateway(onFrame: (conn: MockConn, frame: Decoded, index: number) => void) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const conns: MockConn[] = [];
  wss.on('connection', (ws) => {
    const conn: MockConn = { ws, frames: [], closed: new Promise((resolve) => ws.once('close', (code) => resolve({ code }))) };
    conns.push(conn);
    ws.on('message', (data) => {
      const frame = ClientFrame.decode(data as Buffer);
      conn.frames.push(frame);
      onFrame(conn, frame, conn.frames.length - 1);
    });
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const stop = () => {
    for (const c of wss.clients) c.terminate();
    return new Promise<void>((resolve) => wss.close(() => resolve()));
  };
  cleanups.push(stop);
  return { url, conns, stop };
}

const send = (ws: WebSocket, frame: IServerFrame) => ws.send(ServerFrame.encode(frame).finish());
const LICENSED = { licensed: true, type: LicenseType.LICENSE_TYPE_LINUX };
const welcome = (ws: WebSocket, extra: { clientCredential?: string; heartbeatIntervalMs?: number; license?: { licensed: boolean; type?: number; reason?: string } } = {}) =>
  send(ws, { welcome: { clientId: 'c1', license: LICENSED, heartbeatIntervalMs: 60_000, ...extra } });

/** Polls a condition outside the agent (Agent.waitFor re-checks only on agent events). */
async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`until(${String(cond)}) timed out`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function agent(url: string, extra: Partial<AgentOptions> = {}): Agent {
  const a = new Agent({ url, clientId: 'c1', enrollmentToken: 'tok', os: { family: OsFamily.OS_FAMILY_LINUX }, handshakeTimeoutMs: 1000, ...extra });
  cleanups.push(() => a.close());
  return a;
}

describe('agent-sim Agent', () => {
  it('enrolls, stores the credential, applies and acks commands, skips redelivered ones', async () => {
    const gw = await mockGateway((conn, frame) => {
      if (frame.hello) {
        // Its license now: after seq 2 (TAKEN_BACK) it has none.
        if (frame.hello.enrollmentToken) welcome(conn.ws, { clientCredential: 'secret-1', license: { licensed: false, reason: 'NO_LICENSE_AVAILABLE' } });
        else welcome(conn.ws, { license: { licensed: false, reason: 'TAKEN_BACK' } });
        const from = Number(frame.hello.lastAckedSeq);
        if (from < 1) send(conn.ws, { command: { seq: 1, startMonitoring: { licenseType: LicenseType.LICENSE_TYPE_LINUX } } });
        if (from < 3) send(conn.ws, { command: { seq: 2, stopMonitoring: { reason: 'TAKEN_BACK' } } });
        // A duplicate the gateway should not send, but might after a race: must not be re-applied.
        if (from >= 2) send(conn.ws, { command: { seq: 1, startMonitoring: { licenseType: 5 } } });
      }
    });
    const changes: string[] = [];
    const a = agent(gw.url, { onStateChange: (_a, change) => changes.push(change) });
    const w = await a.connect();
    expect(w).toEqual({ clientId: 'c1', clientCredential: 'secret-1', license: { licensed: false, type: 0, reason: 'NO_LICENSE_AVAILABLE' }, heartbeatIntervalMs: 60_000 });
    expect(a.credential).toBe('secret-1');
    expect(a.connected).toBe(true);
    await a.waitFor(() => a.commands.length === 2);
    expect(a.monitoring).toBe(false);
    expect(a.lastAckedSeq).toBe(2);
    await until(() => gw.conns[0]!.frames.length === 3);
    expect(gw.conns[0]!.frames.slice(1).map((f) => Number(f.commandAck?.seq))).toEqual([1, 2]);
    expect(changes).toContain('credential');
    expect(changes).toContain('ack');

    await a.close();
    expect(a.connected).toBe(false);
    expect((await gw.conns[0]!.closed).code).toBe(1000);

    await a.connect();
    const hello = gw.conns[1]!.frames[0]!.hello!;
    expect(hello.clientCredential).toBe('secret-1');
    expect(hello.enrollmentToken).toBeFalsy();
    expect(Number(hello.lastAckedSeq)).toBe(2);
    await a.waitFor(() => a.commands.length === 4);
    expect(a.commands.slice(2).map((c) => [c.seq, c.duplicate])).toEqual([[2, true], [1, true]]);
    expect(a.monitoring).toBe(false); // the duplicate start was not applied
    await until(() => gw.conns[1]!.frames.length === 3); // still acked
    expect(a.toState()).toEqual({ clientId: 'c1', tenantId: 'default', credential: 'secret-1', lastAckedSeq: 2, os: { family: 3 }, hostname: 'c1', nonPersistent: false });
    const copy = Agent.fromState(JSON.parse(JSON.stringify(a.toState())), { url: gw.url, credential: undefined });
    expect(copy.credential).toBe('secret-1');
  });

  it('rejects connect() with the server Error code, retry hint and close code', async () => {
    const gw = await mockGateway((conn) => {
      send(conn.ws, { error: { code: 'OVERLOADED', message: 'busy', retryAfterMs: 1234 } });
      conn.ws.close(1013, 'overloaded');
    });
    const a = agent(gw.url);
    const err = await a.connect().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OVERLOADED', retryAfterMs: 1234, closeCode: 1013 });
    expect(a.lastError).toEqual({ code: 'OVERLOADED', message: 'busy', retryAfterMs: 1234 });
    expect(a.lastClose).toEqual({ code: 1013, reason: 'overloaded' });
  });

  it('rejects with HANDSHAKE_TIMEOUT and CONNECTION_CLOSED', async () => {
    const gw = await mockGateway(() => {});
    await expect(agent(gw.url, { handshakeTimeoutMs: 100 }).connect()).rejects.toMatchObject({ code: 'HANDSHAKE_TIMEOUT' });
    await gw.stop();
    await expect(agent(gw.url).connect()).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
  });

  it('heartbeats, terminates without a close frame, and reconnects with backoff', async () => {
    const gw = await mockGateway((conn, frame) => {
      if (frame.hello) welcome(conn.ws, { heartbeatIntervalMs: 30 });
      if (frame.heartbeat) send(conn.ws, { heartbeatAck: { serverTimeMs: Date.now() } });
    });
    const a = agent(gw.url, { reconnect: true, backoff: { baseMs: 10, capMs: 50 } });
    let acks = 0;
    a.on('heartbeat-ack', () => acks++);
    await a.connect();
    await a.waitFor(() => acks >= 2);

    gw.conns[0]!.ws.close(4000, 'bye'); // server-side close: the agent comes back
    await a.waitFor(() => a.connected && gw.conns.length === 2);
    expect(a.lastClose).toEqual({ code: 4000, reason: 'bye' });

    a.terminate();
    expect(a.connected).toBe(false);
    expect((await gw.conns[1]!.closed).code).toBe(1006);
    await new Promise((r) => setTimeout(r, 150));
    expect(gw.conns.length).toBe(2); // terminate() stopped reconnecting
  });

  it('C4: with a URL list, each reconnect goes to the next gateway (a dead one is skipped in turn)', async () => {
    const onFrame = (conn: MockConn, frame: Decoded) => {
      if (frame.hello) welcome(conn.ws);
    };
    const gw1 = await mockGateway(onFrame);
    const gw2 = await mockGateway(onFrame);
    const a = agent(gw1.url, { urls: [gw1.url, gw2.url], reconnect: true, backoff: { baseMs: 10, capMs: 20 } });
    await a.connect();
    expect(a.socketUrl).toBe(gw1.url);
    expect(gw1.conns.length).toBe(1);
    await gw1.stop(); // the first gateway dies: the agent goes to the second
    await until(() => a.connected && gw2.conns.length === 1);
    expect(a.socketUrl).toBe(gw2.url);
    gw2.conns[0]!.ws.close(4000, 'bye'); // next attempt: gw1 (refused), then gw2 again
    await until(() => a.connected && gw2.conns.length === 2);
    expect(a.socketUrl).toBe(gw2.url);
  });

  it('never throws from socket handlers on garbage input', async () => {
    const gw = await mockGateway((conn) => {
      welcome(conn.ws);
      conn.ws.send(Buffer.from([0xff, 0xff, 0xff]));
      conn.ws.send('text');
      send(conn.ws, { command: { seq: 1 } });
    });
    const a = agent(gw.url);
    const errors: Error[] = [];
    a.on('error', (e) => errors.push(e));
    a.on('welcome', () => { throw new Error('listener bug'); });
    await a.connect();
    await a.waitFor(() => errors.length === 4);
    expect(errors.map((e) => e.message).join('|')).toMatch(/^listener bug\|.+\|gateway sent a text frame\|gateway sent Command 1 without a kind$/);
    await expect(a.waitFor(() => false, 50)).rejects.toThrow(/agent c1: waitFor.*timed out after 50 ms/);
  });
});
