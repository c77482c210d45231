/**
 * SPEC Z4 / R2 against an in-process gateway on the real Redis: caps on unauthenticated
 * sockets (per source address and per process), failed-authentication backoff per address,
 * and the client address behind a trusted proxy. The 19,000-socket flood against a real
 * `licensegate serve` is abuse-flood.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AgentError } from '../../agent-sim/agent.ts';
import type { GatewayOptions } from '../../src/gateway/gateway-options.ts';
import { newAgent } from '../helpers/agents.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { openIdleSockets, portOf, type IdleSockets } from '../helpers/idle-sockets.ts';

let gw: TestGateway | undefined;
const attackers: IdleSockets[] = [];
const extraSockets: WebSocket[] = [];

async function gateway(options: Partial<GatewayOptions>): Promise<TestGateway> {
  gw = await startTestGateway({ pool: { workstation: 50 }, gateway: options });
  return gw;
}

afterEach(async () => {
  for (const a of attackers.splice(0)) a.destroyAll();
  for (const ws of extraSockets.splice(0)) ws.terminate();
  await gw?.stop();
  gw = undefined;
});

async function refusalOf(promise: Promise<unknown>): Promise<AgentError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AgentError);
  return err as AgentError;
}

/** A WebSocket from `localAddress` (optionally with an X-Forwarded-For) that never says Hello. */
function silentWebSocket(url: string, localAddress: string, forwardedFor?: string): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const ws = new WebSocket(url, { localAddress, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} });
  extraSockets.push(ws);
  ws.on('error', () => {});
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, closed }));
    ws.once('unexpected-response', () => reject(new Error('upgrade refused')));
    ws.once('close', () => resolve({ ws, closed }));
  });
}

describe('Z4: unauthenticated sockets are bounded per source address and per process', () => {
  it('Z4: sockets from one address beyond its cap are cut at accept; another address still enrolls', async () => {
    const g = await gateway({ maxUnauthenticatedPerSource: 20, maxUnauthenticated: 1_000 });
    const attack = await openIdleSockets(portOf(g.url), '127.0.0.4', 30);
    attackers.push(attack);
    await eventually(() => attack.closed() === 10, 'the 10 sockets over the per-source cap closed by the gateway');
    expect(g.gateway.sourceLimits.unauthenticatedFrom('127.0.0.4')).toBe(20);
    const good = newAgent(g.url, { localAddress: '127.0.0.5' });
    expect((await good.connect()).license.licensed).toBe(true);
    // The attacker's share never shrank the good agent's: once live it no longer counts.
    expect(g.gateway.sourceLimits.unauthenticatedFrom('127.0.0.5')).toBe(0);
    expect(attack.closed()).toBe(10);
    await good.close();
  });

  it('Z4: the process-wide cap bounds unauthenticated sockets over all addresses; freed slots admit agents again', async () => {
    const g = await gateway({ maxUnauthenticatedPerSource: 20, maxUnauthenticated: 50 });
    for (const addr of ['127.0.0.11', '127.0.0.12', '127.0.0.13']) attackers.push(await openIdleSockets(portOf(g.url), addr, 20));
    await eventually(() => attackers.reduce((n, a) => n + a.closed(), 0) === 10, '10 sockets over the process cap closed');
    expect(g.gateway.sourceLimits.unauthenticated).toBe(50);
    const refused = newAgent(g.url, { localAddress: '127.0.0.14', handshakeTimeoutMs: 3_000 });
    expect((await refusalOf(refused.connect())).code).toBe('CONNECTION_CLOSED');
    for (const a of attackers.splice(0)) a.destroyAll();
    await eventually(() => g.gateway.sourceLimits.unauthenticated === 0, 'closed attacker sockets no longer counted');
    const good = newAgent(g.url, { localAddress: '127.0.0.14' });
    expect((await good.connect()).license.licensed).toBe(true);
    await good.close();
  });

  it('Z4: a socket whose Hello failed counts as unauthenticated until closed, and a peer that ignores the close is cut within the close linger', async () => {
    const g = await gateway({ maxUnauthenticatedPerSource: 100, helloTimeoutMs: 1_000 });
    const bad = newAgent(g.url, { localAddress: '127.0.0.15', enrollmentToken: 'wrong-token-wrong-token' });
    expect((await refusalOf(bad.connect())).code).toBe('AUTH_FAILED');
    await eventually(() => g.gateway.sourceLimits.unauthenticatedFrom('127.0.0.15') === 0 && g.gateway.connectionCount === 0, 'refused socket closed and uncounted');
    // A silent WebSocket that never answers the HELLO_TIMEOUT close frame: the sweep destroys it.
    const g2 = g.gateway;
    const { ws, closed } = await silentWebSocket(g.url, '127.0.0.15');
    ws.pause(); // reads nothing, so never answers the close handshake
    expect(g2.sourceLimits.unauthenticatedFrom('127.0.0.15')).toBe(1);
    await eventually(() => g2.connectionCount === 0, 'silent socket closed: Hello timeout (1 s) + close linger (2 s)', 10_000);
    ws.resume(); // it now reads the HELLO_TIMEOUT close frame, then the end of the destroyed socket
    expect([4408, 1006]).toContain(await closed);
    expect(g2.sourceLimits.unauthenticated).toBe(0);
  });
});

