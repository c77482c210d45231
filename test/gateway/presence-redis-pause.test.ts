/**
 * F1 (issue 8, item 1): a Redis pause, or a gateway's own stall, longer than the node timeout
 * must not leave healthy gateways' live connections recorded offline. Real processes: a private
 * redis-server, two gateway processes, 20 live agents on each (agent heartbeats far apart, so
 * no agent goes silent meanwhile); the test SIGSTOPs redis-server or one gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { gatewayEnv, holdsFor, provision, startPrivateRedis, type PrivateRedis } from '../helpers/fault-fleet.ts';
import { eventually } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';

// Wide enough that a loaded test machine does not stall a healthy gateway past it.
const NODE_TIMEOUT_MS = 3000;
const PAUSE_MS = 9000;
const ENV = {
  NODE_HEARTBEAT_MS: '500',
  NODE_TIMEOUT_MS: String(NODE_TIMEOUT_MS),
  HEARTBEAT_INTERVAL_MS: '60000',
  // Long: these tests prove what the nodes do at once, not the periodic reconciliation.
  RECONCILE_INTERVAL_MS: '600000',
};

function pauseFor(ms: number, pause: () => void, resume: () => void): Promise<void> {
  pause();
  return new Promise<void>((r) => setTimeout(r, ms)).finally(resume);
}

/** Every agent connected and recorded online; `counted.n` keeps the last count for messages. */
function allOnlineCheck(redisConn: PrivateRedis['redis'], onlineKey: string, agents: Agent[], counted: { n: number }) {
  return async () => {
    const held = await redisConn.hgetall(onlineKey);
    counted.n = agents.filter((a) => a.connected && held[a.clientId] !== undefined).length;
    return counted.n === agents.length;
  };
}

let redis: PrivateRedis;
beforeAll(async () => {
  redis = await startPrivateRedis();
});
afterAll(() => redis.stop());

describe('presence through a Redis pause', () => {
  it(`F1 C4: after each of two pauses of redis-server for ${PAUSE_MS / NODE_TIMEOUT_MS} node timeouts, every live connection of both gateways is online again and stays so`, async () => {
    const { prefix, keys } = await provision(redis.redis, { linux: 40 });
    const env = gatewayEnv(redis.url, prefix, ENV);
    const procs: GatewayProcess[] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
    const agents: Agent[] = [];
    try {
      for (const p of procs) for (let i = 0; i < 20; i++) agents.push(newAgent(p.url, { os: OS.linux }));
      await Promise.all(agents.map((a) => a.connect()));
      const online = keys.online('default');
      expect(await redis.redis.hlen(online)).toBe(40);

      const recorded = { n: 0 };
      const allOnline = allOnlineCheck(redis.redis, online, agents, recorded);
      // Twice: which node's queued commands reach Redis first after a pause varies, and so did
      // whether a node was reaped (before the fix, 20 of 40 were lost in about half the pauses).
      for (const pause of [1, 2]) {
        await pauseFor(PAUSE_MS, redis.pause, redis.resume);
        await eventually(allOnline, `pause ${pause}: all 40 live connections recorded online`, 15_000, 100);
        // Beyond several node-timeout periods: no late reap takes any of them away again.
        await holdsFor(allOnline, `pause ${pause}: all 40 live connections recorded online`, 2 * NODE_TIMEOUT_MS).catch((err: Error) => {
          throw new Error(`${err.message} (${recorded.n} of 40)`);
        });
      }
      expect(await redis.redis.hlen(online)).toBe(40);
      // Both nodes are alive in the registry.
      for (const p of procs) expect(await redis.redis.zscore(keys.nodes(), p.nodeId)).not.toBeNull();
    } finally {
      for (const a of agents) a.terminate();
      await Promise.all(procs.map((p) => p.stop()));
    }
  });

  it('F1 C4: a gateway stalled beyond the node timeout is reaped, and when it resumes it re-registers every live connection', async () => {
    const { prefix, keys } = await provision(redis.redis, { linux: 40 });
    const env = gatewayEnv(redis.url, prefix, ENV);
    const [stalled, survivor] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
    const agents: Agent[] = [];
    try {
      for (const p of [stalled!, survivor!]) for (let i = 0; i < 20; i++) agents.push(newAgent(p.url, { os: OS.linux }));
      await Promise.all(agents.map((a) => a.connect()));
      const online = keys.online('default');
      const recorded = { n: 0 };
      const allOnline = allOnlineCheck(redis.redis, online, agents, recorded);
      stalled!.child.kill('SIGSTOP');
      try {
        // While it is stopped the survivor takes it for dead: its 20 Clients go offline.
        await eventually(async () => (await redis.redis.hlen(online)) === 20, 'the survivor reaps the stalled node', 4 * NODE_TIMEOUT_MS, 100);
      } finally {
        stalled!.child.kill('SIGCONT');
      }
      await eventually(allOnline, 'all 40 live connections recorded online after the stalled node resumed', 15_000, 100).catch((err: Error) => {
        throw new Error(`${err.message} (${recorded.n} of 40)`);
      });
      await holdsFor(allOnline, 'all 40 live connections recorded online', 3 * NODE_TIMEOUT_MS).catch((err: Error) => {
        throw new Error(`${err.message} (${recorded.n} of 40)`);
      });
      expect(await redis.redis.zscore(keys.nodes(), stalled!.nodeId)).not.toBeNull();
    } finally {
      for (const a of agents) a.terminate();
      stalled!.child.kill('SIGCONT');
      await Promise.all([stalled!.stop(), survivor!.stop()]);
    }
  });
});
