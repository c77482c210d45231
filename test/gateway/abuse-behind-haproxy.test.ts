/**
 * SPEC Z4 behind a real HAProxy (the shipped deploy/haproxy.cfg, `option forwardfor`) in front
 * of a real `licensegate serve` with TRUSTED_PROXIES=127.0.0.1 (test/helpers/lb-stack.ts): every
 * TCP peer of the gateway is HAProxy, yet the per-source cap counts each agent's own address,
 * taken from X-Forwarded-For — one host over its share is refused, another host is served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AgentError } from '../../agent-sim/agent.ts';
import type { RedisClient } from '../../src/store/redis-connection.ts';
import { newAgent } from '../helpers/agents.ts';
import { eventually } from '../helpers/gateway.ts';
import { LbStack } from '../helpers/lb-stack.ts';
import { connectRedis } from '../helpers/redis.ts';

const CAP = 3;
let redis: RedisClient;
let stack: LbStack;
const silent: { ws: WebSocket; code: number | undefined }[] = [];

beforeAll(async () => {
  redis = await connectRedis();
  stack = await LbStack.start(redis, { gateways: 1, pool: { workstation: 10 }, env: { DRAIN_SECONDS: '0', MAX_UNAUTHENTICATED_PER_SOURCE: String(CAP), HELLO_TIMEOUT_MS: '20000' } });
});
afterAll(async () => {
  for (const s of silent) s.ws.terminate();
  await stack?.stop();
  redis?.disconnect();
});

describe('Z4 behind HAProxy', () => {
  it('Z4: the per-source cap counts the address HAProxy forwards, not HAProxy itself', async () => {
    await eventually(async () => (await stack.haproxy.servers()).every((s) => s.status === 'UP'), 'gateway UP in HAProxy', 15_000);
    for (let i = 0; i < CAP + 2; i++) {
      const ws = new WebSocket(stack.url, { localAddress: '127.0.0.50' });
      const entry = { ws, code: undefined as number | undefined };
      ws.on('error', () => {});
      ws.once('close', (code) => (entry.code = code));
      silent.push(entry);
      await new Promise<void>((resolve) => (ws.once('open', () => resolve()), ws.once('close', () => resolve())));
    }
    // Two over the share of 127.0.0.50 are refused with TOO_MANY_UNAUTHENTICATED (1013).
    await eventually(() => silent.filter((s) => s.code !== undefined).length === 2, 'two silent sockets over the cap closed', 10_000);
    expect(silent.filter((s) => s.code === 1013)).toHaveLength(2);
    // The same host is still over its share; another host behind the same HAProxy is served.
    const sameHost = newAgent(stack.url, { localAddress: '127.0.0.50', handshakeTimeoutMs: 5_000 });
    const refused = await sameHost.connect().then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(AgentError);
    expect((refused as AgentError).code).toBe('TOO_MANY_UNAUTHENTICATED');
    const otherHost = newAgent(stack.url, { localAddress: '127.0.0.51' });
    expect((await otherHost.connect()).license.licensed).toBe(true);
    await otherHost.close();
  });
});
