/**
 * C5 F1 (issue 8, item 10): the same Client connecting to two gateway processes at once ends
 * with exactly one live connection, every time. The race: node B's Hello runs after node A's
 * and B tells A to close its connection, but that supersede can reach A before A's own Hello
 * reply does (A's link to Redis is slow), while A's connection is not live yet. Node A's
 * command connection goes through a proxy that delays its replies; its pub/sub connection
 * does not, so the race happens in most rounds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent-sim/agent.ts';
import { DEFAULT_TENANT } from '../../src/store/keys.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { gatewayEnv, provision, startPrivateRedis, type PrivateRedis } from '../helpers/fault-fleet.ts';
import { eventually } from '../helpers/gateway.ts';
import { startGatewayProcess } from '../helpers/gateway-process.ts';
import { startRedisProxy, type RedisProxy } from '../helpers/redis-proxy.ts';

const ROUNDS = 50;
const SLOW_LINK_MS = 150;

let redis: PrivateRedis;
let proxy: RedisProxy;
beforeAll(async () => {
  redis = await startPrivateRedis();
  proxy = await startRedisProxy(redis.url);
});
afterAll(async () => {
  await proxy.close();
  await redis.stop();
});

describe('racing connections of one Client on two gateways', () => {
  it(`C5 F1: ${ROUNDS} rounds of simultaneous connects to two nodes each end with exactly one live connection, the one recorded online`, async () => {
    const { prefix, keys } = await provision(redis.redis, { workstation: 5 });
    // Long: what is proven is the supersede itself, not the periodic backstop.
    const extra = { RECONCILE_INTERVAL_MS: '600000' };
    const [slow, fast] = await Promise.all([
      startGatewayProcess(gatewayEnv(proxy.url, prefix, extra)),
      startGatewayProcess(gatewayEnv(redis.url, prefix, extra)),
    ]);
    try {
      const enrolled = newAgent(fast!.url);
      await enrolled.connect();
      await enrolled.close();
      proxy.setLatency(SLOW_LINK_MS, 'licensegate:gateway');
      const online = keys.online(DEFAULT_TENANT);
      let earlySupersedes = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const pair = [slow!, fast!].map((p) => new Agent({ url: p.url, clientId: enrolled.clientId, credential: enrolled.credential!, os: OS.windows }));
        await Promise.allSettled(pair.map((a) => a.connect()));
        const live = () => pair.filter((a) => a.connected);
        await eventually(() => live().length === 1, `round ${round}: exactly one live connection (${live().length} now)`, 3000);
        const survivor = live()[0]!;
        const survivorNode = survivor === pair[0] ? slow!.nodeId : fast!.nodeId;
        expect(await redis.redis.hget(online, enrolled.clientId)).toMatch(new RegExp(`^${survivorNode}:`));
        const loser = pair.find((a) => a !== survivor)!;
        expect(loser.lastError?.code).toBe('SUPERSEDED');
        if (loser === pair[0] && loser.lastWelcome === null) earlySupersedes++;
        await survivor.close();
        await eventually(async () => (await redis.redis.hget(online, enrolled.clientId)) === null, `round ${round}: offline after the close`, 3000);
      }
      // The race was really run: the slow node's connection was superseded before its Welcome.
      expect(earlySupersedes).toBeGreaterThan(0);
    } finally {
      await Promise.all([slow!.stop(), fast!.stop()]);
    }
  });
});
