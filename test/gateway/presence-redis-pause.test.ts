/**
 * F1 (issue 8, item 1): a Redis pause longer than the node timeout must not leave healthy
 * gateways' live connections recorded offline. Real processes: a private redis-server that the
 * test SIGSTOPs, two gateway processes, 20 live agents on each (agent heartbeats far apart, so
 * no agent goes silent meanwhile).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { gatewayEnv, holdsFor, provision, startPrivateRedis, type PrivateRedis } from '../helpers/fault-fleet.ts';
import { eventually } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';

const NODE_TIMEOUT_MS = 2000;
const PAUSE_MS = 7000;

let redis: PrivateRedis;
beforeAll(async () => {
  redis = await startPrivateRedis();
});
afterAll(() => redis.stop());

describe('presence through a Redis pause', () => {
  it('F1 C4: after redis-server is paused for 3.5 node timeouts, every live connection of both gateways is online again and stays so', async () => {
    const { prefix, keys } = await provision(redis.redis, { linux: 40 });
    const env = gatewayEnv(redis.url, prefix, {
      NODE_HEARTBEAT_MS: '500',
      NODE_TIMEOUT_MS: String(NODE_TIMEOUT_MS),
      HEARTBEAT_INTERVAL_MS: '60000',
      // Long: this test proves re-registration by the reaped node itself, not the periodic backstop.
      RECONCILE_INTERVAL_MS: '600000',
    });
    const procs: GatewayProcess[] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
    const agents: Agent[] = [];
    try {
      for (const p of procs) for (let i = 0; i < 20; i++) agents.push(newAgent(p.url, { os: OS.linux }));
      await Promise.all(agents.map((a) => a.connect()));
      const online = keys.online('default');
      expect(await redis.redis.hlen(online)).toBe(40);

      redis.pause();
      try {
        await new Promise((r) => setTimeout(r, PAUSE_MS));
      } finally {
        redis.resume();
      }

      let recorded = 0;
      const allOnline = async () => {
        const held = await redis.redis.hgetall(online);
        recorded = agents.filter((a) => a.connected && held[a.clientId] !== undefined).length;
        return recorded === agents.length;
      };
      await eventually(allOnline, 'all 40 live connections recorded online after the pause', 15_000, 100);
      // Beyond several node-timeout periods: no late reap takes any of them away again.
      await holdsFor(allOnline, 'all 40 live connections recorded online', 3 * NODE_TIMEOUT_MS).catch((err: Error) => {
        throw new Error(`${err.message} (${recorded} of 40)`);
      });
      expect(await redis.redis.hlen(online)).toBe(40);
      // Both nodes are alive in the registry.
      for (const p of procs) expect(await redis.redis.zscore(keys.nodes(), p.nodeId)).not.toBeNull();
    } finally {
      for (const a of agents) a.terminate();
      await Promise.all(procs.map((p) => p.stop()));
    }
  });
});
