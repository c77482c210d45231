/**
 * Check (1): every connected agent believes what Redis records for its Client — monitoring
 * exactly when the Client holds a license, of the same type (C6, C7) — and an agent told to
 * uninstall belongs to an uninstalled Client (C8).
 */
import type { TruthAgent } from '../fleet.ts';
import { finding, inWindow, registrationOf, type CheckInput, type Finding } from './types.ts';

/** When the agent last learnt its license state (a Welcome or an applied Command). */
export function lastBeliefChange(a: TruthAgent): number | undefined {
  for (let i = a.observations.length - 1; i >= 0; i--) {
    const o = a.observations[i]!;
    if (o.kind === 'welcome' || (o.kind === 'command' && !o.duplicate)) return o.t;
  }
  return undefined;
}

const describe = (monitoring: boolean, type: string | null) => (monitoring ? `licensed ${type}` : 'unlicensed');

export function checkBeliefs(input: CheckInput): Finding[] {
  const out: Finding[] = [];
  for (const a of input.fleet.agents) {
    if (!a.agent.connected && !a.belief.uninstalled) continue; // lock-outs are check (5)
    const rec = input.truth.clients.get(a.key);
    if (!rec) continue;
    const excuse =
      inWindow(lastBeliefChange(a), input.lossWindow) || inWindow(registrationOf(a)?.t, input.lossWindow) ? input.lossWindow!.why : undefined;
    if (!rec.exists) {
      out.push(finding('belief', 'C2', a.key, 'agent is connected but Redis has no record of its Client', excuse));
      continue;
    }
    if (a.belief.uninstalled !== (rec.status === 'uninstalled')) {
      out.push(finding('belief', 'C8', a.key, `agent ${a.belief.uninstalled ? 'was told to uninstall' : 'is not uninstalled'} but the Client's status is ${rec.status}`, excuse));
      continue;
    }
    if (a.belief.uninstalled) continue;
    const redisLicensed = rec.type !== '';
    if (a.belief.monitoring !== redisLicensed || (redisLicensed && a.belief.type !== rec.type)) {
      out.push(
        finding(
          'belief',
          'C7',
          a.key,
          `agent believes ${describe(a.belief.monitoring, a.belief.type)}, Redis says ${describe(redisLicensed, rec.type)} (reason ${rec.reason || '-'}, seq ${rec.seq}, acked ${rec.acked})`,
          excuse,
        ),
      );
    }
  }
  return out;
}
