/**
 * F1 C4 (issue 8, item 2): when the Hello script ran but its reply never reached the gateway
 * (the Redis link was cut right after; ioredis resends the script on the new link, and the
 * resent run refuses), the online record the first run wrote must not outlive the connection:
 * otherwise the agent gets ENROLLMENT_PENDING on every retry while the gateway lives.
 * The proxy between the gateway and Redis cuts the link at exactly that reply.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Agent, AgentError } from '../../agent-sim/agent.ts';
import { GatewayServer } from '../../src/gateway/gateway-server.ts';
import { ensureTenant } from '../../src/licensing/tenants.ts';
import { DEFAULT_TENANT, type Keys } from '../../src/store/keys.ts';
import { createRedis, waitReady, type RedisClient } from '../../src/store/redis-connection.ts';
import { clientId, OS } from '../helpers/agents.ts';
import { eventually, TEST_TOKEN } from '../helpers/gateway.ts';
import { activatePool, ledgerContext } from '../helpers/ledger.ts';
import { startRedisProxy, type RedisProxy } from '../helpers/redis-proxy.ts';
import { connectRedis, newKeys, redisUrl } from '../helpers/redis.ts';

/** The Hello script's reply when it registered the Client: {'OK', 1, <held type>, ...}. */
const HELLO_REGISTERED_REPLY = '$2\r\nOK\r\n:1\r\n$';

let redis: RedisClient;
let proxied: RedisClient;
let keys: Keys;
let proxy: RedisProxy;
let gateway: GatewayServer;
let url: string;

beforeAll(async () => {
  redis = await connectRedis();
  keys = newKeys('lost');
  await ensureTenant(redis, keys, DEFAULT_TENANT, { enrollmentToken: TEST_TOKEN });
  await activatePool(ledgerContext(redis, keys), { workstation: 5 });
  proxy = await startRedisProxy(redisUrl());
  proxied = createRedis(proxy.url, { connectionName: 'licensegate:gateway', autoPipelining: true });
  proxied.on('error', () => {});
  await waitReady(proxied);
  gateway = new GatewayServer({
    redis: proxied,
    keys,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    port: 0,
    // Far beyond the test: what must clean up is the failure path itself, not the periodic backstop.
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

describe('a Hello whose reply is lost', () => {
  it('F1 C4: the online record of the failed connection is removed and the agent enrolls on a later try', async () => {
    const id = clientId('lost');
    const cutDone = proxy.cutOnReply(HELLO_REGISTERED_REPLY);
    const first = new Agent({ url, clientId: id, enrollmentToken: TEST_TOKEN, os: OS.windows });
    const firstTry = await first.connect().then(
      () => 'welcome',
      (err: AgentError) => err.code,
    );
    await cutDone;
    // The first attempt cannot succeed: its registration's reply was lost.
    expect(firstTry).not.toBe('welcome');
    expect(await redis.exists(keys.client(DEFAULT_TENANT, id))).toBe(1);
    await eventually(async () => (await redis.hget(keys.online(DEFAULT_TENANT), id)) === null, 'the failed connection is not recorded online', 3000);

    // The agent retries as it would (ENROLLMENT_PENDING is retryable), and gets in.
    let welcomed = false;
    const codes: string[] = [];
    const deadline = Date.now() + 5000;
    while (!welcomed && Date.now() < deadline) {
      const agent = new Agent({ url, clientId: id, enrollmentToken: TEST_TOKEN, os: OS.windows });
      try {
        await agent.connect();
        welcomed = true;
        expect(await redis.hget(keys.online(DEFAULT_TENANT), id)).toMatch(new RegExp(`^${gateway.nodeId}:`));
        await agent.close();
      } catch (err) {
        codes.push((err as AgentError).code);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect({ welcomed, codes }).toMatchObject({ welcomed: true });
  });
});
