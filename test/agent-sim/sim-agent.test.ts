/**
 * The simulator's measured agent against a scripted mock gateway (no Redis): how it classifies
 * failures, honours OVERLOADED, gives up on identity conflicts and times its latencies.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { Recorder, SimAgent } from '../../agent-sim/sim-agent.ts';
import { emptyOutcomes, emptySnapshot } from '../../agent-sim/stats.ts';
import { ClientFrame, LicenseType, OsFamily, ServerFrame, type IServerFrame } from '../../src/protocol/wire.ts';

type Script = (ws: WebSocket, attempt: number) => void;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A mock gateway: `script` answers each connection's Hello (attempt counts from 0). */
async function mockGateway(script: Script): Promise<{ url: string; helloAt: number[] }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const helloAt: number[] = [];
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const frame = ClientFrame.decode(data as Buffer);
      if (frame.hello) {
        helloAt.push(performance.now());
        script(ws, helloAt.length - 1);
      } else if (frame.heartbeat) {
        send(ws, { heartbeatAck: { serverTimeMs: Date.now() } });
      }
    });
  });
  cleanups.push(() => {
    for (const c of wss.clients) c.terminate();
    return new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, helloAt };
}

const send = (ws: WebSocket, frame: IServerFrame) => ws.send(ServerFrame.encode(frame).finish());
const welcome = (ws: WebSocket, heartbeatIntervalMs = 60_000) => {
  send(ws, { welcome: { clientId: 'c1', clientCredential: 'cred', license: { licensed: true, type: LicenseType.LICENSE_TYPE_LINUX }, heartbeatIntervalMs } });
  send(ws, { command: { seq: 1, startMonitoring: { licenseType: LicenseType.LICENSE_TYPE_LINUX } } });
};
const refuse = (ws: WebSocket, code: string, retryAfterMs = 0, closeCode = 1008) => {
  send(ws, { error: { code, message: code, retryAfterMs } });
  ws.close(closeCode);
};

function simAgent(url: string, recorder: Recorder, handshakeTimeoutMs = 5000): SimAgent {
  const agent = new SimAgent(
    { url, clientId: 'c1', enrollmentToken: 'tok', os: { family: OsFamily.OS_FAMILY_LINUX }, reconnect: true, backoff: { baseMs: 50, capMs: 100 }, handshakeTimeoutMs },
    recorder,
  );
  cleanups.push(() => agent.close());
  return agent;
}

function outcomeOf(agent: SimAgent) {
  const o = emptyOutcomes();
  agent.outcomeInto(o);
  return o;
}

describe('agent-sim SimAgent', () => {
  it('C13: OVERLOADED is honoured (the retry waits retry_after_ms), counted, and not an unexpected outcome', async () => {
    const gw = await mockGateway((ws, attempt) => (attempt === 0 ? refuse(ws, 'OVERLOADED', 400, 1013) : welcome(ws, 100)));
    const rec = new Recorder();
    const agent = simAgent(gw.url, rec);
    const mid = emptyOutcomes();
    agent.on('close', () => agent.outcomeInto(mid)); // while it waits to retry
    agent.begin();
    await agent.waitFor(() => agent.connected && agent.monitoring, 5000);
    expect(gw.helloAt[1]! - gw.helloAt[0]!).toBeGreaterThanOrEqual(400);
    expect(mid).toEqual({ failedByCode: { OVERLOADED: 1 }, unexpected: 0, stillConnecting: 0 });
    expect(rec.counters).toMatchObject({ attempts: 2, welcomes: 1, enrolled: 1, errors: { OVERLOADED: 1 }, commands: { start: 1 } });
    // Time to Welcome spans the refusal and the wait; the handshake is the last attempt alone.
    const ttw = rec.latencies.timeToWelcome.summary()!;
    const hs = rec.latencies.handshake.summary()!;
    expect(ttw.max).toBeGreaterThanOrEqual(400);
    expect(hs.max).toBeLessThan(ttw.max);
    expect(rec.latencies.timeToLicense.count).toBe(1);
    await agent.waitFor(() => rec.latencies.heartbeatRtt.count >= 1, 3000);
    const s = emptySnapshot();
    agent.countInto(s);
    expect(s).toMatchObject({ agents: 1, connected: 1, everConnected: 1, monitoring: 1, licensed: { linux: 1 } });
    expect(outcomeOf(agent)).toEqual(emptyOutcomes());
  });

  it('C13: an attempt with no Welcome in time is a HANDSHAKE_TIMEOUT, retried with backoff', async () => {
    const gw = await mockGateway((ws, attempt) => (attempt === 0 ? undefined : welcome(ws)));
    const rec = new Recorder();
    const agent = simAgent(gw.url, rec, 300);
    agent.begin();
    await agent.waitFor(() => agent.connected, 5000);
    expect(rec.counters.errors).toEqual({ HANDSHAKE_TIMEOUT: 1 });
    expect(rec.counters.attempts).toBe(2);
  });

  it('C2: an identity conflict that no retry can fix (CLIENT_ALREADY_REGISTERED) stops the agent and is unexpected', async () => {
    const gw = await mockGateway((ws) => refuse(ws, 'CLIENT_ALREADY_REGISTERED', 0, 4409));
    const rec = new Recorder();
    const agent = simAgent(gw.url, rec);
    agent.begin();
    await agent.waitFor(() => agent.lastClose !== null, 3000);
    // Well past the 50-100 ms backoff window: still one attempt.
    await expect(agent.waitFor(() => rec.counters.attempts > 1, 500)).rejects.toThrow(/timed out/);
    expect(rec.counters.errors).toEqual({ CLIENT_ALREADY_REGISTERED: 1 });
    expect(outcomeOf(agent)).toEqual({ failedByCode: { CLIENT_ALREADY_REGISTERED: 1 }, unexpected: 1, stillConnecting: 0 });
  });

  it('C8: closes the simulator asks for are not errors; the UNINSTALLED answer to our notice is a confirmation', async () => {
    const gw = await mockGateway((ws) => {
      welcome(ws);
      ws.on('message', (data) => {
        if (ClientFrame.decode(data as Buffer).uninstallNotice) refuse(ws, 'UNINSTALLED', 0, 1000);
      });
    });
    const rec = new Recorder();
    const agent = simAgent(gw.url, rec);
    agent.begin();
    await agent.waitFor(() => agent.connected, 3000);
    await agent.end(); // a churn disconnect
    agent.begin();
    await agent.waitFor(() => agent.connected, 3000);
    expect(agent.uninstall()).toBe(true);
    await agent.waitFor(() => !agent.connected && rec.counters.uninstallsConfirmed === 1, 3000);
    expect(rec.counters.errors).toEqual({});
    expect(rec.counters.reconnects).toBe(1);
    const s = emptySnapshot();
    agent.countInto(s);
    expect(s).toMatchObject({ uninstalled: 1, connected: 0, licensed: {} });
    expect(outcomeOf(agent)).toEqual(emptyOutcomes());
  });
});
