/**
 * The benchmark fleet: agent i's client id and operating system are functions of i, so the
 * bench (which sizes the license pool) and the driver process (which runs the agents) agree
 * without exchanging lists. The OS mix is agent-sim's default (windows 60 %, linux 25 %,
 * macos 10 %, windows-server 5 %), dealt out in a fixed 20-slot pattern.
 */
import type { AgentOs } from '../../agent-sim/agent.ts';
import { OS_PROFILES, type OsName } from '../../agent-sim/os-mix.ts';
import type { LicenseTypeName } from '../../src/licensing/license-types.ts';

const PATTERN: OsName[] = [
  ...Array<OsName>(12).fill('windows'),
  ...Array<OsName>(5).fill('linux'),
  ...Array<OsName>(2).fill('macos'),
  'windows-server',
];

export const LICENSE_OF: Record<string, LicenseTypeName> = {
  windows: 'workstation',
  macos: 'workstation',
  linux: 'linux',
  'windows-server': 'infrastructure-server',
};

export function osNameOfAgent(i: number): OsName {
  return PATTERN[i % PATTERN.length]!;
}

export function osOfAgent(i: number): AgentOs {
  return { ...OS_PROFILES[osNameOfAgent(i)] };
}

export function clientIdOf(prefix: string, i: number): string {
  return `${prefix}-${i.toString(36).padStart(5, '0')}`;
}

/** Licenses that cover agents 0..n-1 exactly, plus `spare` of each type used. */
export function poolFor(n: number, spare = 0): Partial<Record<LicenseTypeName, number>> {
  const pool: Partial<Record<LicenseTypeName, number>> = {};
  for (let i = 0; i < n; i++) {
    const t = LICENSE_OF[osNameOfAgent(i)]!;
    pool[t] = (pool[t] ?? 0) + 1;
  }
  for (const t of Object.keys(pool) as LicenseTypeName[]) pool[t]! += spare;
  return pool;
}
