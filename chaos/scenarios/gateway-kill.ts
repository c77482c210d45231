/**
 * (a) kill -9 one of two gateways mid-storm. Its agents lose their connections without a close
 * frame and reconnect to the other gateway (each agent knows both URLs); the dead node's
 * `online` records must go (C4: within its liveness timeout), nothing acknowledged may be lost.
 */
import type { ScenarioDef } from '../lib/scenario.ts';
import { runStormScenario } from '../lib/storm.ts';

export const gatewayKill: ScenarioDef = {
  name: 'a-gateway-kill',
  title: 'kill -9 one of two gateways mid-storm',
  quick: true,
  timeoutMs: (s) => 120_000 + s.boundMs + s.settleMs,
  run: (ctx) =>
    runStormScenario(ctx, {
      gateways: [{ name: 'g1' }, { name: 'g2' }],
      async inject({ stack, fleet }) {
        const g1 = stack.gateways.get('g1')!;
        const on = fleet.agents.filter((a) => a.agent.connected && a.agent.socketUrl === g1.url).length;
        await stack.killGateway('g1');
        return { fault: `kill -9 gateway g1 (pid ${g1.pid}) holding ${on} agents`, details: { agentsOnKilledGateway: on } };
      },
    }),
};
