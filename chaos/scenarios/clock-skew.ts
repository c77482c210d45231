/**
 * (e) One gateway's clock is 30 s off (CLOCK_OFFSET_MS, the gateway's injectable clock) for
 * the whole run: liveness must not depend on host clocks (F1: use Redis TIME). The storm runs
 * for two liveness timeouts with the skew in place; then the checks. Whether the offset took
 * effect is observed through that gateway's HeartbeatAck times: if it did not, the scenario
 * tested nothing and says so with a `fault` violation.
 */
import { finding } from '../lib/checks/types.ts';
import { clockOffsetEnv, observedSkewMs } from '../lib/clock-offset.ts';
import type { ScenarioDef } from '../lib/scenario.ts';
import { runStormScenario } from '../lib/storm.ts';

const OFFSET_MS = 30_000;

function clockSkew(direction: 'ahead' | 'behind', quick: boolean): ScenarioDef {
  const offset = direction === 'ahead' ? OFFSET_MS : -OFFSET_MS;
  return {
    name: `e-clock-${direction}`,
    title: `one gateway's clock ${OFFSET_MS / 1000} s ${direction}`,
    quick,
    timeoutMs: (s) => 120_000 + s.skewMs + s.boundMs + s.settleMs,
    run: (ctx) =>
      runStormScenario(ctx, {
        gateways: [{ name: 'g1', env: clockOffsetEnv(offset) }, { name: 'g2' }],
        async inject({ sizes }) {
          await new Promise((r) => setTimeout(r, sizes.skewMs));
          return { fault: `gateway g1 runs with CLOCK_OFFSET_MS=${offset}; storm and jobs for ${sizes.skewMs} ms` };
        },
        observe({ stack, fleet }) {
          const g1 = observedSkewMs(fleet, stack.gateways.get('g1')!.url);
          const g2 = observedSkewMs(fleet, stack.gateways.get('g2')!.url);
          const note = `HeartbeatAck server time − local time seen by agents: g1 ${g1 ?? '?'} ms, g2 ${g2 ?? '?'} ms`;
          if (g1 !== null && g2 !== null && Math.abs(g1 - g2 - offset) < 5_000) return { notes: [`${note}: the offset is in effect`], findings: [] };
          return {
            notes: [note],
            findings: [finding('fault', 'F1', 'g1', `CLOCK_OFFSET_MS=${offset} was not in effect (HeartbeatAck times differ by ${g1 !== null && g2 !== null ? g1 - g2 : '?'} ms, not ≈ ${offset}): clock skew was not tested`)],
          };
        },
      }),
  };
}

export const clockAhead = clockSkew('ahead', true);
export const clockBehind = clockSkew('behind', false);