describe('Z4: failed authentications back the address off', () => {
  it('Z4: after N failures an address gets AUTH_BACKOFF with a retry hint, even with a valid token (no Redis call); another address is served; the backoff ends', async () => {
    const g = await gateway({ authFailuresPerSource: 5, authFailureWindowMs: 60_000, authBackoffBaseMs: 1_500, authBackoffMaxMs: 10_000 });
    for (let i = 0; i < 5; i++) {
      const bad = newAgent(g.url, { localAddress: '127.0.0.21', enrollmentToken: 'wrong-token-wrong-token' });
      expect((await refusalOf(bad.connect())).code).toBe('AUTH_FAILED');
    }
    // The token is right, but the address is backed off: refused before the Hello reaches Redis.
    const sameHost = newAgent(g.url, { localAddress: '127.0.0.21' });
    const backoff = await refusalOf(sameHost.connect());
    expect(backoff.code).toBe('AUTH_BACKOFF');
    expect(backoff.closeCode).toBe(4429);
    expect(backoff.retryAfterMs).toBeGreaterThan(0);
    expect(backoff.retryAfterMs).toBeLessThanOrEqual(1_500);
    expect(await g.redis.exists(g.keys.client('default', sameHost.clientId))).toBe(0);
    const other = newAgent(g.url, { localAddress: '127.0.0.22' });
    expect((await other.connect()).license.licensed).toBe(true);
    await new Promise((r) => setTimeout(r, backoff.retryAfterMs + 50)); // the hint itself is what we test
    expect((await sameHost.connect()).license.licensed).toBe(true);
    await Promise.all([other.close(), sameHost.close()]);
  });

  it('Z4: the backoff doubles when the address goes on failing, up to its maximum', async () => {
    const g = await gateway({ authFailuresPerSource: 2, authBackoffBaseMs: 300, authBackoffMaxMs: 1_000 });
    const hints: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) {
        const bad = newAgent(g.url, { localAddress: '127.0.0.23', enrollmentToken: 'wrong-token-wrong-token' });
        expect((await refusalOf(bad.connect())).code).toBe('AUTH_FAILED');
      }
      const probe = await refusalOf(newAgent(g.url, { localAddress: '127.0.0.23' }).connect());
      expect(probe.code).toBe('AUTH_BACKOFF');
      hints.push(probe.retryAfterMs);
      await new Promise((r) => setTimeout(r, probe.retryAfterMs + 50));
    }
    expect(hints[0]).toBeLessThanOrEqual(300);
    expect(hints[1]).toBeGreaterThan(300);
    expect(hints[1]).toBeLessThanOrEqual(600);
    expect(hints[2]).toBeGreaterThan(600);
    expect(hints[2]).toBeLessThanOrEqual(1_000);
  });
});

describe('Z4: behind a trusted proxy the client address comes from X-Forwarded-For', () => {
  it('Z4: the per-source cap counts the forwarded client, not the proxy; a header from an untrusted peer is ignored', async () => {
    const g = await gateway({ maxUnauthenticatedPerSource: 3, trustedProxies: ['127.0.0.30/31'] });
    const fromA = await Promise.all(Array.from({ length: 4 }, () => silentWebSocket(g.url, '127.0.0.30', '203.0.113.7')));
    // Three wait for their Hello; the fourth is refused at the upgrade with TOO_MANY_UNAUTHENTICATED (1013).
    const isClosed = (s: { ws: WebSocket }) => s.ws.readyState === WebSocket.CLOSED;
    await eventually(() => fromA.filter(isClosed).length === 1, 'one forwarded socket over the cap closed');
    expect(await fromA.find(isClosed)!.closed).toBe(1013);
    expect(g.gateway.sourceLimits.unauthenticatedFrom('203.0.113.7')).toBe(3);
    // Another client behind the same proxy, and the second proxy address, are not affected.
    const fromB = await silentWebSocket(g.url, '127.0.0.31', '198.51.100.1, 203.0.113.8');
    expect(fromB.ws.readyState).toBe(WebSocket.OPEN);
    expect(g.gateway.sourceLimits.unauthenticatedFrom('203.0.113.8')).toBe(1);
    // A direct peer cannot pose as someone else: its header is ignored.
    const spoof = await silentWebSocket(g.url, '127.0.0.32', '203.0.113.9');
    expect(spoof.ws.readyState).toBe(WebSocket.OPEN);
    expect(g.gateway.sourceLimits.unauthenticatedFrom('203.0.113.9')).toBe(0);
    expect(g.gateway.sourceLimits.unauthenticatedFrom('127.0.0.32')).toBe(1);
    // An agent behind the proxy is served, with its own address.
    const agentWs = newAgent(g.url, { localAddress: '127.0.0.30' });
    expect((await agentWs.connect()).license.licensed).toBe(true);
    await agentWs.close();
  });
});
