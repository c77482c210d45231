/**
 * Checks (5) and (6): no agent is locked out — every agent that should be connected is, and
 * is listed online — and the tenants' `online` hashes hold exactly the connections that
 * really exist, each on the node the agent is really connected to (C4, F1). An uninstalled
 * Client is neither connected nor online (C8, issue 8 item 12).
 */
import { nodeOfToken } from '../redis-truth.ts';
import { finding, inWindow, registrationOf, type CheckInput, type Finding } from './types.ts';

export function checkPresence(input: CheckInput): Finding[] {
  const out: Finding[] = [];
  const { truth, lossWindow } = input;
  const agents = input.fleet.byKey();
  for (const a of agents.values()) {
    const lostRegistration = inWindow(registrationOf(a)?.t, lossWindow) && truth.clients.get(a.key)?.exists === false;
    const excuse = lostRegistration ? `${lossWindow!.why}: its registration was lost with the window` : undefined;
    const token = truth.online.get(a.spec.tenantId)?.get(a.spec.clientId);
    if (a.belief.uninstalled) {
      if (a.agent.connected) out.push(finding('presence', 'C8', a.key, 'told to uninstall, yet its connection is still open'));
      continue;
    }
    if (!a.shouldBeConnected) continue;
    if (!a.agent.connected) {
      const err = a.agent.lastError?.code;
      out.push(finding('lockout', 'C4', a.key, `not connected (last error ${err ?? '-'}, last close ${a.agent.lastClose?.code ?? '-'}; ${a.history()})`, err === 'AUTH_FAILED' ? excuse : undefined));
      continue;
    }
    const node = input.nodeOfUrl.get(a.agent.socketUrl ?? '');
    if (token === undefined) out.push(finding('presence', 'F1', a.key, `connected to ${node ?? a.agent.socketUrl} but not in the online hash (${a.history(4)})`, excuse));
    else if (node !== undefined && nodeOfToken(token) !== node) out.push(finding('presence', 'F1', a.key, `online hash says node ${nodeOfToken(token)}, connected to ${node}`));
  }
  for (const [tenantId, online] of truth.online) {
    for (const [clientId, token] of online) {
      const a = agents.get(`${tenantId}/${clientId}`);
      if (!a) out.push(finding('presence', 'F1', `${tenantId}/${clientId}`, `listed online (${token}) but no such agent exists`));
      else if (!a.agent.connected) out.push(finding('presence', 'F1', a.key, `listed online (${token}) but not connected`));
    }
  }
  return out;
}
