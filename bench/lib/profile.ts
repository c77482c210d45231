/**
 * Summarises V8 CPU profiles (the .cpuprofile format of `node --cpu-prof` and the inspector's
 * Profiler domain): the functions with the most self time, and self time by module (a package
 * under node_modules, a file of src/, node internals), in percent of the non-idle samples.
 */
import { relative } from 'node:path';
import { ROOT } from './gateway.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Which process and window (e.g. gateway during boot). */
  process: string;
  window: string;
  file: string;
  totalMs: number;
  idleMs: number;
  gcMs: number;
  top: { fn: string; where: string; selfMs: number; pct: number }[];
  byModule: { module: string; selfMs: number; pct: number }[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function moduleOf(url: string): string {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node:internals';
  const path = url.replace(/^file:\/\//, '');
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (nm) return nm[1]!;
  const rel = relative(ROOT, path);
  return rel.startsWith('..') ? path : rel;
}

export function summariseProfile(profile: unknown, meta: { process: string; window: string; file: string }, topN = 15): ProfileSummary {
  const p = profile as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  }
  let total = 0;
  let idle = 0;
  let gc = 0;
  const fns = new Map<string, { fn: string; where: string; selfMs: number }>();
  const mods = new Map<string, number>();
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n) continue;
    total += ms;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += ms;
      continue;
    }
    if (name === '(garbage collector)') gc += ms;
    const where = SPECIAL.has(name) ? '' : `${moduleOf(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    const key = `${name}@${where}`;
    const e = fns.get(key) ?? { fn: name, where, selfMs: 0 };
    e.selfMs += ms;
    fns.set(key, e);
    const mod = SPECIAL.has(name) ? name : moduleOf(n.callFrame.url);
    mods.set(mod, (mods.get(mod) ?? 0) + ms);
  }
  const busy = Math.max(1e-9, total - idle);
  const pct = (ms: number) => Math.round((ms / busy) * 1000) / 10;
  const r1 = (ms: number) => Math.round(ms);
  return {
    ...meta,
    file: relative(ROOT, meta.file),
    totalMs: r1(total),
    idleMs: r1(idle),
    gcMs: r1(gc),
    top: [...fns.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, topN).map((e) => ({ ...e, selfMs: r1(e.selfMs), pct: pct(e.selfMs) })),
    byModule: [...mods].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([module, ms]) => ({ module, selfMs: r1(ms), pct: pct(ms) })),
  };
}
