/**
 * The fleet's agents: stable client ids, an OS mix that spans three license types (Windows
 * workstations, Linux, Windows servers), and each agent's own order of gateway URLs so that
 * the fleet spreads over the gateways and fails over to the next one.
 */
import type { AgentOs } from '../../agent-sim/agent.ts';
import type { EndpointLicenseType } from '../../src/licensing/license-types.ts';
import { OsFamily, ProductType } from '../../src/protocol/wire.ts';
import type { AgentSpec } from './fleet.ts';

const OS: Record<'workstation' | 'linux' | 'infrastructure-server', AgentOs> = {
  workstation: { family: OsFamily.OS_FAMILY_WINDOWS, productType: ProductType.PRODUCT_TYPE_WORKSTATION },
  linux: { family: OsFamily.OS_FAMILY_LINUX },
  'infrastructure-server': { family: OsFamily.OS_FAMILY_WINDOWS, productType: ProductType.PRODUCT_TYPE_SERVER },
};

/** The license type agent `i` needs: 6 in 10 workstation, 3 linux, 1 infrastructure-server. */
export function typeOfAgent(i: number): keyof typeof OS {
  const r = i % 10;
  return r < 6 ? 'workstation' : r < 9 ? 'linux' : 'infrastructure-server';
}

/** How many of `n` agents need each type. */
export function demandOf(n: number): Record<keyof typeof OS, number> {
  const d = { workstation: 0, linux: 0, 'infrastructure-server': 0 };
  for (let i = 0; i < n; i++) d[typeOfAgent(i)]++;
  return d;
}

/** A pool that licenses `share` of the demand of each type (the rest wait, C9). */
export function poolFor(n: number, share: number): Partial<Record<EndpointLicenseType, number>> {
  const d = demandOf(n);
  return Object.fromEntries(Object.entries(d).map(([t, k]) => [t, Math.max(1, Math.round(k * share))]));
}

export function agentSpecs(o: { n: number; tenantId: string; token: string; urls: string[]; prefix: string; from?: number }): AgentSpec[] {
  const from = o.from ?? 0;
  return Array.from({ length: o.n }, (_, k) => {
    const i = from + k;
    const shift = i % o.urls.length;
    return {
      tenantId: o.tenantId,
      clientId: `${o.prefix}-${String(i).padStart(4, '0')}`,
      token: o.token,
      os: OS[typeOfAgent(i)],
      urls: [...o.urls.slice(shift), ...o.urls.slice(0, shift)],
    };
  });
}
