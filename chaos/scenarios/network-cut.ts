/**
 * (f) The network between one gateway and Redis is cut for 10 s (quick: longer than
 * NODE_TIMEOUT_MS) mid-storm, through a TCP proxy: `drop` resets every connection and refuses
 * new ones; `blackhole` keeps them open and lets nothing through (the nastier case: no error,
 * only silence). The other gateway and the worker keep their Redis. Afterwards the cut node's
 * connections must be recorded online again and nothing may be lost (F1, R1).
 */
import type { ScenarioDef } from '../lib/scenario.ts';
import { runStormScenario } from '../lib/storm.ts';
import type { CutMode } from '../lib/tcp-proxy.ts';

function networkCut(mode: CutMode, quick: boolean): ScenarioDef {
  return {
    name: `f-net-${mode}`,
    title: `network between one gateway and Redis cut (${mode})`,
    quick,
    timeoutMs: (s) => 120_000 + s.cutMs + s.boundMs + s.settleMs,
    run: (ctx) =>
      runStormScenario(ctx, {
        gateways: [{ name: 'g1', viaProxy: true }, { name: 'g2' }],
        async inject({ stack, sizes }) {
          const proxy = stack.proxies.get('g1')!;
          const open = proxy.connections;
          await proxy.cutFor(mode, sizes.cutMs);
          return { fault: `${mode} the network between gateway g1 and Redis for ${sizes.cutMs} ms (${open} connections)`, details: { proxy: { ...proxy.stats } } };
        },
      }),
  };
}

export const netBlackhole = networkCut('blackhole', true);
export const netDrop = networkCut('drop', false);
