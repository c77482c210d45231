/**
 * The fleet plan: who the N agents are (reused from the state file first, new ones after),
 * which OS each reports, which are non-persistent, when each connects and which uninstall
 * when — all drawn from the run's seed — and how they are split over the processes.
 */
import type { AgentState } from './agent.ts';
import type { AgentPlan } from './fleet.ts';
import type { SimOptions } from './options.ts';
import { assignOs, osNameOf, osProfile } from './os-mix.ts';
import { deriveRandom, percentOf, sampleIndices } from './prng.ts';
import { bump, type Tally } from './stats.ts';

/** Independent random streams of one seed. */
const STREAM = { os: 1, nonPersistent: 2, uninstallWho: 3, uninstallWhen: 4 } as const;

/** Uninstalls happen between these fractions of the run. */
const UNINSTALL_WINDOW = [0.1, 0.9] as const;

/** The whole fleet as planned by the parent process. */
export interface FleetPlan {
  /** The `--agents` agents, in fleet order. */
  plans: AgentPlan[];
  /** State-file agents beyond `--agents`: not run, saved back unchanged. */
  extras: AgentState[];
  /** Agents taken from the state file (they reconnect with their credential). */
  reused: number;
  /** Agents created for this run (they enroll with the token). */
  created: number;
  /** Agents by OS name. */
  osCounts: Tally;
  nonPersistent: number;
  uninstalling: number;
}

/**
 * Plans the fleet for `options`, reusing `loaded` agents (from the state file) first. New
 * client ids are `sim-<runId>-<n>`, unique per run so that runs never collide.
 */
export function buildPlan(options: SimOptions, loaded: readonly AgentState[], runId: string): FleetPlan {
  const n = options.agents;
  const reuse = loaded.slice(0, n);
  const created = n - reuse.length;
  const osNames = assignOs(options.osMix, created, deriveRandom(options.seed, STREAM.os));
  const nonPersistent = new Set(sampleIndices(created, percentOf(created, options.nonPersistentPercent), deriveRandom(options.seed, STREAM.nonPersistent)));
  const states: AgentState[] = reuse.map((s) => ({ ...s, os: { ...s.os } }));
  for (let i = 0; i < created; i++) {
    const clientId = `sim-${runId}-${reuse.length + i}`;
    states.push({
      clientId,
      tenantId: options.tenant,
      lastAckedSeq: 0,
      os: osProfile(osNames[i]!),
      hostname: `${osNames[i]}-${runId}-${reuse.length + i}`,
      nonPersistent: nonPersistent.has(i),
    });
  }

  const uninstallAt = new Map<number, number>();
  const whenRandom = deriveRandom(options.seed, STREAM.uninstallWhen);
  const [from, to] = UNINSTALL_WINDOW;
  for (const i of sampleIndices(n, percentOf(n, options.uninstallPercent), deriveRandom(options.seed, STREAM.uninstallWho))) {
    uninstallAt.set(i, Math.round(options.durationMs * (from + (to - from) * whenRandom())));
  }

  const ips = options.sourceIps;
  const osCounts: Tally = {};
  const plans = states.map((state, index): AgentPlan => {
    bump(osCounts, osNameOf(state.os));
    const plan: AgentPlan = {
      index,
      state,
      connectAtMs: options.rampMs > 0 ? Math.floor((index * options.rampMs) / n) : 0,
      uninstallAtMs: uninstallAt.get(index) ?? -1,
    };
    if (ips.length > 0) plan.localAddress = ips[index % ips.length]!;
    return plan;
  });
  return {
    plans,
    extras: loaded.slice(n),
    reused: reuse.length,
    created,
    osCounts,
    nonPersistent: states.filter((s) => s.nonPersistent).length,
    uninstalling: uninstallAt.size,
  };
}

/** Splits the plan round robin over `procs` processes, so every process ramps at the same pace. */
export function splitPlan(plans: readonly AgentPlan[], procs: number): AgentPlan[][] {
  const parts: AgentPlan[][] = Array.from({ length: procs }, () => []);
  plans.forEach((p, i) => parts[i % procs]!.push(p));
  return parts;
}
