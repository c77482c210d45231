/**
 * X3 R2: while the gateway cannot reach Redis (a failover, a cut network) a Hello is refused with
 * the retryable REDIS_UNAVAILABLE and a retry hint — not INTERNAL_ERROR, which says the server is
 * broken and is logged as a fault. Once Redis is back the same agent enrolls. The network between
 * the gateway and a real redis-server is cut by a TCP proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Agent, AgentError } from '../../agent-sim/agent.ts';
import { TcpProxy } from '../../chaos/lib/tcp-proxy.ts';
import { GatewayServer } from '../../src/gateway/gateway-server.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import { createRedis, waitReady, type RedisClient } from '../../src/store/redis-connection.ts';
import { clientId, OS } from '../helpers/agents.ts';
import { TEST_TOKEN } from '../helpers/gateway.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { connectRedis, newKeys, redisUrl } from '../helpers/redis.ts';

let redis: RedisClient;
let proxied: RedisClient;
let keys: Keys;
let proxy: TcpProxy;
let gateway: GatewayServer;
let url: string;
const errorLogs: string[] = [];

beforeAll(async () => {
  redis = await connectRedis();
  keys = newKeys('unavail');
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  await activatePool(ledgerContext(redis, keys), { workstation: 5 });
  proxy = await TcpProxy.start(redisUrl());
  // Few retries per command, so the test meets the refusal within seconds.
  proxied = createRedis(proxy.url, { connectionName: 'licensegate:gateway', autoPipelining: true, maxRetriesPerRequest: 1 });
  proxied.on('error', () => {});
  await waitReady(proxied);
  gateway = new GatewayServer({
    redis: proxied,
    keys,
    logger: pino({ level: 'error' }, { write: (line: string) => void errorLogs.push(line) }),
    port: 0,
    reconcileIntervalMs: 600_000,
  });
  url = `ws://127.0.0.1:${(await gateway.start()).port}`;
});
afterAll(async () => {
  await gateway.stop();
  proxied.disconnect();
  await proxy.close();
  redis.disconnect();
});

describe('a Hello while Redis is unreachable', () => {
  it('X3 R2: is refused with REDIS_UNAVAILABLE and a retry hint; the agent enrolls once Redis is back', async () => {
    // The gateway already serves the tenant (its doorbell channel is subscribed), as in production.
    const warm = new Agent({ url, clientId: clientId('warm'), enrollmentToken: TEST_TOKEN, os: OS.windows });
    await warm.connect();
    await warm.close();
    const id = clientId('unavail');
    proxy.cut('drop');
    const agent = new Agent({ url, clientId: id, enrollmentToken: TEST_TOKEN, os: OS.windows, handshakeTimeoutMs: 30_000 });
    const err = await agent.connect().then(
      () => null,
      (e: AgentError) => e,
    );
    expect(err?.code).toBe('REDIS_UNAVAILABLE');
    expect(err?.retryAfterMs).toBeGreaterThan(0);
    expect(errorLogs.filter((l) => l.includes('server fault'))).toEqual([]);

    proxy.heal();
    await waitReady(proxied, 20_000).catch(() => undefined);
    let welcomed = false;
    const deadline = Date.now() + 20_000;
    while (!welcomed && Date.now() < deadline) {
      const retry = new Agent({ url, clientId: id, enrollmentToken: TEST_TOKEN, os: OS.windows });
      welcomed = await retry.connect().then(
        () => true,
        () => false,
      );
      await retry.close();
      if (!welcomed) await new Promise((r) => setTimeout(r, 200));
    }
    expect(welcomed).toBe(true);
  });
});
