/**
 * F1 (issue 8, clock skew): liveness is decided on Redis TIME, so gateways whose host clocks
 * are 30 s apart (CLOCK_OFFSET_MS shifts a process's wall clock) neither reap each other nor
 * are reaped. Real processes on a private redis-server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent-sim/agent.ts';
import { newAgent, OS } from '../helpers/agents.ts';
import { gatewayEnv, holdsFor, provision, startPrivateRedis, type PrivateRedis } from '../helpers/fault-fleet.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';

const NODE_TIMEOUT_MS = 1500;

let redis: PrivateRedis;
beforeAll(async () => {
  redis = await startPrivateRedis();
});
afterAll(() => redis.stop());

describe('presence with skewed host clocks', () => {
  it('F1 C4: gateways 30 s ahead, 30 s behind and on time keep every live connection online for several node timeouts', async () => {
    const { prefix, keys } = await provision(redis.redis, { linux: 30 });
    const base = { NODE_HEARTBEAT_MS: '250', NODE_TIMEOUT_MS: String(NODE_TIMEOUT_MS), HEARTBEAT_INTERVAL_MS: '60000' };
    const procs: GatewayProcess[] = await Promise.all(
      ['30000', '-30000', '0'].map((offset) => startGatewayProcess(gatewayEnv(redis.url, prefix, { ...base, CLOCK_OFFSET_MS: offset }))),
    );
    const agents: Agent[] = [];
    try {
      for (const p of procs) for (let i = 0; i < 10; i++) agents.push(newAgent(p.url, { os: OS.linux }));
      await Promise.all(agents.map((a) => a.connect()));
      let recorded = 0;
      const allOnline = async () => {
        const held = await redis.redis.hgetall(keys.online('default'));
        recorded = agents.filter((a) => a.connected && held[a.clientId] !== undefined).length;
        return recorded === agents.length;
      };
      await holdsFor(allOnline, 'every live connection recorded online', 4 * NODE_TIMEOUT_MS).catch((err: Error) => {
        throw new Error(`${err.message} (${recorded} of ${agents.length})`);
      });
      for (const p of procs) expect(await redis.redis.zscore(keys.nodes(), p.nodeId)).not.toBeNull();
    } finally {
      for (const a of agents) a.terminate();
      await Promise.all(procs.map((p) => p.stop()));
    }
  });
});
