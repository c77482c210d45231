/**
 * The fleet's operating-system mix (`--os-mix windows:60,linux:25,...`): which OS profiles
 * the simulated agents report in Hello (SPEC L2 maps them to license types). Weights are
 * normalised and apportioned exactly (largest remainder), then dealt out in a seeded random
 * order, so a seed reproduces which agent runs which OS.
 */
import { OsFamily, ProductType } from '../src/protocol/wire.ts';
import type { AgentOs } from './agent.ts';
import { shuffle, type Random } from './prng.ts';

/** What each `--os-mix` name reports in Hello.os. */
export const OS_PROFILES = {
  windows: { family: OsFamily.OS_FAMILY_WINDOWS, productType: ProductType.PRODUCT_TYPE_WORKSTATION, version: '10.0.22631' },
  linux: { family: OsFamily.OS_FAMILY_LINUX, version: 'Ubuntu 24.04' },
  macos: { family: OsFamily.OS_FAMILY_MACOS, version: '14.5' },
  'windows-server': { family: OsFamily.OS_FAMILY_WINDOWS, productType: ProductType.PRODUCT_TYPE_SERVER, version: '10.0.20348' },
  'terminal-server': { family: OsFamily.OS_FAMILY_WINDOWS, productType: ProductType.PRODUCT_TYPE_SERVER, multiSession: true, version: '10.0.20348' },
  'cloud-server': { family: OsFamily.OS_FAMILY_WINDOWS, productType: ProductType.PRODUCT_TYPE_SERVER, cloudProvider: 'aws', version: '10.0.20348' },
  unknown: { family: OsFamily.OS_FAMILY_UNSPECIFIED },
} as const satisfies Record<string, AgentOs>;

/** A name accepted by `--os-mix`. */
export type OsName = keyof typeof OS_PROFILES;
/** Every `--os-mix` name. */
export const OS_NAMES = Object.keys(OS_PROFILES) as OsName[];

/** One `name:weight` entry; weights are relative (they need not add up to 100). */
export interface OsMixEntry {
  name: OsName;
  weight: number;
}

/** The default mix, a typical enterprise fleet. */
export const DEFAULT_OS_MIX = 'windows:60,linux:25,macos:10,windows-server:5';

function isOsName(name: string): name is OsName {
  return Object.hasOwn(OS_PROFILES, name);
}

/** The `name:weight,...` text of a mix (parseOsMix's inverse), as a state file keeps it. */
export function formatOsMix(mix: readonly OsMixEntry[]): string {
  return mix.map((e) => `${e.name}:${e.weight}`).join(',');
}

/** Parses `name:weight,...`. Throws a RangeError naming the bad entry. */
export function parseOsMix(text: string): OsMixEntry[] {
  const entries: OsMixEntry[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^([a-z-]+):(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new RangeError(`"${part}" is not NAME:WEIGHT (e.g. windows:60)`);
    const name = m[1]!;
    if (!isOsName(name)) throw new RangeError(`unknown OS "${name}" (one of ${OS_NAMES.join(', ')})`);
    if (entries.some((e) => e.name === name)) throw new RangeError(`"${name}" is given twice`);
    entries.push({ name, weight: Number(m[2]) });
  }
  if (!entries.some((e) => e.weight > 0)) throw new RangeError('at least one weight must be above 0');
  return entries;
}

/**
 * How many of `n` agents get each OS: weights normalised, floors handed out first, then the
 * largest remainders (ties to the earlier entry). The counts always add up to `n`.
 */
export function apportion(mix: readonly OsMixEntry[], n: number): Map<OsName, number> {
  const total = mix.reduce((sum, e) => sum + e.weight, 0);
  const exact = mix.map((e) => (n * e.weight) / total);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, rem: x - Math.floor(x) })).sort((a, b) => b.rem - a.rem || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    counts[i]! += 1;
    left--;
  }
  return new Map(mix.map((e, i) => [e.name, counts[i]!]));
}

/** The OS names of `n` agents, in the exact proportions of apportion(), in seeded random order. */
export function assignOs(mix: readonly OsMixEntry[], n: number, random: Random): OsName[] {
  const names: OsName[] = [];
  for (const [name, count] of apportion(mix, n)) for (let i = 0; i < count; i++) names.push(name);
  return shuffle(names, random);
}

/** The profile of an OS name (a fresh copy the caller may keep). */
export function osProfile(name: OsName): AgentOs {
  return { ...OS_PROFILES[name] };
}

/** Which `--os-mix` name an agent's OS facts correspond to ('unknown' if none fits). */
export function osNameOf(os: AgentOs): OsName {
  switch (os.family) {
    case OsFamily.OS_FAMILY_LINUX:
      return 'linux';
    case OsFamily.OS_FAMILY_MACOS:
      return 'macos';
    case OsFamily.OS_FAMILY_WINDOWS:
      if (os.productType !== ProductType.PRODUCT_TYPE_SERVER) return 'windows';
      if (os.cloudProvider) return 'cloud-server';
      return os.multiSession ? 'terminal-server' : 'windows-server';
    default:
      return 'unknown';
  }
}
